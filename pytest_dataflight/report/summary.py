"""The report as Markdown, for a CI job summary; no pytest import.

Rendered from the report itself (already masked and sized), never from the
raw facts, so the summary can say nothing the report would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .outcome import ConsumerState, Outcome, Status

MAX_CELL_CHARS = 160
# GitHub caps a step summary at 1 MiB; a long table is cut well before that.
MAX_ROWS = 200
_ICON: dict[str, str] = {Status.PASSED: "✅", Status.FAILED: "❌", Status.ERROR: "⚠️"}


def _cell(text: Any) -> str:
    """One table cell: first line only, pipes escaped, cut to a readable length."""
    line = next((ln.strip() for ln in str(text or "").splitlines() if ln.strip()), "")
    if len(line) > MAX_CELL_CHARS:
        line = line[: MAX_CELL_CHARS - 1] + "…"
    return line.replace("\\", "\\\\").replace("|", "\\|") or " "


def _contract_rows(contracts: list[Mapping[str, Any]]) -> list[str]:
    rows = ["| contract | outcome | consumers | message |", "|---|---|---|---|"]
    shown = contracts
    if len(contracts) > MAX_ROWS:
        shown = [c for c in contracts if c.get("outcome") != Outcome.PASSED][:MAX_ROWS]
    for entry in shown:
        consumers = ", ".join(entry.get("consumers") or []) or "-"
        rows.append(
            f"| {_cell(entry.get('contract'))} | {entry.get('outcome')} "
            f"| {_cell(consumers)} | {_cell(entry.get('message'))} |"
        )
    if len(shown) < len(contracts):
        rows.append(f"\n{len(contracts) - len(shown)} more contracts not shown.")
    return rows


def _causes(causes: list[Mapping[str, Any]]) -> list[str]:
    """One line per root cause with the contracts it took down."""
    if not causes:
        return []
    lines = ["", "### Root causes", ""]
    for cause in causes[:MAX_ROWS]:
        names = [str(n) for n in cause.get("contracts") or []]
        lines.append(
            f"- {_cell(cause.get('cause'))} ({cause.get('outcome')}, {len(names)} "
            f"contract{'s' if len(names) != 1 else ''}: {_cell(', '.join(names))})"
        )
    return lines


def _waivers(waivers: list[Mapping[str, Any]]) -> list[str]:
    """One line per waiver of the policy, with what it did this run."""
    if not waivers:
        return []
    lines = ["", "### Waivers", ""]
    for waiver in waivers[:MAX_ROWS]:
        subjects = ", ".join(str(s) for s in waiver.get("subjects") or [])
        lines.append(
            f"- **{waiver.get('state')}**: {_cell(waiver.get('contract'))} {_cell(subjects)} "
            f"({waiver.get('waived', 0)} waived, expires {waiver.get('expires')}): "
            f"{_cell(waiver.get('reason'))}"
        )
    return lines


def _failures(failures: list[Mapping[str, Any]]) -> list[str]:
    if not failures:
        return []
    lines = ["", "### Failures", ""]
    for entry in failures[:MAX_ROWS]:
        message = str(entry.get("message") or "").strip() or "(no message)"
        lines.append(f"- **{_cell(entry.get('contract'))}** ({entry.get('outcome')})")
        lines.extend(["", "  ```text", *(f"  {ln}" for ln in message.splitlines()[:20])])
        lines.extend(["  ```", ""])
    return lines


def render(report: Mapping[str, Any]) -> str:
    """The Markdown summary of ``report`` (a dataflight report, schema v2)."""
    status = str(report.get("status"))
    blocked = list(report.get("blocked_consumers") or [])
    consumers: Mapping[str, Any] = report.get("consumers") or {}
    lines = [
        f"## {_ICON.get(status, '')} dataflight: {status}".replace("  ", " "),
        "",
        f"run date **{report.get('run_date') or 'unset'}**, target "
        f"**{report.get('target') or 'unset'}**, exit code {report.get('exit_code')}",
        "",
        f"> {' '.join(str(report.get('headline') or '').split())}",
        "",
        f"**Blocked consumers:** {', '.join(blocked) if blocked else 'none'}",
    ]
    unchecked = [name for name, state in consumers.items() if state == ConsumerState.UNCHECKED]
    if unchecked:
        # Nobody vouched for these: they must not start either.
        lines.append(
            f"\n**Unchecked consumers** (none of their contracts ran): {', '.join(unchecked)}"
        )
    if report.get("run_id"):
        lines.extend(["", f"run id `{_cell(report.get('run_id'))}`"])
    if report.get("reason"):
        lines.extend(["", f"**Why:** {_cell(report.get('reason'))}"])
    lines.extend(_causes(list(report.get("causes") or [])))
    lines.extend(_waivers(list(report.get("waivers") or [])))
    contracts = list(report.get("contracts") or [])
    if contracts:
        lines.extend(["", *_contract_rows(contracts)])
    lines.extend(_failures(list(report.get("failures") or [])))
    return "\n".join(lines).rstrip() + "\n"
