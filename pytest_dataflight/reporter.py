"""The pytest side of the report: collects facts, writes the file, prints the headline.

Modelled on pytest's ``junitxml.py``: :class:`DataflightReporter` is created
and registered only on the controller, fed by ``pytest_runtest_logreport``
keyed on nodeid, written in ``pytest_sessionfinish`` and announced in
``pytest_terminal_summary``. The facts it reads come from
:class:`~pytest_dataflight.report_facts.ContractFacts`, on every process.

Runs that end before a session exists (a usage error in ``pytest_configure``)
get their report from ``pytest_unconfigure``, the one hook pytest still calls.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from . import report as rpt
from .redaction import declare_env_secrets, masker_for
from .report_facts import (
    COLLECTED_DIR_KEY,
    CONTRACT_PROP,
    EVIDENCE_PROP,
    UNEVALUATED_PROP,
    WARNED_PROP,
    ContractFacts,
    contract_json,
    idle_consumers,
    longrepr_text,
    message_of,
)
from .settings import DEFAULT_REPORT, OPTIONS, TARGETS, parse_run_date
from .state import settings_key, usage_error_key

REPORT_S3_HELP = (
    "also upload the JSON report to s3://BUCKET/KEY (live target only; "
    "{run_date} and {target} in KEY are filled in)."
)
REPORT_S3_ENV = "DATAFLIGHT_REPORT_S3"
# Runs that only show information: they must not replace the last real report.
_INFORMATIONAL = ("collectonly", "showfixtures", "show_fixtures_per_test", "setuponly", "setupplan")
# Rows of the terminal table before it shows only the contracts that did not pass.
MAX_TABLE_ROWS = 40
PACKAGES = (
    "pytest",
    "pluggy",
    "pytest-dataflight",
    "pytest-xdist",
    "pytest-json-report",
    "boto3",
    "arcticdb",
    "pandas",
    "moto",
    "exchange_calendars",
)


class DataflightReporter:
    """Builds and writes the report; only on the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        self._t0 = time.monotonic()
        self.session: pytest.Session | None = None
        self.tests: dict[str, rpt.TestFacts] = {}
        self.collected: list[rpt.Collected] | None = None
        self.deselected = 0
        self.idle_consumers: set[str] = set()
        self.collection_errors: list[tuple[str, str]] = []
        self.interrupted: str | None = None
        self.stop_reason: str | None = None
        self.internal_error: str | None = None
        self.usage_error: str | None = None
        self.report: dict[str, Any] | None = None
        self.path: Path | None = None
        self.write_problem: str | None = None
        self._collected_dir: str | None = None

    # --- settings, with raw fallbacks for runs whose settings never resolved ---

    def _raw(self, dest: str) -> str | None:
        spec = next(s for s in OPTIONS if s.dest == dest)
        values: list[Any] = [self.config.getoption(f"dataflight_{dest}", None)]
        values.append(os.environ.get(spec.env) or None)
        try:
            values.append(self.config.getini(f"dataflight_{dest}") or None)
        except (ValueError, KeyError):
            pass
        return next((str(v).strip() for v in values if v is not None), None)

    def _s3_url(self) -> str | None:
        values: list[Any] = [self.config.getoption("dataflight_report_s3", None)]
        values.append(os.environ.get(REPORT_S3_ENV) or None)
        try:
            values.append(self.config.getini("dataflight_report_s3") or None)
        except (ValueError, KeyError):
            pass
        return next((str(v).strip() for v in values if v), None)

    def _run_date_target(self) -> tuple[str | None, str | None]:
        settings = self.config.stash.get(settings_key, None)
        if settings is not None:
            run_date = settings.run_date.isoformat() if settings.run_date else None
            return run_date, settings.target
        raw_date, raw_target = self._raw("run_date"), self._raw("target")
        run_date = None
        if raw_date:
            try:
                run_date = parse_run_date(raw_date).isoformat()
            except ValueError:
                pass
        target = raw_target.lower() if raw_target and raw_target.lower() in TARGETS else None
        return run_date, target

    def _report_path(self) -> Path:
        settings = self.config.stash.get(settings_key, None)
        name = settings.report if settings is not None else (self._raw("report") or DEFAULT_REPORT)
        # Relative to where pytest was started, whatever a test did to the cwd.
        return Path(self.config.invocation_params.dir) / name

    def _usage_message(self) -> str | None:
        if self.usage_error:
            return self.usage_error
        message = self.config.stash.get(usage_error_key, None)
        if message:
            return message
        # A UsageError raised by pytest itself is in flight while pytest
        # finishes the session and unconfigures.
        exc = sys.exc_info()[1]
        return str(exc) if isinstance(exc, pytest.UsageError) else None

    def _wanted(self) -> bool:
        """Write a report for data runs only: not for `pytest tests/` of some
        other project that merely has the plugin installed."""
        if any(getattr(self.config.option, name, False) for name in _INFORMATIONAL):
            return False
        if self.usage_error or usage_error_key in self.config.stash:
            return True
        if self._s3_url():
            return True
        settings = self.config.stash.get(settings_key, None)
        if settings is not None:
            explicit_report = settings.sources.get("report") not in (None, "default")
            return bool(settings.target or settings.run_date or explicit_report)
        return any(self._raw(dest) for dest in ("target", "run_date", "report"))

    # --- hooks -------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session
        self.started, self._t0 = time.time(), time.monotonic()
        url = self._s3_url()
        if url:
            problem = self._s3_problem(url)
            if problem:
                self.usage_error = problem
                raise pytest.UsageError(problem)

    def _s3_problem(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
            return f"invalid --dataflight-report-s3 {url!r}: expected s3://BUCKET/KEY"
        _, target = self._run_date_target()
        if target != "live":
            return (
                "--dataflight-report-s3 uploads reports of the live target only "
                f"(got target {target or 'unset'}): a mock report must never be read "
                "as a live one; add --target live or drop the upload"
            )
        return None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self._collected_dir is None:
            self._collected_dir = tempfile.mkdtemp(prefix="dataflight-collected-")
        node.workerinput[COLLECTED_DIR_KEY] = self._collected_dir

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self.collected = [
                rpt.Collected(item.nodeid, item.location[1], contract_json(item))
                for item in session.items
            ]

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)
        self.idle_consumers.update(idle_consumers(items))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        nodeid = report.nodeid or "<session>"
        # Under xdist every worker reports the same broken file.
        if report.failed and all(nodeid != seen for seen, _ in self.collection_errors):
            message = message_of(report) or "collection error"
            # The exception ("SyntaxError: ...") is the last line; put it first.
            lines = message.splitlines()
            if len(lines) > 1:
                message = "\n".join([lines[-1], *lines[:-1]])
            self.collection_errors.append((nodeid, message))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None:
            test = self.tests[report.nodeid] = rpt.TestFacts(report.nodeid, report.location[1])
        for key, value in report.user_properties:
            if key == CONTRACT_PROP and isinstance(value, dict):
                test.contract = value
            elif key == EVIDENCE_PROP and isinstance(value, dict):
                test.evidence = {**(test.evidence or {}), **value}
            elif key == UNEVALUATED_PROP:
                test.unevaluated = str(value)
            elif key == WARNED_PROP and isinstance(value, dict):
                test.warned = str(value.get("message") or "warn contract did not hold")
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        crash = getattr(report.longrepr, "reprcrash", None)
        test.phases[report.when or "???"] = rpt.Phase(
            when=report.when or "???",
            outcome=report.outcome,
            category=str(category),
            duration=float(report.duration or 0.0),
            message=message_of(report),
            crash=(
                {"path": str(crash.path), "lineno": crash.lineno, "message": str(crash.message)}
                if crash is not None
                else None
            ),
            longrepr=longrepr_text(report),
        )

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        value = excinfo.value
        if isinstance(value, pytest.Session.Interrupted):
            self.stop_reason = str(value)  # e.g. "1 error during collection"
        elif isinstance(value, pytest.exit.Exception):
            self.stop_reason = f"pytest.exit(): {value.msg}"
        else:
            # plugin.py turns SIGTERM into KeyboardInterrupt("SIGTERM").
            self.interrupted = "SIGTERM" if str(value) == "SIGTERM" else "SIGINT"

    def pytest_internalerror(
        self, excrepr: Any, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> None:
        if self.internal_error is None:
            self.internal_error = f"{type(excinfo.value).__name__}: {excinfo.value}"

    # trylast: after the other plugins' sessionfinish (session fixtures torn down).
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.session = session
        if session.shouldfail:
            self.stop_reason = self.stop_reason or str(session.shouldfail)
        elif session.shouldstop:
            self.stop_reason = self.stop_reason or str(session.shouldstop)
        if self._wanted():
            self._finish(int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.report is None:
            return
        tr = terminalreporter
        entries = self.report["contracts"]
        tr.write_sep("-", f"dataflight: {len(entries)} contracts, status {self.report['status']}")
        rows = entries
        if len(entries) > MAX_TABLE_ROWS:
            rows = [e for e in entries if e["outcome"] != "passed"]
        width = max([len("contract"), *(len(e["contract"]) for e in rows)])
        tr.write_line(f"{'contract':<{width}}  {'outcome':<8}  {'duration':>9}  consumers")
        for e in rows:
            consumers = ", ".join(e["consumers"]) or "-"
            name, outcome, duration = e["contract"], e["outcome"], e["duration_s"]
            line = f"{name:<{width}}  {outcome:<8}  {duration:>8.2f}s  {consumers}"
            bad = e["outcome"] in ("failed", "error", "not_run") and e["severity"] == "error"
            tr.write_line(line, red=bad, yellow=e["outcome"] == "warned")
            if e["outcome"] == "warned" and e.get("message"):
                # Warned contracts get no failure section above: say why here.
                tr.write_line(f"    {str(e['message']).splitlines()[0][:200]}", yellow=True)
        if len(rows) < len(entries):
            tr.write_line(f"({len(entries) - len(rows)} passed contracts not shown)")
        tr.write_line(f"dataflight report: {self.path}")
        if self.write_problem:
            tr.write_line(f"dataflight: {self.write_problem}", red=True)

    @pytest.hookimpl(trylast=True)  # the headline is the very last line pytest prints
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        try:
            if self.report is None:
                self._finish_without_session()
            elif (
                self.session is not None
                and int(self.session.exitstatus) != self.report["exit_code"]
            ):
                # Something after us changed the exit status (--max-warnings): say so.
                self._finish(int(self.session.exitstatus))
            if self.report is not None:
                self._print_headline()
        finally:
            if self._collected_dir is not None:
                shutil.rmtree(self._collected_dir, ignore_errors=True)
            if config.pluginmanager.is_registered(self):
                config.pluginmanager.unregister(self)

    # --- building and writing -------------------------------------------------

    def _finish_without_session(self) -> None:
        """Usage error, Ctrl-C or internal error before the session began."""
        usage = self._usage_message()
        if usage is not None:
            self.usage_error, exit_code = usage, int(pytest.ExitCode.USAGE_ERROR)
        elif self.interrupted is not None:
            exit_code = int(pytest.ExitCode.INTERRUPTED)
        elif self.internal_error is not None:
            exit_code = int(pytest.ExitCode.INTERNAL_ERROR)
        else:
            return  # --markers, --version and friends: nothing ran, nothing to say
        if self._wanted():
            self._finish(exit_code, upload=False)

    def _collected(self) -> list[rpt.Collected]:
        if self.collected is not None:
            return self.collected
        if self._collected_dir is not None:
            for path in sorted(Path(self._collected_dir).glob("*.json")):
                try:
                    rows = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                return [rpt.Collected(str(n), line, contract) for n, line, contract in rows]
        return []

    def _idle_consumers(self) -> set[str]:
        idle = set(self.idle_consumers)
        if self._collected_dir is not None:
            for path in Path(self._collected_dir).glob("*.idle"):
                try:
                    idle.update(json.loads(path.read_text()))
                except (OSError, ValueError):
                    continue
        return idle

    def _facts(self, exit_code: int) -> rpt.RunFacts:
        run_date, target = self._run_date_target()
        usage = self._usage_message() if exit_code == pytest.ExitCode.USAGE_ERROR else None
        return rpt.RunFacts(
            exit_code=exit_code,
            started_at=self.started,
            duration_s=time.monotonic() - self._t0,
            run_date=run_date,
            target=target,
            tool_version=_version("pytest-dataflight"),
            root=str(self.config.rootpath),
            environment=_environment(self.config),
            collected=self._collected(),
            deselected=self.deselected,
            idle_consumers=self._idle_consumers(),
            tests=list(self.tests.values()),
            collection_errors=list(self.collection_errors),
            usage_error=usage or self.usage_error,
            internal_error=self.internal_error,
            interrupted=self.interrupted,
            stop_reason=self.stop_reason,
        )

    def _build(self, exit_code: int) -> dict[str, Any]:
        # Not left to the redactor alone: the report must be masked even if it is off.
        declare_env_secrets(self.config)
        mask = masker_for(self.config).mask
        try:
            return rpt.build_report(self._facts(exit_code), mask)
        except Exception as exc:
            # A bug here must still leave a valid report that says so.
            self.internal_error = f"building the report failed: {type(exc).__name__}: {exc}"
            if self.session is not None:
                self.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            facts = rpt.RunFacts(
                exit_code=int(pytest.ExitCode.INTERNAL_ERROR),
                started_at=self.started,
                duration_s=time.monotonic() - self._t0,
                internal_error=self.internal_error,
                tool_version=_version("pytest-dataflight"),
            )
            return rpt.build_report(facts, mask)

    def _finish(self, exit_code: int, upload: bool = True) -> None:
        self.path = self._report_path()
        self.report = self._build(exit_code)
        data = rpt.dumps(self.report)
        try:
            rpt.write_atomic(self.path, data)
        except OSError as exc:
            self.write_problem = f"could not write the report to {self.path}: {exc}"
            sys.stderr.write(f"dataflight: {self.write_problem}\n")
            # No report for the orchestrator: the run must not look successful,
            # and the headline (printed all the same) says why.
            self.internal_error = self.write_problem
            if self.session is not None:
                self.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            self.report = self._build(int(pytest.ExitCode.INTERNAL_ERROR))
            return
        url = self._s3_url()
        if upload and url and self.report["target"] == "live":
            self._upload(url, data)

    def _upload(self, url: str, data: bytes) -> None:
        from . import clients

        assert self.report is not None
        parts = urlsplit(url)
        key = parts.path.lstrip("/")
        key = key.replace("{run_date}", self.report["run_date"] or "unset")
        key = key.replace("{target}", self.report["target"] or "unset")
        settings = self.config.stash.get(settings_key, None)
        region = settings.region if settings is not None else "us-east-1"
        try:
            client = clients.make_client("s3", clients.s3_endpoint_from_env(os.environ), region)
            client.put_object(
                Bucket=parts.netloc, Key=key, Body=data, ContentType="application/json"
            )
        except Exception as exc:
            # The orchestrator would read a stale report: fail the run instead.
            self.internal_error = f"report upload to s3://{parts.netloc}/{key} failed: {exc}"
            if self.session is not None:
                self.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            self._finish(int(pytest.ExitCode.INTERNAL_ERROR), upload=False)
            sys.stderr.write(f"dataflight: {masker_for(self.config).mask(self.internal_error)}\n")

    def _print_headline(self) -> None:
        assert self.report is not None
        headline = self.report["headline"]
        passed = self.report["status"] == "passed"
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.ensure_newline()
            tr.write_line(headline, bold=True, green=passed, red=not passed)
        elif not self.config.pluginmanager.is_blocked("terminal"):
            # A usage error in pytest_configure stops pytest before its terminal exists.
            if self.path is not None:
                sys.stdout.write(f"dataflight report: {self.path}\n")
            sys.stdout.write(headline + "\n")
            sys.stdout.flush()


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "0.0.0"


def _environment(config: pytest.Config) -> dict[str, Any]:
    """Versions, in pytest-metadata's shape (what pytest-json-report puts there)."""
    packages = {}
    for dist in PACKAGES:
        try:
            packages[dist] = version(dist)
        except PackageNotFoundError:
            continue
    plugins = {
        str(dist.project_name): str(dist.version)
        for _, dist in config.pluginmanager.list_plugin_distinfo()
    }
    return {
        "Python": platform.python_version(),
        "Platform": platform.platform(),
        "Packages": packages,
        "Plugins": dict(sorted(plugins.items())),
    }


def register(config: pytest.Config) -> None:
    """Register the report plugins; called first thing in plugin.pytest_configure,
    so that a usage error raised later in it still gets its report."""
    config.pluginmanager.register(ContractFacts(config), "dataflight-facts")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(DataflightReporter(config), "dataflight-reporter")


def unregister(config: pytest.Config) -> None:
    for name in ("dataflight-facts", "dataflight-reporter"):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)
