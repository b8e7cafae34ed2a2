"""The report's size budget: at most 256 KB, every cut counted; no pytest import.

Step Functions passes at most 256 KB between states, so the report must fit
whatever a contract recorded (10,000 stale tickers, a traceback the length of
a novel). Long fields are cut level by level; what was cut is said in place
(``... [N more chars]``, ``{"items", "truncated", "total"}``) and counted in
the report's ``truncation``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .outcome import Outcome

# Step Functions' payload limit (256 KB for a task's result and for an execution's
# whole state) less room for the rest of that result: the budget is measured on
# the report *as a state machine holds it*, the object body as an escaped JSON
# string (S3 getObject's ``Body``), about 12 % larger than the file.
MAX_REPORT_BYTES = 250 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of each long field one level of the size budget keeps."""

    message_chars: int
    longrepr_chars: int  # 0: per-stage tracebacks in tests[] dropped
    list_items: int
    string_chars: int
    evidence_bytes: int  # 0: evidence dropped (its keys kept)
    keep_tests: bool


LEVELS = (
    Limits(4000, 4000, 50, 2000, 32_000, True),
    Limits(1000, 1000, 20, 500, 8_000, True),
    Limits(500, 0, 10, 200, 2_000, True),
    Limits(300, 0, 5, 100, 0, False),
)
CUT_MARK = "... [{} more chars]"
# When even the last level is too large, entries are dropped in this order.
DROP_ORDER = (
    Outcome.PASSED,
    Outcome.SKIPPED,
    Outcome.WARNED,
    Outcome.NOT_RUN,
    Outcome.ERROR,
    Outcome.FAILED,
)
TRUNCATED_KEYS = "..."
_TRUNCATED_LIST_KEYS = frozenset({"items", "truncated", "total"})


# --- the one truncation rule: evidence as it is recorded, the report as it is sized ---


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(len(text) - limit)


def cut_items(items: list[Any], limit: int) -> list[Any] | dict[str, Any]:
    """``items`` if at most ``limit``; else the first ``limit`` with the counts."""
    if len(items) <= limit:
        return items
    return {"items": items[:limit], "truncated": len(items) - limit, "total": len(items)}


def cut(text: str, limit: int, counts: Counter[str]) -> str:
    if len(text) > limit:
        counts["strings_cut"] += 1
    return cut_text(text, limit)


def _shrink(value: Any, limits: Limits, counts: Counter[str]) -> Any:
    """Cut long strings, lists and mappings; lists in the shape evidence.py already uses."""
    if isinstance(value, str):
        return cut(value, limits.string_chars, counts)
    if isinstance(value, Mapping):
        if set(value) == _TRUNCATED_LIST_KEYS and isinstance(value["items"], list):
            items = value["items"]
            kept = [_shrink(v, limits, counts) for v in items[: limits.list_items]]
            if len(items) > len(kept):
                counts["list_items_cut"] += len(items) - len(kept)
            total = int(value["total"]) if isinstance(value["total"], int) else len(items)
            return {"items": kept, "truncated": total - len(kept), "total": total}
        max_keys = limits.list_items * 2
        out = {k: _shrink(v, limits, counts) for k, v in list(value.items())[:max_keys]}
        if len(value) > max_keys:
            # A mapping of 10,000 tickers is a list in disguise: cut it the same way.
            counts["list_items_cut"] += len(value) - max_keys
            out[TRUNCATED_KEYS] = f"{len(value) - max_keys} more keys of {len(value)}"
        return out
    if isinstance(value, list):
        if len(value) > limits.list_items:
            counts["list_items_cut"] += len(value) - limits.list_items
        kept = [_shrink(v, limits, counts) for v in value[: limits.list_items]]
        return cut_items(kept + value[limits.list_items :], limits.list_items)
    return value


def _shrink_evidence(evidence: Any, limits: Limits, counts: Counter[str]) -> Any:
    if evidence is None:
        return None
    small = _shrink(evidence, limits, counts)
    size = len(json.dumps(small))
    if size <= limits.evidence_bytes:
        return small
    counts["evidence_omitted"] += 1
    keys = sorted(str(k) for k in evidence)
    return {
        "omitted": f"evidence of {size} bytes left out to keep the report small",
        "keys": keys[:20],
        "keys_total": len(keys),
    }


def _apply(full: dict[str, Any], level: int) -> dict[str, Any]:
    limits = LEVELS[level]
    counts: Counter[str] = Counter()
    report: dict[str, Any] = json.loads(json.dumps(full))  # a deep copy, many times faster
    for entry in report["contracts"]:
        if entry["message"] is not None:
            entry["message"] = cut(entry["message"], limits.message_chars, counts)
        entry["evidence"] = _shrink_evidence(entry["evidence"], limits, counts)
    if limits.keep_tests:
        for test in report["tests"]:
            for when in [k for k, v in test.items() if isinstance(v, dict)]:
                stage = test[when]
                if "longrepr" not in stage:
                    continue
                if limits.longrepr_chars:
                    stage["longrepr"] = cut(stage["longrepr"], limits.longrepr_chars, counts)
                else:
                    del stage["longrepr"]
                    counts["test_details_omitted"] += 1
                if "crash" in stage:
                    stage["crash"]["message"] = cut(
                        str(stage["crash"]["message"]), limits.message_chars, counts
                    )
    else:
        counts["tests_omitted"] += len(report["tests"])
        report["tests"] = []
    report["truncation"] = _truncation(level, counts)
    _link_failures(report)
    return report


def _truncation(level: int, counts: Mapping[str, int]) -> dict[str, int]:
    keys = (
        "strings_cut",
        "list_items_cut",
        "evidence_omitted",
        "test_details_omitted",
        "tests_omitted",
        "contracts_omitted",
        "failures_omitted",
    )
    return {"level": level, **{k: int(counts.get(k, 0)) for k in keys}}


def _link_failures(report: dict[str, Any]) -> None:
    # failures[] repeats the failed and error entries, in run order.
    report["failures"] = [e for e in report["contracts"] if Outcome(e["outcome"]).blocks]


def dumps(report: Mapping[str, Any]) -> bytes:
    """The exact bytes written (and measured against the size budget).

    Compact on purpose: ``indent`` makes ``json`` fall back to its pure-Python
    encoder (seconds for thousands of contracts) and costs bytes of the budget;
    ``jq .`` shows the file indented.
    """
    return json.dumps(report, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def state_size(report: Mapping[str, Any]) -> int:
    """Bytes the report takes as a JSON string in a state machine's state (every quote
    and backslash escaped): what :data:`MAX_REPORT_BYTES` bounds."""
    text = dumps(report).decode("utf-8")
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8"))


def _size_in_list(entry: Mapping[str, Any]) -> int:
    """Bytes ``entry`` takes as an item of a list in :func:`dumps` output (comma included)."""
    return len(dumps(entry)) + 1


def fit_to_size(full: dict[str, Any], max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """Cut long fields level by level until the report fits; every cut is counted."""
    report: dict[str, Any] = {}
    for level in range(len(LEVELS)):
        report = _apply(full, level)
        size = state_size(report)
        if size <= max_bytes:
            return report
    # Still too large: thousands of contracts. Keep failures, drop what held first,
    # from the end. Sizes are computed once per entry: re-serialising the whole
    # report per dropped entry would be quadratic.
    counts = Counter({k: v for k, v in report["truncation"].items() if k != "level"})
    contracts = report["contracts"]
    sizes = [_size_in_list(e) for e in contracts]
    # What matters least goes first; the violations last.
    for outcome in DROP_ORDER:
        while size > max_bytes:
            doomed, freed = [], 0
            for i in range(len(contracts) - 1, -1, -1):
                if Outcome(contracts[i]["outcome"]) is not outcome:
                    continue
                doomed.append(i)
                # failed and error entries appear twice: in contracts[] and failures[].
                freed += sizes[i] * (2 if outcome.blocks else 1)
                if size - freed <= max_bytes:
                    break
            if not doomed:
                break
            for i in doomed:  # descending: each deletion leaves the next index valid
                del contracts[i]
                del sizes[i]
            counts["contracts_omitted"] += len(doomed)
            if outcome.blocks:
                counts["failures_omitted"] += len(doomed)
            _link_failures(report)
            report["truncation"] = _truncation(len(LEVELS), counts)
            size = state_size(report)
    return report
