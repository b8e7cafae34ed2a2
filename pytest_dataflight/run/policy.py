"""The policy file: thresholds, severities and expiring waivers; no pytest import.

DESIGN.md, "Policy". A contract declares each number it judges by as a
:class:`Threshold` with its default; a TOML file changes them, promotes or
demotes a contract's severity, and waives named subjects of a contract's
findings until a date. Everything is validated before any contract runs:
:func:`parse` checks the file's own shape, :func:`check` checks it against the
contracts the suite declares. Each problem names the file and the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SEVERITY_KEY = "severity"
SEVERITIES = ("error", "warn")
WAIVER_FIELDS = ("contract", "subjects", "reason", "expires")


class Kind(StrEnum):
    """What a threshold measures, which decides the values it may take."""

    RATIO = "ratio"  # from 0 to 1
    FACTOR = "factor"  # above 0
    COUNT = "count"  # a whole number from 0: rows, sessions, tickers


_KIND_RULE = {
    Kind.RATIO: "a ratio from 0 to 1",
    Kind.FACTOR: "a factor above 0",
    Kind.COUNT: "a whole number from 0",
}


@dataclass(frozen=True)
class Threshold:
    """A named number a contract judges by, declared with its default.

    ``unit`` says what a count counts (``rows``, ``sessions``, ``tickers``) for
    messages and the catalog.
    """

    default: float
    kind: Kind | str = Kind.COUNT
    unit: str = ""
    # The name of a threshold of the same contract this one may not exceed (a soft
    # limit below its hard one): a policy that inverts them is a usage error.
    at_most: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        problem = self.problem(self.default)
        if problem:
            raise ValueError(f"threshold default {self.default!r}: {problem}")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not a value of this threshold, or None."""
        rule = _KIND_RULE[Kind(self.kind)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected {rule}, got {type(value).__name__}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected {rule}, got {value}"
        if self.kind is Kind.COUNT and not (isinstance(value, int) and value >= 0):
            return f"expected {rule}, got {value!r}"
        if self.kind is Kind.RATIO and not 0 <= value <= 1:
            return f"expected {rule}, got {value!r}"
        if self.kind is Kind.FACTOR and not value > 0:
            return f"expected {rule}, got {value!r}"
        return None

    def describe(self) -> str:
        # "1 session", "2 sessions": units are declared in the plural.
        unit = self.unit.removesuffix("s") if self.default == 1 else self.unit
        unit = f" {unit}" if unit else ""
        return f"{self.default:g}{unit} ({_KIND_RULE[Kind(self.kind)]})"


class WaiverState(StrEnum):
    """What a waiver did in one run (the report's ``waivers[].state``)."""

    APPLIED = "applied"  # it exempted at least one finding
    UNUSED = "unused"  # in force, and matched nothing: the exception is gone, delete it
    EXPIRED = "expired"  # on or after ``expires``: not applied


@dataclass(frozen=True)
class Waiver:
    """Exempts ``subjects`` from ``contract``'s verdict before ``expires``."""

    index: int  # its position in the file: how a worker's count finds it
    contract: str
    subjects: tuple[str, ...]
    reason: str
    expires: dt.date

    def in_force(self, run_date: dt.date | None) -> bool:
        # On the expires date itself it no longer applies.
        return run_date is not None and run_date < self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "subjects": list(self.subjects),
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True)
class Policy:
    """One policy file, parsed: what it changes, and its waivers."""

    source: str  # the path or s3:// URL it was read from
    sha256: str
    severities: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()

    def threshold(self, contract: str, name: str, declared: Threshold) -> float:
        return self.values.get(contract, {}).get(name, declared.default)

    def overrides(self, defaults: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
        """The values that differ from the defaults (contract -> threshold -> default),
        per contract, and the severities it sets: for the report."""
        out: dict[str, dict[str, Any]] = {}
        for contract, values in self.values.items():
            for name, value in values.items():
                default = defaults.get(contract, {}).get(name)
                if default is None or value != default:
                    out.setdefault(contract, {})[name] = value
        for contract, severity in self.severities.items():
            out.setdefault(contract, {})[SEVERITY_KEY] = severity
        return out

    def waivers_of(self, contract: str) -> list[Waiver]:
        return [w for w in self.waivers if w.contract == contract]


class PolicyError(ValueError):
    """A policy file that cannot be used: each line names the file and the key."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.problems = [f"policy {source}: {problem}" for problem in problems]
        super().__init__("\n".join(self.problems))


def parse(data: bytes, source: str) -> Policy:
    """The policy in ``data`` (TOML), its own shape checked; raises :class:`PolicyError`."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries the line and column: "(at line 3, column 7)".
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    unknown = sorted(set(document) - {"contracts", "waivers"})
    problems += [
        f"unknown key {key!r}: expected [contracts.<name>] or [[waivers]]" for key in unknown
    ]
    severities, values = _contracts(document.get("contracts", {}), problems)
    waivers = _waivers(document.get("waivers", []), problems)
    if problems:
        raise PolicyError(source, problems)
    return Policy(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        severities=severities,
        values=values,
        waivers=tuple(waivers),
    )


def _contracts(
    table: Any, problems: list[str]
) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    severities: dict[str, str] = {}
    values: dict[str, dict[str, float]] = {}
    if not isinstance(table, dict):
        problems.append("[contracts] must be a table of [contracts.<name>] tables")
        return severities, values
    for name, settings in table.items():
        where = f"[contracts.{name}]"
        if not isinstance(settings, dict):
            problems.append(f"{where} must be a table of a severity and thresholds")
            continue
        for key, value in settings.items():
            if key == SEVERITY_KEY:
                if value not in SEVERITIES:
                    problems.append(f"{where} severity = {value!r}: expected 'error' or 'warn'")
                else:
                    severities[name] = value
            else:
                # Its type and range are the contract's to say: checked in :func:`check`.
                values.setdefault(name, {})[key] = value
    return severities, values


def _waivers(items: Any, problems: list[str]) -> list[Waiver]:
    if not isinstance(items, list):
        problems.append("waivers must be an array of tables: [[waivers]]")
        return []
    waivers = []
    for index, item in enumerate(items):
        where = f"[[waivers]] #{index + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a table")
            continue
        missing = [key for key in WAIVER_FIELDS if key not in item]
        unknown = sorted(set(item) - set(WAIVER_FIELDS))
        if missing:
            problems.append(f"{where} lacks {', '.join(missing)} (every waiver needs all four)")
        if unknown:
            problems.append(f"{where} has unknown keys: {', '.join(unknown)}")
        if missing or unknown:
            continue
        waiver = _waiver(index, item, where, problems)
        if waiver is not None:
            waivers.append(waiver)
    return waivers


def _waiver(index: int, item: dict[str, Any], where: str, problems: list[str]) -> Waiver | None:
    contract, subjects, reason, expires = (item[key] for key in WAIVER_FIELDS)
    before = len(problems)
    if not isinstance(contract, str) or not contract:
        problems.append(f"{where} contract = {contract!r}: expected a contract's name")
    if (
        not isinstance(subjects, list)
        or not subjects
        or not all(isinstance(s, str) and s for s in subjects)
    ):
        problems.append(f"{where} subjects = {subjects!r}: expected a non-empty list of names")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where} reason: say why the exception is allowed")
    if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
        problems.append(
            f"{where} expires = {expires!r}: expected a TOML date (expires = 2026-06-30, unquoted)"
        )
    if len(problems) > before:
        return None
    return Waiver(index, contract, tuple(subjects), reason.strip(), expires)


def check(policy: Policy, declared: Mapping[str, Mapping[str, Threshold]]) -> list[str]:
    """What ``policy`` says that the suite's contracts (name -> their thresholds) do not
    know or allow: unknown contracts and thresholds, values of the wrong type or range."""
    problems = []
    named = {
        *policy.severities,
        *policy.values,
    }
    for contract in sorted(named - set(declared)):
        problems.append(f"[contracts.{contract}]: no contract of this suite is named {contract!r}")
    for contract, values in policy.values.items():
        known = declared.get(contract)
        if known is None:
            continue
        for name, value in values.items():
            threshold = known.get(name)
            where = f"[contracts.{contract}] {name}"
            if threshold is None:
                choices = ", ".join(sorted(known)) or "none"
                problems.append(f"{where}: unknown threshold (the contract declares: {choices})")
                continue
            problem = threshold.problem(value)
            if problem:
                problems.append(f"{where} = {value!r}: {problem}")
        problems += _order_problems(contract, known, values)
    for waiver in policy.waivers:
        if waiver.contract not in declared:
            problems.append(
                f"[[waivers]] #{waiver.index + 1} contract = {waiver.contract!r}: "
                "no contract of this suite has this name"
            )
    return [f"policy {policy.source}: {p}" for p in problems]


def _order_problems(
    contract: str, known: Mapping[str, Threshold], values: Mapping[str, Any]
) -> list[str]:
    """A threshold above the one it must stay at or below, as the policy leaves them."""
    problems = []
    for name, threshold in known.items():
        if threshold.at_most is None or threshold.at_most not in known:
            continue
        if name not in values and threshold.at_most not in values:
            continue
        low = values.get(name, threshold.default)
        high = values.get(threshold.at_most, known[threshold.at_most].default)
        if threshold.problem(low) is None and known[threshold.at_most].problem(high) is None:
            if low > high:
                problems.append(
                    f"[contracts.{contract}] {name} = {low!r} is above "
                    f"{threshold.at_most} = {high!r}: the soft limit must not exceed the hard one"
                )
    return problems


class Thresholds(dict[str, float]):
    """The values in force of one contract's thresholds (the ``thresholds`` fixture)."""

    def __init__(self, contract: str, values: Mapping[str, float]) -> None:
        super().__init__(values)
        self.contract = contract

    def __missing__(self, name: str) -> float:
        declared = ", ".join(sorted(self)) or "none"
        raise KeyError(
            f"contract {self.contract!r} declares no threshold {name!r} (it declares: "
            f"{declared}); add it to @contract(thresholds=...)"
        )


def thresholds_in_force(
    contract: str, declared: Mapping[str, Threshold], policy: Policy | None
) -> Thresholds:
    values = {
        name: policy.threshold(contract, name, t) if policy else t.default
        for name, t in declared.items()
    }
    return Thresholds(contract, values)


@dataclass
class Waivers:
    """The waivers of one contract in one run (the ``waivers`` fixture).

    ``split(findings, subject)`` leaves out the findings whose subject a waiver
    in force names, and keeps them in the evidence as waived: never hidden.
    """

    contract: str
    in_force: list[Waiver]
    expired: list[Waiver]
    # waiver index -> findings it waived in this test; read by the report.
    counts: dict[int, int] = field(default_factory=dict)
    waived: list[str] = field(default_factory=list)

    def waiver_for(self, subject: str) -> Waiver | None:
        return next((w for w in self.in_force if subject in w.subjects), None)

    def split(
        self,
        findings: Iterable[Any],
        subject: Any,
        describe: Any = str,
    ) -> tuple[list[Any], list[Any]]:
        """(kept, waived) of ``findings``; ``subject(finding)`` is the name a waiver's
        ``subjects`` list (a symbol, a ticker, a source, a feature)."""
        kept, waived = [], []
        for finding in findings:
            waiver = self.waiver_for(str(subject(finding)))
            if waiver is None:
                kept.append(finding)
                continue
            waived.append(finding)
            self.counts[waiver.index] = self.counts.get(waiver.index, 0) + 1
            self.waived.append(
                f"{describe(finding)} (waived until {waiver.expires}: {waiver.reason})"
            )
        return kept, waived


def waivers_for(contract: str, policy: Policy | None, run_date: dt.date | None) -> Waivers:
    mine = policy.waivers_of(contract) if policy else []
    return Waivers(
        contract,
        in_force=[w for w in mine if w.in_force(run_date)],
        expired=[w for w in mine if not w.in_force(run_date)],
    )


def policy_report(policy: Policy | None, defaults: Mapping[str, Mapping[str, float]]) -> Any:
    """The report's ``policy``: where it came from, its sha256, what it changes."""
    if policy is None:
        return None
    return {"path": policy.source, "sha256": policy.sha256, "overrides": policy.overrides(defaults)}


def waiver_report(
    policy: Policy | None, run_date: dt.date | None, counts: Mapping[int, int]
) -> list[dict[str, Any]]:
    """The report's ``waivers[]``: each waiver with what it did this run."""
    if policy is None:
        return []
    out = []
    for waiver in policy.waivers:
        count = int(counts.get(waiver.index, 0))
        if not waiver.in_force(run_date):
            state = WaiverState.EXPIRED
        elif count:
            state = WaiverState.APPLIED
        else:
            state = WaiverState.UNUSED
        out.append({**waiver.to_json(), "state": state.value, "waived": count})
    return out
