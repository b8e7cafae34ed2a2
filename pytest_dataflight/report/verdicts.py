"""What one test report says about its contract, decided where the test ran.

Runs inside ``pytest_runtest_makereport`` on every process (xdist workers
included): the contract's declaration, "could not be evaluated" (the store
failed: no answer, 5xx, throttling) and the warn severity are put into the
report itself, in ``report.user_properties``, which pytest-xdist carries to
the controller.
The controller's reporter only reads them back.
"""

from __future__ import annotations

from enum import StrEnum

import pytest

from ..run.contract import ContractInfo, Severity, contract_json
from ..run.state import state_key
from ..run.thresholds import ContractWarned
from ..stores import clients
from ..stores.windows import one_line
from .outcome import Outcome, Phase, TestFacts

# A known failure's message is one line, however long the store's own error was.
MESSAGE_CHARS = 500


class Prop(StrEnum):
    """Keys of the facts a test report carries in ``user_properties``."""

    CONTRACT = "dataflight_contract"
    EVIDENCE = "dataflight_evidence"
    UNEVALUATED = "dataflight_unevaluated"
    WARNED = "dataflight_warned"
    CAUSE = "dataflight_cause"
    WAIVED = "dataflight_waived"


def message_of(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The one message a report stands for: observed vs expected, skip reason, error."""
    for key, value in getattr(report, "user_properties", ()):
        if key == Prop.UNEVALUATED:
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


def decide(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Put the contract's verdict into ``report``, in this order: a store that failed
    (no answer, 5xx, throttling) makes the check unevaluated, and only then may a
    warn contract soften what is left of a failure."""
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, clients.MissingStore):
        _mark_missing(excinfo.value, report)
    elif excinfo is not None and clients.is_store_failure(excinfo.value):
        _mark_unevaluated(item, excinfo.value, report)
    soft = excinfo is not None and isinstance(excinfo.value, ContractWarned)
    info = ContractInfo.from_item(item)
    if info is not None:
        report.user_properties.append((Prop.CONTRACT.value, contract_json(item)))
    if report.failed and (soft or (info is not None and info.severity == Severity.WARN)):
        # A soft threshold crossed (thresholds.warn) says only its own message.
        message = excinfo.value.message if soft else None  # type: ignore[union-attr]
        _warn(info.name if info else item.name, report, message)


def _mark_missing(exc: clients.MissingStore, report: pytest.TestReport) -> None:
    # The store answered that what this check needs is not there (a bucket, a library,
    # accepted credentials): a fact, so the check fails, even in its setup; one line,
    # no traceback; the report groups every check it took down under one cause.
    message = one_line(str(exc), MESSAGE_CHARS)
    report.longrepr = message
    report.user_properties.append(
        (
            Prop.CAUSE.value,
            {"cause": one_line(exc.cause, MESSAGE_CHARS), "outcome": Outcome.FAILED.value},
        )
    )


def _mark_unevaluated(item: pytest.Item, exc: BaseException, report: pytest.TestReport) -> None:
    # The store failed: say so in one line naming the endpoint, and make every later
    # check that needs it error at once (the circuit breaker, as for no answer).
    # One name for every store failure (SSM's and an API's are subclasses).
    name = exc.label if isinstance(exc, clients.StoreUnreachable) else type(exc).__name__
    detail = cause = one_line(str(exc), MESSAGE_CHARS)
    state = item.config.stash.get(state_key, None)
    health = state.health if state is not None else None
    if state is not None and state.blames_arctic_uri(exc):
        # An explicit DATAFLIGHT_ARCTIC_URI failed while S3 answers: name the URI,
        # and leave the S3 endpoint's breaker alone (its checks still run).
        name = clients.ArcticUnreachable.label
        detail = cause = one_line(state.fail_arctic(exc), MESSAGE_CHARS)
    elif health is not None and getattr(exc, "trips_s3_breaker", True):
        health.fail(exc)
        # Every check the breaker stops after this one raises with the endpoint's
        # problem: all of them are grouped under it.
        cause = one_line(health.problem or cause, MESSAGE_CHARS)
        if not isinstance(exc, clients.StoreUnreachable):
            # A raw error from the store mid-check: its one line names the endpoint.
            name, detail = "StoreUnreachable", cause
    message = f"{name}: {detail}"
    report.longrepr = message
    report.user_properties.append((Prop.UNEVALUATED.value, message))
    report.user_properties.append(
        (Prop.CAUSE.value, {"cause": cause, "outcome": Outcome.ERROR.value})
    )


def _warn(name: str, report: pytest.TestReport, message: str | None) -> None:
    # A warned contract reports only: like xfail, its failure is not a failed
    # test, so the exit code, -x and --maxfail ignore it.
    message = message or message_of(report)
    report.user_properties.append((Prop.WARNED.value, {"when": report.when, "message": message}))
    report.sections.append((f"dataflight: warn contract {name}", longrepr_text(report) or ""))
    if report.when == "setup":
        # "skipped", not "passed": a passed setup would make pytest run the test.
        path, lineno, _ = report.location
        first = (message or "").splitlines()[0] if message else ""
        report.outcome = "skipped"
        report.longrepr = (str(path), (lineno or 0) + 1, f"warn contract: {first}")
    else:
        report.outcome = "passed"
        report.longrepr = None


def record(test: TestFacts, report: pytest.TestReport, category: str) -> None:
    """Read one phase's test report into ``test``: the one parser of what :func:`decide`
    put into ``user_properties`` (on whichever process ran the test)."""
    for key, value in report.user_properties:
        if key == Prop.CONTRACT and isinstance(value, dict):
            test.contract = value
        elif key == Prop.EVIDENCE and isinstance(value, dict):
            test.evidence = {**(test.evidence or {}), **value}
        elif key == Prop.UNEVALUATED:
            test.unevaluated = str(value)
        elif key == Prop.WARNED and isinstance(value, dict):
            test.warned = str(value.get("message") or "warn contract did not hold")
        elif key == Prop.WAIVED and isinstance(value, dict):
            for index, count in value.items():
                test.waived[int(index)] = test.waived.get(int(index), 0) + int(count)
        elif key == Prop.CAUSE and isinstance(value, dict):
            test.cause = (str(value.get("cause")), Outcome(str(value.get("outcome"))))
    test.phases[report.when or "???"] = _phase(report, category)


def _phase(report: pytest.TestReport, category: str) -> Phase:
    crash = getattr(report.longrepr, "reprcrash", None)
    return Phase(
        when=report.when or "???",
        outcome=report.outcome,
        category=category,
        duration=float(report.duration or 0.0),
        message=message_of(report),
        crash=(
            {"path": str(crash.path), "lineno": crash.lineno, "message": str(crash.message)}
            if crash is not None
            else None
        ),
        longrepr=longrepr_text(report),
    )


def warned_in(report: pytest.TestReport) -> bool:
    return any(
        key == Prop.WARNED and isinstance(value, dict) and value.get("when") == report.when
        for key, value in report.user_properties
    )
