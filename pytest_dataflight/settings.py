"""Resolved run settings and their validation; no pytest import.

Every setting has one source of truth here (its CLI flag, environment
variable, ini key and default), so the precedence CLI > env > ini > default
is implemented once, in :func:`resolve`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TARGETS = ("live", "mock")
DEFAULT_REPORT = "dataflight-report.json"
DEFAULT_SSM_PREFIX = "/dataflight/"
MOCK_BUCKET = "dataflight-mock"


@dataclass(frozen=True)
class OptionSpec:
    """One setting: where it may come from and what it means."""

    dest: str
    flag: str
    env: str
    help: str
    default: str | None = None


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "run_date",
        "--run-date",
        "DATAFLIGHT_RUN_DATE",
        "the pipeline's logical date, YYYY-MM-DD.",
    ),
    OptionSpec(
        "target",
        "--target",
        "DATAFLIGHT_TARGET",
        "where the data lives: 'live' (the configured AWS endpoints) or "
        "'mock' (a moto_server seeded by the suite). No default on purpose.",
    ),
    OptionSpec(
        "report",
        "--dataflight-report",
        "DATAFLIGHT_REPORT",
        f"path of the JSON report (default {DEFAULT_REPORT}).",
        DEFAULT_REPORT,
    ),
    OptionSpec(
        "ssm_prefix",
        "--dataflight-ssm-prefix",
        "DATAFLIGHT_SSM_PREFIX",
        f"SSM Parameter Store prefix for secrets (default {DEFAULT_SSM_PREFIX}).",
        DEFAULT_SSM_PREFIX,
    ),
)


class SettingsError(ValueError):
    """Raised with every problem found, one per line, each with its fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Settings:
    """What a run resolved to. Frozen: it is handed to xdist workers as is."""

    run_date: dt.date | None
    target: str | None
    report: str
    ssm_prefix: str
    faults: tuple[str, ...] = ()
    bucket: str | None = None
    arctic_uri: str | None = None
    region: str = "us-east-1"
    sources: Mapping[str, str] = field(default_factory=dict)

    def header(self) -> str:
        run_date = self.run_date.isoformat() if self.run_date else "unset"
        parts = [f"target={self.target or 'unset'}", f"run-date={run_date}", "calendar=XNYS"]
        if self.bucket:
            parts.append(f"bucket={self.bucket}")
        if self.faults:
            parts.append(f"faults={','.join(self.faults)}")
        return "dataflight: " + " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """Plain values, for xdist's workerinput."""
        return {
            "run_date": self.run_date.isoformat() if self.run_date else None,
            "target": self.target,
            "report": self.report,
            "ssm_prefix": self.ssm_prefix,
            "faults": list(self.faults),
            "bucket": self.bucket,
            "arctic_uri": self.arctic_uri,
            "region": self.region,
            "sources": dict(self.sources),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Settings:
        run_date = data.get("run_date")
        return cls(
            run_date=dt.date.fromisoformat(run_date) if run_date else None,
            target=data.get("target"),
            report=data["report"],
            ssm_prefix=data["ssm_prefix"],
            faults=tuple(data.get("faults") or ()),
            bucket=data.get("bucket"),
            arctic_uri=data.get("arctic_uri"),
            region=data.get("region") or "us-east-1",
            sources=dict(data.get("sources") or {}),
        )


def parse_run_date(value: str) -> dt.date:
    """ISO calendar date, strictly: '2026-02-30' and 'tomorrow' are refused."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"invalid run date {value!r}: expected a real calendar date as YYYY-MM-DD, "
            "e.g. --run-date 2026-04-18"
        ) from None


def resolve(
    cli: Callable[[str], Any],
    ini: Callable[[str], Any],
    environ: Mapping[str, str] | None = None,
    faults: Sequence[str] = (),
    data_suite: bool = False,
) -> Settings:
    """Resolve every setting, CLI > env > ini > default, and validate them all.

    ``cli(dest)`` and ``ini(dest)`` return the raw value or None. All problems
    are collected before raising, so a user fixes them in one go; with
    ``data_suite``, a missing target or run date is one of them.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for spec in OPTIONS:
        for source, value in (
            ("cli", cli(spec.dest)),
            ("env", env.get(spec.env) or None),
            ("ini", ini(spec.dest) or None),
            ("default", spec.default),
        ):
            if value is not None:
                raw[spec.dest] = str(value).strip()
                sources[spec.dest] = source
                break
        else:
            raw[spec.dest] = None

    problems: list[str] = []
    run_date: dt.date | None = None
    if raw["run_date"] is not None:
        try:
            run_date = parse_run_date(raw["run_date"])
            check_in_calendar(run_date)
        except ValueError as exc:
            problems.append(str(exc))

    target = raw["target"]
    if target is not None:
        target = target.lower()
        if target not in TARGETS:
            problems.append(
                f"unknown target {raw['target']!r}: choose --target live or --target mock "
                "(or set DATAFLIGHT_TARGET)"
            )
            target = None

    bucket = env.get("DATAFLIGHT_BUCKET") or None
    arctic_uri = env.get("DATAFLIGHT_ARCTIC_URI") or None
    if target == "live" and not bucket:
        problems.append(
            "--target live needs a bucket: set DATAFLIGHT_BUCKET to the bucket the pipeline writes"
        )
    if target == "mock":
        bucket = MOCK_BUCKET
        arctic_uri = None  # built from the moto endpoint once it is up
    if faults and target != "mock":
        problems.append(
            "--mock-fault applies to the mock world only: add --target mock "
            f"(got target {target or 'unset'})"
        )

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    report = raw["report"] or DEFAULT_REPORT
    ssm_prefix = raw["ssm_prefix"] or DEFAULT_SSM_PREFIX
    if not ssm_prefix.startswith("/"):
        ssm_prefix = "/" + ssm_prefix

    if data_suite:
        problems.extend(_missing(raw["target"] is None, raw["run_date"] is None))
    if problems:
        raise SettingsError(problems)
    return Settings(
        run_date=run_date,
        target=target,
        report=report,
        ssm_prefix=ssm_prefix,
        faults=tuple(dict.fromkeys(faults)),
        bucket=bucket,
        arctic_uri=arctic_uri,
        region=region,
        sources=sources,
    )


def missing_for_data_suite(settings: Settings) -> list[str]:
    """What a data suite cannot run without; all of it, not the first."""
    return _missing(settings.target is None, settings.run_date is None)


def _missing(no_target: bool, no_run_date: bool) -> list[str]:
    missing = []
    if no_target:
        missing.append(
            "a data suite needs a target: add --target mock (moto_server, seeded world) "
            "or --target live (the configured AWS endpoints), or set DATAFLIGHT_TARGET"
        )
    if no_run_date:
        missing.append(
            "a data suite needs a run date: add --run-date YYYY-MM-DD or set DATAFLIGHT_RUN_DATE"
        )
    return missing


def check_in_calendar(run_date: dt.date) -> None:
    """A run date the trading calendar can answer for, else ValueError saying which it can."""
    from .trading_calendar import CalendarError, TradingCalendar

    try:
        TradingCalendar.check_bounds(run_date)
    except CalendarError as exc:
        raise ValueError(f"run date {run_date.isoformat()} is out of range: {exc}") from None
