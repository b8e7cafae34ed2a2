"""The pytest side of the report: gathers facts, writes the file, prints the headline.

Modelled on pytest's ``junitxml.py``: one :class:`DataflightReporter`, built
in ``pytest_configure`` from already-resolved settings, only on the
controller, kept under :data:`reporter_key`, fed by
``pytest_runtest_logreport`` keyed on nodeid, written in
``pytest_sessionfinish``, announced in ``pytest_terminal_summary`` and
unregistered through the same key. It never reads an option: everything it
needs is in :class:`~pytest_dataflight.run.settings.Settings`.

Runs that end before a session exists (a usage error in ``pytest_configure``)
get their report from ``pytest_unconfigure``, the one hook pytest still calls.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..run.contract import Severity, consumers_of, contract_json
from ..run.distributed import COLLECTED, IDLE
from ..run.policy import WaiverState, policy_report, waiver_report
from ..run.settings import Settings
from ..run.state import state_key, usage_error_key
from . import build as rpt
from .outcome import ConsumerState, Outcome, Status, TestFacts
from .redaction import declare_env_secrets, masker_for
from .summary import render as render_summary
from .verdicts import message_of, record

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
    """Gathers the run's facts and builds, writes and announces its report."""

    def __init__(
        self, config: pytest.Config, settings: Settings, data_run: bool, informational: bool = False
    ) -> None:
        self.config = config
        self.settings = settings
        # Write a report for data runs (and usage errors) only: not for `pytest
        # tests/` of some other project that merely has the plugin installed, and
        # never for --help, --markers, --fixtures or --collect-only (their usage
        # errors included): they check nothing, so they must not replace a report.
        self.data_run = data_run
        self.informational = informational
        self.path = Path(config.invocation_params.dir) / settings.report
        self.started, self._t0 = time.time(), time.monotonic()
        self.session: pytest.Session | None = None
        self.tests: dict[str, rpt.TestFacts] = {}
        self.collected: list[rpt.Collected] = []
        self.deselected = 0
        self.idle_consumers: set[str] = set()
        self.collection_errors: list[tuple[str, str]] = []
        self.interrupted: str | None = None
        self.stop_reason: str | None = None
        self.internal_error: str | None = None
        self.report: dict[str, Any] | None = None
        self.write_problem: str | None = None

    def _usage_message(self) -> str | None:
        message = self.config.stash.get(usage_error_key, None)
        if message:
            return message
        # A UsageError raised by pytest itself is in flight while pytest
        # finishes the session and unconfigures.
        exc = sys.exc_info()[1]
        return str(exc) if isinstance(exc, pytest.UsageError) else None

    def _wanted(self) -> bool:
        if self.informational:
            return False
        return self.data_run or self._usage_message() is not None

    # --- gathering facts -----------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session
        self.started, self._t0 = time.time(), time.monotonic()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self.collected = [
                rpt.Collected(item.nodeid, item.location[1], contract_json(item))
                for item in session.items
            ]

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)
        self.idle_consumers.update(consumers_of(items))

    def add_worker_facts(self, facts: Mapping[str, Any]) -> None:
        """What an xdist worker collected (every worker collects the same items)."""
        rows = facts.get(COLLECTED)
        if rows and (not self.collected or self.collected[0].contract is None):
            self.collected = [rpt.Collected(str(n), line, c) for n, line, c in rows]
        self.idle_consumers.update(facts.get(IDLE) or ())

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
            test = self.tests[report.nodeid] = TestFacts(report.nodeid, report.location[1])
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        record(test, report, str(category))

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

    # --- publishing ----------------------------------------------------------

    def publish_interrupted(self, signal_name: str) -> None:
        """Write the report of a run stopped by ``signal_name``, at once (from a signal handler)."""
        self.interrupted = signal_name
        if self._wanted():
            try:
                self._publish(int(pytest.ExitCode.INTERRUPTED))
            except Exception:  # the orderly end still writes it
                pass

    # trylast: after the other plugins' sessionfinish (session fixtures torn down).
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.session = session
        if session.shouldfail or session.shouldstop:
            self.stop_reason = self.stop_reason or str(session.shouldfail or session.shouldstop)
        if self._wanted():
            self._publish(int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.report is not None:
            _write_table(terminalreporter, self.report["contracts"], self.report["status"])
            _write_consumers(terminalreporter, self.report["consumers"])
            _write_waivers(terminalreporter, self.report["waivers"])
            terminalreporter.write_line(f"dataflight report: {self.path}")
            if self.write_problem:
                terminalreporter.write_line(f"dataflight: {self.write_problem}", red=True)

    @pytest.hookimpl(trylast=True)  # the headline is the very last line pytest prints
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        try:
            exit_code = self._final_exit_code()
            if exit_code is not None and self._wanted():
                self._publish(exit_code)
            if self.report is not None:
                self._write_summaries()
                self._print_headline()
        finally:
            unregister(config)

    def _final_exit_code(self) -> int | None:
        """The exit code to (re)publish with now, or None when the report stands."""
        if self.report is not None:
            # Something after our sessionfinish changed the exit status
            # (--max-warnings, say): the report must say so.
            status = int(self.session.exitstatus) if self.session is not None else None
            return status if status is not None and status != self.report["exit_code"] else None
        # No session: a usage error, Ctrl-C or internal error before it began.
        if self._usage_message() is not None:
            return int(pytest.ExitCode.USAGE_ERROR)
        if self.interrupted is not None:
            return int(pytest.ExitCode.INTERRUPTED)
        if self.internal_error is not None:
            return int(pytest.ExitCode.INTERNAL_ERROR)
        return None  # --markers, --version and friends: nothing ran, nothing to say

    def _facts(self, exit_code: int) -> rpt.RunFacts:
        usage = self._usage_message() if exit_code == pytest.ExitCode.USAGE_ERROR else None
        run_date = self.settings.run_date
        return rpt.RunFacts(
            exit_code=exit_code,
            started_at=self.started,
            duration_s=time.monotonic() - self._t0,
            run_date=run_date.isoformat() if run_date else None,
            target=self.settings.target,
            run_id=self.settings.run_id,
            tool_version=_version("pytest-dataflight"),
            root=str(self.config.rootpath),
            environment=_environment(self.config),
            collected=list(self.collected),
            deselected=self.deselected,
            idle_consumers=set(self.idle_consumers),
            tests=list(self.tests.values()),
            collection_errors=list(self.collection_errors),
            usage_error=usage,
            internal_error=self.internal_error,
            interrupted=self.interrupted,
            stop_reason=self.stop_reason,
            **self._policy_facts(),
        )

    def _policy_facts(self) -> dict[str, Any]:
        state = self.config.stash.get(state_key, None)
        policy = state.policy if state is not None else None
        if policy is None:
            return {}
        defaults = {
            str(c.contract["contract"]): dict(c.contract.get("thresholds") or {})
            for c in self.collected
            if c.contract
        }
        counts: dict[int, int] = {}
        for test in self.tests.values():
            for index, count in test.waived.items():
                counts[index] = counts.get(index, 0) + count
        return {
            "policy": policy_report(policy, defaults),
            "waivers": waiver_report(policy, self.settings.run_date, counts),
        }

    def _build(self, exit_code: int) -> dict[str, Any]:
        # Not left to the redactor alone: the report must be masked even if it is off.
        declare_env_secrets(self.config)
        mask = masker_for(self.config).mask
        try:
            report = rpt.build_report(self._facts(exit_code), mask)
            rpt.dumps(report)  # what cannot be serialised must fail here, not in the write
            return report
        except Exception as exc:
            # A bug here must still leave a valid report that says so.
            self._internal_error(f"building the report failed: {type(exc).__name__}: {exc}")
            facts = self._facts(int(pytest.ExitCode.INTERNAL_ERROR))
            bare: dict[str, Any] = {"tests": [], "collected": [], "collection_errors": []}
            return rpt.build_report(rpt.RunFacts(**{**vars(facts), **bare}), mask)

    def _internal_error(self, message: str) -> None:
        """The one place a report problem turns the run into an internal error."""
        self.internal_error = message
        if self.session is not None:
            self.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _publish(self, exit_code: int) -> None:
        """Build, write and upload the report; a failure of either becomes an
        internal error, recorded in a rebuilt report (written once more, not uploaded)."""
        self.report = self._build(exit_code)
        data = rpt.dumps(self.report)
        try:
            rpt.write_atomic(self.path, data)
        except OSError as exc:
            # No report for the orchestrator: the run must not look successful,
            # and the headline (printed all the same) says why.
            self.write_problem = f"could not write the report to {self.path}: {exc}"
            sys.stderr.write(f"dataflight: {self.write_problem}\n")
            self._internal_error(self.write_problem)
            self.report = self._build(int(pytest.ExitCode.INTERNAL_ERROR))
            return
        problem = self._upload(data) if self.settings.target == "live" else None
        if problem is not None:
            # The orchestrator would read a stale report: fail the run instead.
            self._internal_error(problem)
            self.report = self._build(int(pytest.ExitCode.INTERNAL_ERROR))
            rpt.write_atomic(self.path, rpt.dumps(self.report))
            sys.stderr.write(f"dataflight: {masker_for(self.config).mask(problem)}\n")

    def _upload(self, data: bytes) -> str | None:
        """Upload to ``settings.report_s3``; the problem, if it failed."""
        if not self.settings.report_s3 or self._usage_message() is not None:
            return None
        from ..stores import clients

        assert self.report is not None
        parts = urlsplit(self.settings.report_s3)
        key = parts.path.lstrip("/")
        key = key.replace("{run_date}", self.report["run_date"] or "unset")
        key = key.replace("{target}", self.report["target"] or "unset")
        try:
            client = clients.make_client(
                "s3", clients.s3_endpoint_from_env(os.environ), self.settings.region
            )
            client.put_object(
                Bucket=parts.netloc, Key=key, Body=data, ContentType="application/json"
            )
        except Exception as exc:
            return f"report upload to s3://{parts.netloc}/{key} failed: {exc}"
        return None

    def _write_summaries(self) -> None:
        """The report as Markdown, once, at the very end: to --dataflight-summary
        (replaced) and to $GITHUB_STEP_SUMMARY (appended, as GitHub expects)."""
        assert self.report is not None
        text = render_summary(self.report)
        targets = [(self.settings.summary, False), (self.settings.github_summary, True)]
        for path, append in targets:
            if not path:
                continue
            try:
                if append:
                    with open(path, "a", encoding="utf-8") as fh:
                        fh.write(text)
                else:
                    rpt.write_atomic(Path(self.config.invocation_params.dir) / path, text.encode())
            except OSError as exc:
                # The report is what the orchestrator reads; a summary is for people.
                sys.stderr.write(f"dataflight: could not write the summary to {path}: {exc}\n")

    def _print_headline(self) -> None:
        assert self.report is not None
        headline = self.report["headline"]
        passed = Status(self.report["status"]) is Status.PASSED
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.ensure_newline()
            tr.write_line(headline, bold=True, green=passed, red=not passed)
        elif not self.config.pluginmanager.is_blocked("terminal"):
            # A usage error in pytest_configure stops pytest before its terminal exists.
            sys.stdout.write(f"dataflight report: {self.path}\n")
            sys.stdout.write(headline + "\n")
            sys.stdout.flush()


def _write_table(tr: pytest.TerminalReporter, entries: list[dict[str, Any]], status: str) -> None:
    tr.write_sep("-", f"dataflight: {len(entries)} contracts, status {status}")
    rows = entries
    if len(entries) > MAX_TABLE_ROWS:
        rows = [e for e in entries if Outcome(e["outcome"]) is not Outcome.PASSED]
    width = max([len("contract"), *(len(e["contract"]) for e in rows)])
    tr.write_line(f"{'contract':<{width}}  {'outcome':<8}  {'duration':>9}  consumers")
    for e in rows:
        consumers = ", ".join(e["consumers"]) or "-"
        name, outcome, duration = e["contract"], e["outcome"], e["duration_s"]
        line = f"{name:<{width}}  {outcome:<8}  {duration:>8.2f}s  {consumers}"
        outcome = Outcome(e["outcome"])
        bad = outcome.unsettled and e["severity"] == Severity.ERROR
        tr.write_line(line, red=bad, yellow=outcome is Outcome.WARNED)
        if outcome is Outcome.WARNED and e.get("message"):
            # Warned contracts get no failure section above: say why here.
            tr.write_line(f"    {str(e['message']).splitlines()[0][:200]}", yellow=True)
    if len(rows) < len(entries):
        tr.write_line(f"({len(entries) - len(rows)} passed contracts not shown)")


def _write_consumers(tr: pytest.TerminalReporter, consumers: Mapping[str, str]) -> None:
    """One line: may each consumer start? Only ``ok`` means somebody vouched."""
    if not consumers:
        return
    states = [(name, ConsumerState(state)) for name, state in consumers.items()]
    text = ", ".join(f"{name} {state}" for name, state in states)
    blocked = any(state is ConsumerState.BLOCKED for _, state in states)
    unchecked = any(state is ConsumerState.UNCHECKED for _, state in states)
    tr.write_line(f"consumers: {text}", red=blocked, yellow=unchecked and not blocked)


def _write_waivers(tr: pytest.TerminalReporter, waivers: list[Mapping[str, Any]]) -> None:
    """One line per waiver that did something or should have: applied, expired."""
    for waiver in waivers:
        state = WaiverState(waiver["state"])
        if state is WaiverState.UNUSED:
            continue
        subjects = ", ".join(waiver["subjects"])
        if state is WaiverState.APPLIED:
            tr.write_line(
                f"waiver applied: {waiver['contract']} {subjects} ({waiver['waived']} findings "
                f"waived, until {waiver['expires']}): {waiver['reason']}",
                yellow=True,
            )
        else:
            tr.write_line(
                f"waiver expired: {waiver['contract']} {subjects} (expired {waiver['expires']}, "
                "not applied): renew it with a new date or delete it",
                red=True,
            )


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


reporter_key = pytest.StashKey[DataflightReporter]()


def report_early_usage_error(config: pytest.Config, settings: Settings, message: str) -> None:
    """The report of a run that pytest will refuse before configuring it (exit 4)."""
    config.stash[usage_error_key] = message
    reporter = DataflightReporter(config, settings, data_run=True)
    reporter._publish(int(pytest.ExitCode.USAGE_ERROR))
    reporter._write_summaries()


def register(
    config: pytest.Config, settings: Settings, data_run: bool, informational: bool = False
) -> DataflightReporter:
    """Build and register the reporter; on the controller only (see plugin.pytest_configure)."""
    reporter = DataflightReporter(config, settings, data_run, informational)
    config.stash[reporter_key] = reporter
    config.pluginmanager.register(reporter, "dataflight-reporter")
    return reporter


def unregister(config: pytest.Config) -> None:
    reporter = config.stash.get(reporter_key, None)
    if reporter is not None:
        del config.stash[reporter_key]
        if config.pluginmanager.is_registered(reporter):
            config.pluginmanager.unregister(reporter)
