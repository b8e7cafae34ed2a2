"""Per-test facts for the report, gathered on every process (xdist workers included).

:class:`ContractFacts` puts what the controller's reporter needs into
``report.user_properties`` (which survives pytest-xdist's serialisation) and
applies the warn severity: a warn contract that does not hold is reported,
like an xfail, without failing the run.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from . import report as rpt
from .contract import ContractInfo

CONTRACT_PROP = "dataflight_contract"
EVIDENCE_PROP = "dataflight_evidence"
UNEVALUATED_PROP = "dataflight_unevaluated"
WARNED_PROP = "dataflight_warned"
COLLECTED_DIR_KEY = "dataflight_collected_dir"


def message_of(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The one message a report stands for: observed vs expected, skip reason, error."""
    for key, value in getattr(report, "user_properties", ()):
        if key == UNEVALUATED_PROP:
            return str(value)
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        # pytest.fail(msg) crashes as "Failed: msg"; the contract's words are msg.
        return str(crash.message).removeprefix("Failed: ")
    text = str(longrepr)
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if errors:
        return "\n".join(errors)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else text


def longrepr_text(report: pytest.TestReport) -> str | None:
    # Not report.longreprtext: under xdist it starts with the worker's name, and
    # the report must read the same however the run was distributed.
    return None if report.longrepr is None else str(report.longrepr)


def contract_json(item: pytest.Item) -> dict[str, Any] | None:
    """The contract's declaration; parametrized contracts are told apart by their id."""
    info = ContractInfo.from_item(item)
    if info is None:
        return None
    data = info.to_json()
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.id:
        data["contract"] = f"{data['contract']}[{callspec.id}]"
    return data


def _warned_in(report: pytest.TestReport) -> bool:
    return any(
        key == WARNED_PROP and isinstance(value, dict) and value.get("when") == report.when
        for key, value in report.user_properties
    )


class ContractFacts:
    """Per-test facts and the warn severity, on every process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.idle_consumers: set[str] = set()

    # tryfirst makes this the outermost wrapper: it sees the report after
    # plugin.py has marked checks the store did not answer.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        info = ContractInfo.from_item(item)
        if info is None:
            return report
        report.user_properties.append((CONTRACT_PROP, contract_json(item)))
        if info.severity == "warn" and report.failed:
            self._warn(info, report)
        return report

    @staticmethod
    def _warn(info: ContractInfo, report: pytest.TestReport) -> None:
        # A warn contract reports only: like xfail, its failure is not a failed
        # test, so the exit code, -x and --maxfail ignore it.
        message = message_of(report)
        report.user_properties.append((WARNED_PROP, {"when": report.when, "message": message}))
        report.sections.append(
            (f"dataflight: warn contract {info.name}", longrepr_text(report) or "")
        )
        if report.when == "setup":
            # "skipped", not "passed": a passed setup would make pytest run the test.
            path, lineno, _ = report.location
            first = (message or "").splitlines()[0] if message else ""
            report.outcome = "skipped"
            report.longrepr = (str(path), (lineno or 0) + 1, f"warn contract: {first}")
        else:
            report.outcome = "passed"
            report.longrepr = None

    @pytest.hookimpl(tryfirst=True)  # before the terminal's default status for a "passed" report
    def pytest_report_teststatus(
        self, report: pytest.TestReport | pytest.CollectReport, config: pytest.Config
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if isinstance(report, pytest.TestReport) and _warned_in(report):
            return "warned", "W", ("WARNED", {"yellow": True})
        return None

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.idle_consumers.update(idle_consumers(items))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # An xdist controller collects nothing itself: each worker tells it what
        # was collected (contracts that never ran still belong in the report),
        # and whose contracts were deselected.
        workerinput = getattr(self.config, "workerinput", None)
        if not workerinput or not workerinput.get(COLLECTED_DIR_KEY):
            return
        payload = [[item.nodeid, item.location[1], contract_json(item)] for item in session.items]
        stem = Path(workerinput[COLLECTED_DIR_KEY]) / str(workerinput.get("workerid", "gw"))
        try:
            rpt.write_atomic(stem.with_suffix(".json"), json.dumps(payload).encode())
            idle = json.dumps(sorted(self.idle_consumers)).encode()
            rpt.write_atomic(stem.with_suffix(".idle"), idle)
        except OSError:  # a remote worker (--tx ssh): the report lists what ran, not what did not
            pass


def idle_consumers(items: list[pytest.Item]) -> set[str]:
    """Consumers named by the contracts among ``items``."""
    names: set[str] = set()
    for item in items:
        info = ContractInfo.from_item(item)
        if info is not None:
            names.update(info.consumers)
    return names
