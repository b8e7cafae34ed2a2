"""The dataflight report (schema v2) built from plain facts; no pytest import.

The pytest side (``reporter.py``) turns test reports into :class:`TestFacts`
and :class:`RunFacts`; everything the orchestrator reads is decided here:
each contract's outcome, ``status``, the blocked consumers, the headline,
the size budget and the atomic write. Keeping it free of pytest makes every
rule testable with plain values.

The top level also carries a compatible subset of pytest-json-report's
format (``created``, ``duration``, ``exitcode``, ``root``, ``environment``,
``summary``, ``tests``), so tools that read that format keep working.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..run.contract import Severity
from ..stores.masking import map_strings
from .evidence import to_jsonable
from .outcome import (
    PHASES,
    ConsumerState,
    Outcome,
    Phase,
    Status,
    TestFacts,
    consumer_state,
    outcome_of,
)
from .size import MAX_REPORT_BYTES, cut, cut_text, dumps, fit_to_size, state_size

__all__ = [
    "MAX_HEADLINE_CHARS",
    "MAX_REPORT_BYTES",
    "Collected",
    "Phase",
    "RunFacts",
    "TestFacts",
    "build_report",
    "dumps",
    "schema",
    "state_size",
    "validate",
    "write_atomic",
]

SCHEMA_VERSION = 2
TOOL_NAME = "pytest-dataflight"
MAX_HEADLINE_CHARS = 1000
MAX_REASON_CHARS = 2000
MAX_ANY_STRING_CHARS = 100_000
INTERRUPTED = "interrupted"

Mask = Callable[[str], str]


@dataclass(frozen=True)
class Collected:
    nodeid: str
    lineno: int | None
    contract: Mapping[str, Any] | None


@dataclass
class RunFacts:
    """The run as a whole: settings, exit code, what was collected and what ran."""

    exit_code: int
    started_at: float  # epoch seconds
    duration_s: float
    run_date: str | None = None
    target: str | None = None
    run_id: str | None = None  # the orchestrator's id for this attempt
    tool_version: str = "0.0.0"
    root: str = ""
    environment: Mapping[str, Any] = field(default_factory=dict)
    collected: list[Collected] = field(default_factory=list)
    deselected: int = 0
    # Consumers of contracts not selected for this run (-m, -k, --lf): still
    # declared, so the orchestrator finds every consumer in ``consumers``.
    idle_consumers: set[str] = field(default_factory=set)
    tests: list[TestFacts] = field(default_factory=list)  # in run order
    collection_errors: list[tuple[str, str]] = field(default_factory=list)
    usage_error: str | None = None
    internal_error: str | None = None
    interrupted: str | None = None  # set when a signal or Ctrl-C ended the run
    stop_reason: str | None = None  # -x / --maxfail / collection errors
    policy: Mapping[str, Any] | None = None  # the report's ``policy`` (path, sha256, overrides)
    waivers: list[Mapping[str, Any]] = field(default_factory=list)  # the report's ``waivers[]``


# --- outcomes ---------------------------------------------------------------


def contract_name(nodeid: str, contract: Mapping[str, Any] | None) -> str:
    if contract and contract.get("contract"):
        return str(contract["contract"])
    # A plain test in a data run: named like a contract would be.
    return nodeid.rsplit("::", 1)[-1].removeprefix("test_")


def _entry(
    nodeid: str,
    contract: Mapping[str, Any] | None,
    outcome: Outcome,
    message: str | None,
    evidence: Mapping[str, Any] | None = None,
    duration: float = 0.0,
    name: str | None = None,
) -> dict[str, Any]:
    info = contract or {}
    return {
        "contract": name or contract_name(nodeid, contract),
        "nodeid": nodeid,
        "stage": info.get("stage"),
        "phases": list(info.get("phases") or []),
        "outcome": outcome.value,
        "severity": str(info.get("severity") or Severity.ERROR),
        "consumers": list(info.get("consumers") or []),
        "message": message,
        # Re-made JSON-safe here: user_properties may hold anything a suite put there.
        "evidence": to_jsonable(dict(evidence)) if evidence is not None else None,
        "duration_s": round(duration, 6),
    }


def _not_run_message(facts: RunFacts) -> str:
    if facts.interrupted is not None:
        return INTERRUPTED
    for reason in (
        facts.usage_error and "usage error",
        facts.internal_error and "internal error",
        facts.stop_reason,
    ):
        if reason:
            return f"not run: {reason}"
    return "not run"


def contract_entries(facts: RunFacts) -> list[dict[str, Any]]:
    """contracts[]: collection errors, then tests in run order, then those never reached."""
    # A file that failed to collect: its contracts are unknown, so it stands for them.
    entries = [
        _entry(nodeid, None, Outcome.ERROR, message, name=nodeid)
        for nodeid, message in facts.collection_errors
    ]
    not_run = _not_run_message(facts)
    seen: set[str] = set()
    contracts = {c.nodeid: c.contract for c in facts.collected}
    for test in facts.tests:
        seen.add(test.nodeid)
        outcome, message = outcome_of(test, not_run)
        duration = sum(p.duration for p in test.phases.values())
        contract = test.contract if test.contract is not None else contracts.get(test.nodeid)
        entries.append(_entry(test.nodeid, contract, outcome, message, test.evidence, duration))
    for item in facts.collected:
        if item.nodeid not in seen:
            entries.append(_entry(item.nodeid, item.contract, Outcome.NOT_RUN, not_run))
    return entries


def _decisive(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries whose outcome can block: error severity (warn contracts only report)."""
    return [e for e in entries if Severity(e["severity"]) is Severity.ERROR]


def consumer_states(
    entries: Iterable[Mapping[str, Any]], idle: Iterable[str] = ()
) -> dict[str, ConsumerState]:
    """Every declared consumer -> ok | blocked | unchecked (``outcome.consumer_state``).

    ``idle``: consumers of contracts that were not selected (-m, -k, --lf); a
    consumer known only from those is unchecked. Warn contracts never block.
    """
    outcomes: dict[str, list[tuple[Outcome, bool]]] = {name: [] for name in idle}
    for entry in entries:
        decisive = Severity(entry["severity"]) is Severity.ERROR
        for name in entry["consumers"]:
            outcomes.setdefault(name, []).append((Outcome(entry["outcome"]), decisive))
    return {name: consumer_state(outcomes[name]) for name in sorted(outcomes)}


def status_of(facts: RunFacts, entries: list[dict[str, Any]]) -> tuple[Status, str | None]:
    """(status, reason): reason says why a run as a whole is an error."""
    outcomes = [Outcome(e["outcome"]) for e in _decisive(entries)]
    if facts.usage_error is not None:
        return Status.ERROR, f"usage error: {facts.usage_error}"
    if facts.internal_error is not None or facts.exit_code == 3:
        return Status.ERROR, f"internal error: {facts.internal_error or 'see the pytest output'}"
    if facts.interrupted is not None:
        return Status.ERROR, f"interrupted ({facts.interrupted})"
    if facts.exit_code == 2:
        return Status.ERROR, f"stopped: {facts.stop_reason or 'interrupted'}"
    if facts.exit_code == 4:
        return Status.ERROR, "usage error (see the pytest output)"
    if facts.exit_code == 5 or not (entries or facts.collected):
        return (
            Status.ERROR,
            "no contracts were collected: check the path and the -m/-k selection",
        )
    if Outcome.FAILED in outcomes:
        return Status.FAILED, None
    if any(outcome.unsettled for outcome in outcomes):
        return Status.ERROR, None
    if facts.exit_code != 0:
        # Never let the report say "passed" when the process did not.
        return Status.ERROR, f"pytest exited with code {facts.exit_code}"
    return Status.PASSED, None


# --- root causes ------------------------------------------------------------


def root_causes(facts: RunFacts, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """causes[]: the blocking failures and errors grouped by their root cause.

    A cause is what the plugin recognised as shared (a missing bucket or library,
    refused credentials, a store or an API that failed: ``verdicts`` records it),
    or, for errors it did not recognise, one message that several share (a
    target that failed to start). Causes and their contracts come in collection
    order, so that a serial and an ``-n 2`` run group the same way.
    """
    order = {c.nodeid: i for i, c in enumerate(facts.collected)}
    typed = {test.nodeid: test.cause for test in facts.tests if test.cause is not None}
    blocking = sorted(
        (e for e in entries if Outcome(e["outcome"]).blocks),
        key=lambda e: (order.get(e["nodeid"], len(order)), e["nodeid"]),
    )
    shared = Counter(_first_line(e["message"], 500) for e in blocking if e["nodeid"] not in typed)
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in blocking:
        recognised = typed.get(entry["nodeid"])
        if recognised is not None:
            key = (recognised[0], entry["outcome"])
        elif entry["outcome"] == Outcome.ERROR and shared[_first_line(entry["message"], 500)] > 1:
            key = (_first_line(entry["message"], 500), entry["outcome"])
        else:
            continue
        groups.setdefault(key, []).append(entry["contract"])
    return [
        {"cause": cause, "outcome": outcome, "contracts": names}
        for (cause, outcome), names in groups.items()
    ]


# --- headline ---------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_line(text: str | None, limit: int = 120) -> str:
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _cut_list(names: list[str], limit: int) -> str:
    """``names`` joined, as many as fit in ``limit`` characters, then ``+N more``."""
    text = ", ".join(names)
    if len(text) <= limit:
        return text
    shown: list[str] = []
    for i, name in enumerate(names):
        candidate = ", ".join([*shown, name]) + f" +{len(names) - i - 1} more"
        if len(candidate) > limit:
            break
        shown.append(name)
    return ", ".join(shown) + f" +{len(names) - len(shown)} more"


def _passed_clause(counts: Counter[str], total: int) -> str:
    clause = f"{counts[Outcome.PASSED]} of {total} contracts held"
    for outcome in (Outcome.WARNED, Outcome.SKIPPED):
        if counts[outcome]:
            clause += f", {counts[outcome]} {outcome}"
    return clause


def _problem_clause(reason: str | None, decisive: list[Mapping[str, Any]], total: int) -> str:
    parts = []
    if reason:
        # Every line of a usage error counts (all missing settings at once).
        reason_line = _one_line(reason.replace("\n", "; "))
        parts.append(reason_line if len(reason_line) <= 300 else reason_line[:297] + "...")
    counts = Counter(Outcome(e["outcome"]) for e in decisive)
    for outcome, label in ((Outcome.FAILED, "failed"), (Outcome.ERROR, "could not be evaluated")):
        if counts[outcome]:
            parts.append(f"{counts[outcome]} of {total} {label}")
    if counts[Outcome.NOT_RUN]:
        parts.append(f"{counts[Outcome.NOT_RUN]} not run")
    return "; ".join(parts) or f"{total} contracts"


def _cause_item(cause: Mapping[str, Any], consumers: list[str]) -> str:
    names = cause["contracts"]
    took = f"{len(names)} contracts" if len(names) > 1 else names[0]
    reached = ", ".join(consumers) or "no consumers"
    return f"{_first_line(cause['cause'], 160)} [{cause['outcome']}: {took}] -> {reached}"


def _violation_items(
    violations: list[Mapping[str, Any]], causes: Sequence[Mapping[str, Any]]
) -> list[str]:
    """One item per cause (named once, with its count), then one per other violation."""
    items = []
    grouped: set[str] = set()
    for cause in causes:
        if len(cause["contracts"]) < 2:
            continue  # a cause of one: the contract's own item says it best
        names = set(cause["contracts"])
        grouped |= names
        consumers = sorted(
            {c for e in violations if e["contract"] in names for c in e["consumers"]}
        )
        items.append(_cause_item(cause, consumers))
    for entry in violations:
        if entry["contract"] in grouped:
            continue
        consumers_of = ", ".join(entry["consumers"]) or "no consumers"
        item = f"{entry['contract']} [{entry['outcome']}] -> {consumers_of}"
        detail = _first_line(entry["message"], 100)
        if detail:
            item += f" ({detail})"
        items.append(item)
    return items


def _with_violations(text: str, items: list[str], tail: str, limit: int) -> str:
    """``text`` followed by as many violation items as fit, then ``+N more``."""
    for i, item in enumerate(items):
        sep = " - " if i == 0 else "; "
        more = f"; +{len(items) - i - 1} more" if i + 1 < len(items) else ""
        if len(_one_line(text + sep + item + more + tail)) > limit:
            return text + f"{sep}+{len(items) - i} more"
        text += sep + item
    return text


def make_headline(
    facts: RunFacts,
    status: Status,
    reason: str | None,
    entries: list[dict[str, Any]],
    consumers: Mapping[str, ConsumerState],
    causes: Sequence[Mapping[str, Any]] | None = None,
    limit: int = MAX_HEADLINE_CHARS,
) -> str:
    """One line for an alarm or a Step Functions ``Cause``.

    Each root cause is named once, with the count of contracts it took down;
    other violations follow in collection order, not run order, so a serial and
    an ``-n 2`` run of the same data give the same headline.
    """
    order = {c.nodeid: i for i, c in enumerate(facts.collected)}
    decisive = _decisive(entries)
    head = (
        f"dataflight {status.upper()} run-date={facts.run_date or 'unset'} "
        f"target={facts.target or 'unset'}"
    )
    if status is Status.PASSED:
        clause = _passed_clause(Counter(Outcome(e["outcome"]) for e in entries), len(entries))
    else:
        clause = _problem_clause(reason, decisive, len(entries))
    blocked = [name for name, state in consumers.items() if state is ConsumerState.BLOCKED]
    tail = f" | blocked: {_cut_list(blocked, 300)}" if blocked else ""
    violations = sorted(
        (e for e in decisive if Outcome(e["outcome"]).blocks),
        key=lambda e: (order.get(e["nodeid"], len(order)), e["nodeid"]),
    )
    items = _violation_items(violations, causes or [])
    text = _with_violations(f"{head}: {clause}", items, tail, limit)
    return _one_line(text + tail)[:limit]


# --- pytest-json-report compatible part -------------------------------------


def _json_report_tests(facts: RunFacts) -> list[dict[str, Any]]:
    tests = []
    for test in facts.tests:
        # pytest-json-report's outcomes are pytest's categories, not ours.
        item: dict[str, Any] = {"nodeid": test.nodeid, "lineno": test.lineno, "outcome": "passed"}
        for when in (*PHASES, *(w for w in test.phases if w not in PHASES)):
            phase = test.phases.get(when)
            if phase is None:
                continue
            # pytest-json-report: the test's outcome is its last non-passed stage category.
            if phase.category not in ("passed", ""):
                item["outcome"] = phase.category
            stage: dict[str, Any] = {"duration": round(phase.duration, 6), "outcome": phase.outcome}
            if phase.crash is not None:
                stage["crash"] = dict(phase.crash)
            if phase.longrepr:
                stage["longrepr"] = phase.longrepr
            item[when] = stage
        tests.append(item)
    return tests


def _summary(facts: RunFacts, tests: list[dict[str, Any]]) -> dict[str, int]:
    summary: dict[str, int] = dict(Counter(t["outcome"] for t in tests))
    summary["total"] = len(tests)
    summary["collected"] = len(facts.collected) + facts.deselected
    if facts.deselected:
        summary["deselected"] = facts.deselected
    return summary


# --- building ---------------------------------------------------------------


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")


def build_report(facts: RunFacts, mask: Mask | None = None) -> dict[str, Any]:
    """The report for ``facts``: masked, within the size budget, schema-valid."""
    entries = contract_entries(facts)
    status, reason = status_of(facts, entries)
    if mask is not None:
        entries = map_strings(entries, mask)
        reason = mask(reason) if reason else reason
    consumers = consumer_states(entries, facts.idle_consumers)
    causes = root_causes(facts, entries)
    if mask is not None:
        causes = map_strings(causes, mask)
    tests = _json_report_tests(facts)
    if mask is not None:
        tests = map_strings(tests, mask)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": facts.tool_version},
        "run_date": facts.run_date,
        "target": facts.target,
        "run_id": facts.run_id,
        "status": status.value,
        "exit_code": int(facts.exit_code),
        "headline": make_headline(facts, status, reason, entries, consumers, causes),
        "reason": cut(reason, MAX_REASON_CHARS, Counter()) if reason else None,
        "consumers": {name: state.value for name, state in consumers.items()},
        "blocked_consumers": sorted(
            c for c, state in consumers.items() if state is ConsumerState.BLOCKED
        ),
        "causes": causes,
        "policy": dict(facts.policy) if facts.policy is not None else None,
        "waivers": [dict(w) for w in facts.waivers],
        "contracts": entries,
        "failures": [],  # filled by fit_to_size, from the entries it keeps
        "started_at": _iso(facts.started_at),
        "duration_s": round(facts.duration_s, 3),
        "truncation": {},
        # pytest-json-report's top-level keys.
        "created": round(facts.started_at + facts.duration_s, 3),
        "duration": round(facts.duration_s, 3),
        "exitcode": int(facts.exit_code),
        "root": facts.root,
        "environment": dict(facts.environment),
        "summary": _summary(facts, tests),
        "tests": tests,
    }
    return fit_to_size(map_strings(report, writable))


def writable(text: str) -> str:
    """``text`` as it can be written: UTF-8-encodable, and of a sane length.

    A contract may put anything into a message (a ticker read as the lone
    surrogate ``"\\ud800"`` is valid JSON); the report must still be written,
    so such characters are shown as their escapes. The size budget cuts the
    long fields it knows; this bound catches the rest (a 10 MB node id).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return cut_text(text, MAX_ANY_STRING_CHARS)


# --- writing --------------------------------------------------------------------


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    ``os.replace`` is atomic on one filesystem: a reader sees the previous
    report or the new one, never half of either.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; a report is meant to be read by other tools.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def schema() -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12) of the report."""
    text = (Path(__file__).parent / "report.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def validate(report: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``report`` does not match the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(report)
