"""pytest hooks of pytest-dataflight. Hooks only: each step of a run is owned elsewhere.

The life of a run, in the order these hooks call the steps (see
docs/architecture.md):

1. ``pytest_addoption``: every option from one table (``options``).
2. ``pytest_configure``: settings resolved once (``options``,
   ``run.settings``); the one decision whether this is a data run; the
   masker (``report.redaction``) and, on the controller, the reporter
   (``report.reporter``) registered *before* any usage error is raised, so
   that even a usage error gets its report; then the target prepared
   (``run.live``, or ``mock.target`` imported for a mock run) and xdist
   wired (``run.distributed``).
3. ``pytest_collection_modifyitems`` / ``pytest_collection_finish``:
   contracts get their phase markers (``run.contract``); a collected
   contract makes a data suite; the target starts.
4. ``pytest_runtest_makereport``: each test's verdict (``report.verdicts``).
5. The reporter gathers facts, then builds, sizes, masks and writes the
   report (``report.build``, ``report.size``, ``stores.masking``) at session end.
6. ``pytest_unconfigure``: the mock world stopped, the environment restored.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import tempfile
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs, options
from .fixtures import (  # noqa: F401 - fixtures are found by pytest through this module
    _dataflight_policy_gate,
    api_urls,
    arctic,
    arctic_library,
    bucket,
    dataflight_endpoints,
    evidence,
    http,
    recent_rows,
    run_date,
    s3,
    secret,
    target,
    thresholds,
    trading_calendar,
    waivers,
)
from .report import catalog, redaction, reporter, verdicts
from .report.build import write_atomic
from .report.outcome import Outcome
from .run import distributed
from .run.contract import (
    STAGES,
    ContractInfo,
    add_phase_markers,
    apply_severities,
    declared_thresholds,
)
from .run.live import live_endpoints
from .run.policy import PolicyError
from .run.policy import check as check_policy
from .run.policy import parse as parse_policy
from .run.policy_source import PolicyMissing, read_policy
from .run.settings import Settings, missing_for_data_suite
from .run.state import RunState, settings_key, state_key, usage_error
from .stores import clients
from .stores.clients import Endpoints

_env_key = pytest.StashKey[pytest.MonkeyPatch]()
_sigterm_key = pytest.StashKey[Any]()

# Runs that only show information: nothing is checked, no report is written or
# replaced, whatever data options come with them. (--version never configures.)
_INFORMATIONAL = (
    "help",
    "markers",
    "collectonly",
    "showfixtures",
    "show_fixtures_per_test",
    "setuponly",
    "setupplan",
)
_SUITE_HOOKS = ("pytest_dataflight_seed", "pytest_dataflight_faults", "pytest_dataflight_apis")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, object, object]:
    """An option pytest does not know fails its parse after this hook, before any
    configure: the one moment a data run can still leave its report (exit 4)."""
    result = yield
    # After yield: the suite's conftests have added their options by now.
    namespace, unknown = parser.parse_known_and_unknown_args(args)
    flags = [arg for arg in unknown if str(arg).startswith("-")]
    listing = any(getattr(namespace, name, False) for name in _INFORMATIONAL)
    if flags and not listing and not distributed.is_worker(early_config):
        settings, _ = options.read_settings(early_config, data_suite=False, namespace=namespace)
        if _is_data_run(early_config, settings, []):
            message = f"unrecognized arguments: {' '.join(map(str, flags))}"
            reporter.report_early_usage_error(early_config, settings, message)
    return result


def pytest_configure(config: pytest.Config) -> None:
    _register_markers(config)
    settings, problems = _resolve(config)
    data_run = _is_data_run(config, settings, problems)
    config.stash[settings_key] = settings
    state = config.stash[state_key] = RunState(settings=settings, data_run=data_run)
    redaction.register(config)
    if not distributed.is_worker(config):
        # Before any usage error below: the reporter must be there to report it.
        reporter.register(config, settings, data_run, informational=_listing(config))
        # An informational run touches no store and writes no report: the data
        # options that come with it (a live target without a bucket) are not its problem.
        problems = [] if _listing(config) else problems or _run_problems(config, settings)
        if problems:
            raise usage_error(config, "\n".join(problems))
        if settings.policy and not _listing(config):
            _load_policy(config, state)
        state.start_endpoints = _starter(config, settings)
        _install_sigterm(config)
        if config.pluginmanager.hasplugin("xdist"):
            intake = config.stash[reporter.reporter_key].add_worker_facts
            config.pluginmanager.register(distributed.Controller(intake), "dataflight-xdist")
    else:
        distributed.adopt_target(config, state)
        distributed.adopt_policy(config, state)
        config.pluginmanager.register(distributed.WorkerFacts(config), "dataflight-worker")
    _install_env(config, settings)


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash.get(settings_key, None)
    return settings.header() if settings else None


@pytest.hookimpl(tryfirst=True)  # tryfirst: before -m deselects on these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    add_phase_markers(config, items)
    state = config.stash.get(state_key, None)
    if state is not None:
        # Every contract's thresholds, deselected ones included: a policy may name them.
        state.declared = declared_thresholds(items)
        if state.policy is not None:
            apply_severities(items, state.policy)


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    settings = config.stash[settings_key]
    if settings.catalog and not distributed.is_worker(config):
        _write_catalog(config, session.items, settings.catalog)
    if _listing(config) or not any(ContractInfo.from_item(item) for item in session.items):
        return
    # Contracts declared without a conftest hook still make a data suite.
    missing = missing_for_data_suite(config.stash[settings_key])
    # A broken schema is the suite's bug: a usage error now, not each contract "failed".
    missing += [problem for problem in [_schema_problem(session.items)] if problem]
    state = config.stash[state_key]
    if state.policy is not None:
        missing += check_policy(state.policy, state.declared)
    if missing:
        # Only workers collect under xdist: the controller ends the run with the same error.
        distributed.report_usage_error(config, "\n".join(missing))
        raise usage_error(config, "\n".join(missing))
    if state.start_endpoints is not None and state.endpoints is None:
        # Start the target now rather than inside the first contract's setup, so
        # contract durations measure contracts. A failure is kept in state and
        # each check that needs the target errors with it.
        with contextlib.suppress(Exception):
            state.get_endpoints()
    if state.unservable is not None:
        settings = state.settings
        message = (
            f"the {settings.target} target cannot serve run date {settings.run_date}: "
            f"{state.unservable}; choose a later run date"
        )
        distributed.report_usage_error(config, message)
        raise usage_error(config, message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    verdicts.decide(item, call, report)
    return report


@pytest.hookimpl(tryfirst=True)  # before the terminal's default status for a "passed" report
def pytest_report_teststatus(
    report: pytest.TestReport | pytest.CollectReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    if isinstance(report, pytest.TestReport) and verdicts.warned_in(report):
        return Outcome.WARNED.value, "W", ("WARNED", {"yellow": True})
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is not None and state.mock is not None:
        state.mock.stop()
    previous = config.stash.get(_sigterm_key, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
    mp = config.stash.get(_env_key, None)
    if mp is not None:
        mp.undo()
    redaction.unregister(config)


def _write_catalog(config: pytest.Config, items: list[pytest.Item], path: str) -> None:
    proven = catalog.faults_by_contract(_faults(config))
    out = Path(config.invocation_params.dir) / path
    entries = []
    for item in items:
        info = ContractInfo.from_item(item)
        if info is None:
            continue
        function = getattr(item, "function", None)
        entries.append(
            catalog.CatalogEntry(
                name=info.name,
                stage=info.stage,
                phases=info.phases,
                severity=info.severity,
                consumers=info.consumers,
                rule=(inspect.getdoc(function) or "") if function else "",
                nodeid=item.nodeid,
                schema=info.schema,
                schema_link=(
                    os.path.relpath(config.rootpath / info.schema, out.parent)
                    if info.schema
                    else None
                ),
                faults=tuple(proven.get(info.name, ())),
                thresholds=tuple((n, t.describe()) for n, t in info.thresholds.items()),
            )
        )
    problem = _schema_problem(items)
    if problem:
        raise usage_error(config, problem)
    for path, text in _declared_schemas(items).items():
        write_atomic(config.rootpath / path, text.encode("utf-8"))
    write_atomic(out, catalog.render(entries, title="Contract catalog").encode("utf-8"))


def _declared_schemas(items: list[pytest.Item]) -> dict[str, str]:
    """path -> published text of each ArtifactSchema the contracts declare; raises
    ValueError (naming the contract) for a broken one or two definitions of one path."""
    texts: dict[str, str] = {}
    for item in items:
        info = ContractInfo.from_item(item)
        if info is None or info.artifact_schema is None:
            continue
        schema = info.artifact_schema
        try:
            schema.check_schema()
            text = schema.published()
        except (TypeError, ValueError) as exc:  # not a JSON Schema; not JSON at all
            raise ValueError(f"contract {info.name!r}: {exc}") from None
        if texts.setdefault(schema.path, text) != text:
            raise ValueError(
                f"two different schemas declare the path {schema.path!r} "
                f"(contract {info.name!r}): give each artifact one definition"
            )
    return texts


def _schema_problem(items: list[pytest.Item]) -> str | None:
    try:
        _declared_schemas(items)
    except ValueError as exc:
        return str(exc)
    return None


# --- the steps of pytest_configure ------------------------------------------


def _register_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "contract(name, *, stage, phases, consumers, severity): a data contract "
        "(use pytest_dataflight.contract to declare one)",
    )
    for stage in STAGES:
        config.addinivalue_line("markers", f"{stage}: a {stage} data contract")


def _listing(config: pytest.Config) -> bool:
    return any(getattr(config.option, name, False) for name in _INFORMATIONAL)


def _has_suite_hooks(config: pytest.Config) -> bool:
    """A suite is a data suite when a loaded conftest implements our hooks."""
    hook = config.pluginmanager.hook
    return any(getattr(hook, name).get_hookimpls() for name in _SUITE_HOOKS)


def _resolve(config: pytest.Config) -> tuple[Settings, list[str]]:
    """Settings, resolved once: on a worker they come from the controller."""
    settings = distributed.worker_settings(config)
    if settings is not None:
        return settings, []
    # --collect-only lists contracts without touching any store: no settings needed.
    data_suite = _has_suite_hooks(config) and not _listing(config)
    return options.read_settings(config, data_suite=data_suite)


def _is_data_run(config: pytest.Config, settings: Settings, problems: list[str]) -> bool:
    """The one decision whether this is a data run: it gets a report and masked output.

    A run is a data run once it has a data suite, a target, a run date, an
    explicit report path or upload, or settings that failed to resolve (a data
    run gone wrong); an informational run (--collect-only, --fixtures) is not.
    """
    if _listing(config):
        return False
    explicit = {"target", "run_date", "report", "report_s3"} & {
        dest for dest, source in settings.sources.items() if source != "default"
    }
    return bool(problems or explicit or _has_suite_hooks(config))


def _run_problems(config: pytest.Config, settings: Settings) -> list[str]:
    """What valid settings still cannot run: missing ones, unknown faults, the report path."""
    if settings.target == "mock" and not _listing(config):
        missing = missing_for_data_suite(settings)
        if missing:
            return missing
    if settings.faults:
        # --mock-fault names faults of the mock world: only then is mock/ imported.
        from .mock.target import UnknownFault, check_faults

        try:
            check_faults(settings.faults, _faults(config))
        except UnknownFault as exc:
            return [str(exc)]
    if settings.target is not None:
        problem = _report_path_problem(config, settings)
        if problem:
            return [problem]
    return []


def _report_path_problem(config: pytest.Config, settings: Settings) -> str | None:
    """Find an unwritable report path now, not after the whole suite has run.

    Proven by creating and removing a file beside it, as the atomic write
    will: ``os.access`` says yes for root everywhere, procfs included.
    """
    path = Path(config.invocation_params.dir) / settings.report
    if path.is_dir():
        problem: str | None = "it is a directory"
    else:
        problem = _probe_directory(path.parent)
    if problem is None:
        return None
    return (
        f"cannot write the report to {path}: {problem}; "
        "choose another with --dataflight-report PATH"
    )


def _probe_directory(directory: Path) -> str | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".dataflight-probe-")
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        return "a file stands where its directory should be"
    except OSError as exc:
        return f"{exc.strerror or exc}"
    return None


def _merged(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for result in results:
        merged.update(result or {})
    return merged


def _faults(config: pytest.Config) -> dict[str, Any]:
    return _merged(config.pluginmanager.hook.pytest_dataflight_faults())


def _starter(config: pytest.Config, settings: Settings) -> Callable[[], Endpoints] | None:
    """How this run's target starts, on first use (None: no target)."""
    hook = config.pluginmanager.hook

    def start_mock() -> Endpoints:
        from .mock.target import MockTarget  # --target live never imports mock/

        mock = MockTarget(
            settings,
            apis=_merged(hook.pytest_dataflight_apis()),
            seed=lambda world: hook.pytest_dataflight_seed(world=world),
            faults=_faults(config),
        )
        config.stash[state_key].mock = mock
        return mock.start()

    def start_live() -> Endpoints:
        return live_endpoints(settings, _merged(hook.pytest_dataflight_apis()), os.environ)

    return {"mock": start_mock, "live": start_live}.get(settings.target or "")


def _load_policy(config: pytest.Config, state: RunState) -> None:
    """Read and parse the policy before anything runs: a missing or broken file is a
    usage error; one on S3 the store could not serve makes every contract an error."""
    source = state.settings.policy or ""
    base = Path(config.invocation_params.dir)
    try:
        data = read_policy(source, base, state.settings, os.environ)
        state.policy = parse_policy(data, source)
        state.policy_text = data.decode("utf-8")
    except (PolicyMissing, PolicyError) as exc:
        raise usage_error(config, str(exc)) from None
    except clients.StoreUnreachable as exc:
        state.policy_problem = str(exc)


def _install_env(config: pytest.Config, settings: Settings) -> None:
    # Undone in pytest_unconfigure: nothing leaks into the rest of a pytester run.
    mp = pytest.MonkeyPatch()
    config.stash[_env_key] = mp
    for name, value in clients.arctic_env().items():
        mp.setenv(name, value)
    if settings.target != "mock":
        return
    from .mock.moto_server import FAKE_CREDENTIALS

    for name, value in FAKE_CREDENTIALS.items():
        if value:
            mp.setenv(name, value)
        else:
            mp.delenv(name, raising=False)
    # The mock world is a complete AWS environment, region included.
    mp.setenv("AWS_REGION", settings.region)
    mp.setenv("AWS_DEFAULT_REGION", settings.region)
    # Mock runs never read a developer's AWS profile or endpoint overrides.
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SSM"):
        mp.delenv(name, raising=False)


def _install_sigterm(config: pytest.Config) -> None:
    # pytest handles SIGINT only; an orchestrator stops a task with SIGTERM.
    # Turning it into KeyboardInterrupt gives the same orderly end: fixtures
    # torn down, moto stopped, the report written, exit code 2.
    def on_sigterm(signum: int, frame: Any) -> None:
        report = config.stash.get(reporter.reporter_key, None)
        if report is not None:
            # ECS and Batch send SIGKILL 30 s after SIGTERM, and xdist may wait on a
            # busy worker for longer: the orchestrator gets a report now, which the
            # orderly end below then completes.
            report.publish_interrupted("SIGTERM")
        raise KeyboardInterrupt("SIGTERM")

    try:
        config.stash[_sigterm_key] = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (pytest embedded somewhere): leave it
        pass
