"""pytest hooks of pytest-dataflight. Hooks only: the work lives in the other modules."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

import pytest

from . import clients, hookspecs, redaction, reporter
from .clients import Endpoints
from .contract import STAGES, ContractInfo, add_phase_markers
from .fixtures import (  # noqa: F401 - fixtures are found by pytest through this module
    api_urls,
    arctic,
    arctic_library,
    bucket,
    dataflight_endpoints,
    evidence,
    http,
    run_date,
    s3,
    secret,
    target,
    trading_calendar,
)
from .moto_server import FAKE_CREDENTIALS
from .settings import OPTIONS, Settings, SettingsError, missing_for_data_suite, resolve
from .state import RunState, get_state, settings_key, state_key, usage_error
from .targets import MockTarget, UnknownFault, check_faults, live_endpoints

_env_key = pytest.StashKey[pytest.MonkeyPatch]()
_sigterm_key = pytest.StashKey[Any]()

WORKERINPUT_KEY = "dataflight"
USAGE_ERROR_OUTPUT = "dataflight_usage_error"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dataflight", "data contracts (pytest-dataflight)")
    for spec in OPTIONS:
        # No argparse type=: a bad value must reach our own validation, so the
        # report is still written for it.
        help_text = f"{spec.help} Env: {spec.env}; ini: dataflight_{spec.dest}."
        group.addoption(spec.flag, dest=f"dataflight_{spec.dest}", default=None, help=help_text)
        parser.addini(f"dataflight_{spec.dest}", spec.help, type="string", default=None)
    group.addoption(
        "--mock-fault",
        dest="dataflight_faults",
        action="append",
        default=[],
        metavar="NAME",
        help="apply the suite's named fault to the mock world (repeatable; --target mock only).",
    )
    group.addoption(
        "--dataflight-report-s3",
        dest="dataflight_report_s3",
        default=None,
        metavar="S3_URL",
        help=f"{reporter.REPORT_S3_HELP} Env: {reporter.REPORT_S3_ENV}; ini: dataflight_report_s3.",
    )
    parser.addini("dataflight_report_s3", reporter.REPORT_S3_HELP, type="string", default=None)


def _is_data_suite(config: pytest.Config) -> bool:
    """A suite is a data suite when a loaded conftest implements our hooks."""
    hook = config.pluginmanager.hook
    return any(
        getattr(hook, name).get_hookimpls()
        for name in ("pytest_dataflight_seed", "pytest_dataflight_faults", "pytest_dataflight_apis")
    )


def _merged(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for result in results:
        merged.update(result or {})
    return merged


def _resolve(config: pytest.Config) -> Settings:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKERINPUT_KEY in workerinput:
        return Settings.from_json(workerinput[WORKERINPUT_KEY]["settings"])
    try:
        return resolve(
            cli=lambda dest: config.getoption(f"dataflight_{dest}"),
            ini=lambda dest: config.getini(f"dataflight_{dest}"),
            faults=config.getoption("dataflight_faults") or [],
            # --collect-only lists contracts without touching any store: no settings needed.
            data_suite=_is_data_suite(config) and not config.getoption("collectonly"),
        )
    except SettingsError as exc:
        raise usage_error(config, str(exc)) from None


def _check_report_path(config: pytest.Config, settings: Settings) -> None:
    """Find an unwritable report path now, not after the whole suite has run."""
    path = Path(config.invocation_params.dir) / settings.report
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        problem = None if os.access(path.parent, os.W_OK) else "its directory is not writable"
        if path.is_dir():
            problem = "it is a directory"
    except FileExistsError:
        problem = "a file stands where its directory should be"
    except OSError as exc:
        problem = f"{exc.strerror or exc}"
    if problem:
        raise usage_error(
            config,
            f"cannot write the report to {path}: {problem}; "
            "choose another with --dataflight-report PATH",
        )


def _start_mock(config: pytest.Config, settings: Settings) -> Callable[[], Endpoints]:
    def start() -> Endpoints:
        hook = config.pluginmanager.hook
        mock = MockTarget(
            settings,
            apis=_merged(hook.pytest_dataflight_apis()),
            seed=lambda world: hook.pytest_dataflight_seed(world=world),
            faults=_merged(hook.pytest_dataflight_faults()),
        )
        state = config.stash[state_key]
        state.mock = mock
        return mock.start()

    return start


def _start_live(config: pytest.Config, settings: Settings) -> Callable[[], Endpoints]:
    def start() -> Endpoints:
        apis = _merged(config.pluginmanager.hook.pytest_dataflight_apis())
        return live_endpoints(settings, apis, os.environ)

    return start


def _install_env(config: pytest.Config, settings: Settings) -> None:
    # Undone in pytest_unconfigure: nothing leaks into the rest of a pytester run.
    mp = pytest.MonkeyPatch()
    config.stash[_env_key] = mp
    for name, value in clients.arctic_env().items():
        mp.setenv(name, value)
    if settings.target == "mock":
        for name, value in FAKE_CREDENTIALS.items():
            if value:
                mp.setenv(name, value)
            else:
                mp.delenv(name, raising=False)
        # The mock world is a complete AWS environment, region included.
        mp.setenv("AWS_REGION", settings.region)
        mp.setenv("AWS_DEFAULT_REGION", settings.region)
        # Mock runs never read a developer's AWS profile or endpoint overrides.
        for name in (
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL_SSM",
        ):
            mp.delenv(name, raising=False)


def _install_sigterm(config: pytest.Config) -> None:
    # pytest handles SIGINT only; an orchestrator stops a task with SIGTERM.
    # Turning it into KeyboardInterrupt gives the same orderly end: fixtures
    # torn down, moto stopped, the report written, exit code 2.
    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    try:
        config.stash[_sigterm_key] = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (pytest embedded somewhere): leave it
        pass


@pytest.hookimpl(tryfirst=True)  # tryfirst: the report plugin needs settings in its configure
def pytest_configure(config: pytest.Config) -> None:
    # First: a usage error raised below must still find the reporter to write its report.
    reporter.register(config)
    redaction.register(config)
    config.addinivalue_line(
        "markers",
        "contract(name, *, stage, phases, consumers, severity): a data contract "
        "(use pytest_dataflight.contract to declare one)",
    )
    for stage in STAGES:
        config.addinivalue_line("markers", f"{stage}: a {stage} data contract")

    settings = _resolve(config)
    config.stash[settings_key] = settings
    state = RunState(settings=settings)
    config.stash[state_key] = state

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKERINPUT_KEY in workerinput:
        endpoints = workerinput[WORKERINPUT_KEY]["endpoints"]
        state.endpoints = Endpoints(**endpoints) if endpoints else None
        state.start_error = workerinput[WORKERINPUT_KEY].get("start_error")
    else:
        # --collect-only lists contracts without touching any store: no settings needed.
        listing = bool(config.getoption("collectonly"))
        if (_is_data_suite(config) or settings.target == "mock") and not listing:
            missing = missing_for_data_suite(settings)
            if missing:
                raise usage_error(config, "\n".join(missing))
        if settings.faults:
            try:
                check_faults(
                    settings.faults, _merged(config.pluginmanager.hook.pytest_dataflight_faults())
                )
            except UnknownFault as exc:
                raise usage_error(config, str(exc)) from None
        if settings.target is not None:
            _check_report_path(config, settings)
        if settings.target == "mock":
            state.start_endpoints = _start_mock(config, settings)
        elif settings.target == "live":
            state.start_endpoints = _start_live(config, settings)

    _install_env(config, settings)
    if workerinput is None:
        _install_sigterm(config)
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        config.pluginmanager.register(XdistController(), "dataflight-xdist")


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash.get(settings_key, None)
    return settings.header() if settings else None


@pytest.hookimpl(tryfirst=True)  # tryfirst: before -m deselects on these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    add_phase_markers(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Contracts declared without a conftest hook still make a data suite.
    config = session.config
    if config.getoption("collectonly"):
        return
    if not any(ContractInfo.from_item(item) for item in session.items):
        return
    missing = missing_for_data_suite(config.stash[settings_key])
    if missing:
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            # Only workers collect under xdist: the controller ends the run (see
            # XdistController.pytest_testnodedown) with the same usage error.
            workeroutput[USAGE_ERROR_OUTPUT] = "\n".join(missing)
        raise usage_error(config, "\n".join(missing))
    state = config.stash[state_key]
    if state.start_endpoints is not None and state.endpoints is None:
        # Start the target now rather than inside the first contract's setup, so
        # contract durations measure contracts. A failure is kept in state and
        # each check that needs the target errors with it.
        with contextlib.suppress(Exception):
            state.get_endpoints()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    excinfo = call.excinfo
    if excinfo is not None and clients.is_no_answer(excinfo.value):
        # The store did not answer: the check could not be evaluated. Say so in
        # one line naming the endpoint, and make every later check error at once.
        exc = excinfo.value
        message = f"{type(exc).__name__}: {exc}"
        state = item.config.stash.get(state_key, None)
        health = state.health if state is not None else None
        if health is not None and not isinstance(exc, clients.StoreUnreachable):
            # A raw connection error mid-check: the endpoint stopped answering.
            if health.problem is None:
                health.problem = f"S3 endpoint {health.endpoint} stopped answering: {message}"
            message = f"StoreUnreachable: {health.problem}"
        report.longrepr = message
        report.user_properties.append(("dataflight_unevaluated", message))
    return report


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
    reporter.unregister(config)


class XdistController:
    """Registered only when pytest-xdist is installed, on the controller.

    The mock world is started and seeded once, here, and its address handed
    to each worker, so -n N seeds once rather than N times.
    """

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        config: pytest.Config = node.config
        state: RunState = get_state(config)
        settings = state.settings
        payload: dict[str, Any] = {"settings": settings.to_json()}
        ep = None
        if state.start_endpoints is not None and state.start_error is None:
            try:
                ep = state.get_endpoints()
            except Exception:
                # As in a serial run, each check that needs the target errors with
                # the reason (a broken seed, say), instead of an INTERNALERROR here.
                pass
        payload["start_error"] = state.start_error
        payload["endpoints"] = dataclasses.asdict(ep) if ep is not None else None
        node.workerinput[WORKERINPUT_KEY] = payload

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        message = getattr(node, "workeroutput", {}).get(USAGE_ERROR_OUTPUT)
        if message:
            raise usage_error(node.config, message)
