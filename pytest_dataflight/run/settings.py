"""Resolved run settings and their validation; no pytest import.

Every setting has one source of truth here (its CLI flag, environment
variable, ini key and default), so the precedence CLI > env > ini > default
is implemented once, in :func:`resolve`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

TARGETS = ("live", "mock")
DEFAULT_REPORT = "dataflight-report.json"
DEFAULT_SSM_PREFIX = "/dataflight/"
MOCK_BUCKET = "dataflight-mock"


@dataclass(frozen=True)
class OptionSpec:
    """One setting: where it may come from and what it means.

    Suites declare their own options with the same class (see
    :func:`pytest_dataflight.add_option`), so their precedence is ours.
    """

    dest: str
    flag: str
    env: str
    help: str
    default: str | None = None
    # Repeatable on the command line; comma-separated in the env var and ini key.
    multiple: bool = False
    metavar: str | None = None
    ini: str = ""  # default: dataflight_<dest>

    @property
    def ini_name(self) -> str:
        return self.ini or f"dataflight_{self.dest}"

    @property
    def option_dest(self) -> str:
        """The argparse dest (and ``config.getoption`` name) of the flag."""
        return f"dataflight_{self.dest}"


REPORT_S3_ENV = "DATAFLIGHT_REPORT_S3"
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
        "run_id",
        "--dataflight-run-id",
        "DATAFLIGHT_RUN_ID",
        "the orchestrator's id for this attempt (e.g. the Step Functions execution "
        "name and attempt), written into the report so that a report left by an "
        "earlier attempt is never read as this one's.",
        metavar="ID",
    ),
    OptionSpec(
        "policy",
        "--dataflight-policy",
        "DATAFLIGHT_POLICY",
        "a TOML policy file (PATH or s3://BUCKET/KEY): thresholds, severities and "
        "expiring waivers, validated before any contract runs.",
        metavar="PATH",
    ),
    OptionSpec(
        "ssm_prefix",
        "--dataflight-ssm-prefix",
        "DATAFLIGHT_SSM_PREFIX",
        f"SSM Parameter Store prefix for secrets (default {DEFAULT_SSM_PREFIX}).",
        DEFAULT_SSM_PREFIX,
    ),
    OptionSpec(
        "report_s3",
        "--dataflight-report-s3",
        REPORT_S3_ENV,
        "also upload the JSON report to s3://BUCKET/KEY (live target only; "
        "{run_date} and {target} in KEY are filled in).",
        metavar="S3_URL",
        ini="dataflight_report_s3",
    ),
    OptionSpec(
        "summary",
        "--dataflight-summary",
        "DATAFLIGHT_SUMMARY",
        "also write the report as Markdown to PATH (a CI job summary); "
        "$GITHUB_STEP_SUMMARY is appended to automatically when set.",
        metavar="PATH",
    ),
    OptionSpec(
        "catalog",
        "--dataflight-catalog",
        "DATAFLIGHT_CATALOG",
        "write the collected contracts as a Markdown catalog to PATH, and each "
        "artifact schema they declare to its own path (with --collect-only: "
        "nothing is checked).",
        metavar="PATH",
    ),
    OptionSpec(
        "mock_arctic",
        "--mock-arctic",
        "DATAFLIGHT_MOCK_ARCTIC",
        "where the mock target keeps ArcticDB: 's3' (on the moto bucket, as live; "
        "the default) or 'lmdb' (a local LMDB store: a realistic universe seeds in "
        "seconds instead of minutes at moto's ~200 requests/s).",
        default="s3",
    ),
    OptionSpec(
        "faults",
        "--mock-fault",
        "DATAFLIGHT_MOCK_FAULTS",
        "apply the suite's named fault to the mock world (repeatable; --target mock only).",
        multiple=True,
        metavar="NAME",
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
    report_s3: str | None = None
    run_id: str | None = None
    policy: str | None = None
    summary: str | None = None
    catalog: str | None = None
    mock_arctic: str = "s3"
    github_summary: str | None = None  # $GITHUB_STEP_SUMMARY, appended to
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
            "report_s3": self.report_s3,
            "run_id": self.run_id,
            "policy": self.policy,
            "summary": self.summary,
            "catalog": self.catalog,
            "mock_arctic": self.mock_arctic,
            "github_summary": self.github_summary,
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
            report_s3=data.get("report_s3"),
            run_id=data.get("run_id"),
            policy=data.get("policy"),
            summary=data.get("summary"),
            catalog=data.get("catalog"),
            mock_arctic=data.get("mock_arctic") or "s3",
            github_summary=data.get("github_summary"),
            bucket=data.get("bucket"),
            arctic_uri=data.get("arctic_uri"),
            region=data.get("region") or "us-east-1",
            sources=dict(data.get("sources") or {}),
        )


# Exactly YYYY-MM-DD in ASCII digits. date.fromisoformat alone also reads ISO
# week dates ('2026-W16-6' is 2026-04-18) and, with \d, other scripts' digits:
# the report's run_date must be the very string the orchestrator passed.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_run_date(value: str) -> dt.date:
    """ISO calendar date, strictly: '2026-02-30', 'tomorrow', '2026-W16-6' are refused."""
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"invalid run date {value!r}: expected a real calendar date as YYYY-MM-DD, "
            "e.g. --run-date 2026-04-18"
        ) from None


Lookup = Callable[[str], Any]


def raw_value(
    spec: OptionSpec, cli: Lookup, ini: Lookup, env: Mapping[str, str]
) -> tuple[Any, str | None]:
    """(value, source) by CLI > env > ini > default; an empty value counts as unset.

    A ``multiple`` option yields a tuple of names, duplicates dropped in order.
    """
    for source, value in (
        ("cli", cli(spec.dest)),
        ("env", env.get(spec.env) or None),
        ("ini", ini(spec.dest) or None),
        ("default", spec.default),
    ):
        if spec.multiple and isinstance(value, str):
            value = [part for part in value.split(",")]
        if spec.multiple and value:
            names = (str(v).strip() for v in value)
            return tuple(dict.fromkeys(n for n in names if n)), source
        if not spec.multiple and value is not None:
            return str(value).strip(), source
    return ((), None) if spec.multiple else (None, None)


def _check_run_date(raw: str | None, problems: list[str]) -> dt.date | None:
    if raw is None:
        return None
    try:
        run_date = parse_run_date(raw)
        check_in_calendar(run_date)
    except ValueError as exc:
        problems.append(str(exc))
        return None
    return run_date


def _check_target(raw: str | None, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if raw.lower() in TARGETS:
        return raw.lower()
    problems.append(
        f"unknown target {raw!r}: choose --target live or --target mock (or set DATAFLIGHT_TARGET)"
    )
    return None


def _check_report_s3(url: str | None, target: str | None, problems: list[str]) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        problems.append(f"invalid --dataflight-report-s3 {url!r}: expected s3://BUCKET/KEY")
        return None
    if target != "live":
        problems.append(
            "--dataflight-report-s3 uploads reports of the live target only "
            f"(got target {target or 'unset'}): a mock report must never be read "
            "as a live one; add --target live or drop the upload"
        )
    return url


MOCK_ARCTIC = ("s3", "lmdb")


def _check_mock_arctic(raw: str | None, problems: list[str]) -> str:
    value = (raw or "s3").lower()
    if value in MOCK_ARCTIC:
        return value
    problems.append(f"unknown --mock-arctic {raw!r}: choose s3 or lmdb")
    return "s3"


def _where(target: str | None, env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """Bucket, ArcticDB URI and region of ``target``."""
    bucket = env.get("DATAFLIGHT_BUCKET") or None
    arctic_uri = env.get("DATAFLIGHT_ARCTIC_URI") or None
    if target == "live" and not bucket:
        problems.append(
            "--target live needs a bucket: set DATAFLIGHT_BUCKET to the bucket the pipeline writes"
        )
    if target == "mock":
        bucket = MOCK_BUCKET
        arctic_uri = None  # built from the moto endpoint once it is up
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return {"bucket": bucket, "arctic_uri": arctic_uri, "region": region}


def resolve_partial(
    cli: Lookup,
    ini: Lookup,
    environ: Mapping[str, str] | None = None,
    data_suite: bool = False,
) -> tuple[Settings, list[str]]:
    """Every setting, CLI > env > ini > default, and every problem found.

    ``cli(dest)`` and ``ini(dest)`` return the raw value or None. Invalid
    values resolve to None, so a usage-error run still has what could be
    read (its report names the run date and target when they were valid).
    With ``data_suite``, a missing target or run date is a problem too.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in OPTIONS:
        raw[spec.dest], source = raw_value(spec, cli, ini, env)
        if source is not None:
            sources[spec.dest] = source
    problems: list[str] = []
    run_date = _check_run_date(raw["run_date"], problems)
    target = _check_target(raw["target"], problems)
    where = _where(target, env, problems)
    if raw["faults"] and target != "mock":
        problems.append(
            "--mock-fault applies to the mock world only: add --target mock "
            f"(got target {target or 'unset'})"
        )
    report_s3 = _check_report_s3(raw["report_s3"], target, problems)
    ssm_prefix = raw["ssm_prefix"] or DEFAULT_SSM_PREFIX
    if data_suite:
        problems.extend(_missing(raw["target"] is None, raw["run_date"] is None))
    settings = Settings(
        run_date=run_date,
        target=target,
        report=raw["report"] or DEFAULT_REPORT,
        ssm_prefix=ssm_prefix if ssm_prefix.startswith("/") else "/" + ssm_prefix,
        faults=raw["faults"],
        report_s3=report_s3,
        run_id=_check_run_id(raw["run_id"], problems),
        policy=_check_policy(raw["policy"], target, problems),
        summary=raw["summary"],
        catalog=raw["catalog"],
        mock_arctic=_check_mock_arctic(raw["mock_arctic"], problems),
        github_summary=env.get("GITHUB_STEP_SUMMARY") or None,
        sources=sources,
        **where,
    )
    return settings, problems


def _check_policy(value: str | None, target: str | None, problems: list[str]) -> str | None:
    if not value:
        return None
    if value.startswith("s3://"):
        parts = urlsplit(value)
        if not parts.netloc or not parts.path.strip("/"):
            problems.append(
                f"invalid --dataflight-policy {value!r}: expected PATH or s3://BUCKET/KEY"
            )
            return None
        if target == "mock":
            problems.append(
                "--dataflight-policy on S3 needs --target live: the mock world is made by "
                "the run, so no policy can be waiting in it; give a local PATH"
            )
            return None
    return value


# Step Functions execution names are at most 80 characters; room for an attempt suffix.
MAX_RUN_ID_CHARS = 128


def _check_run_id(value: str | None, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not value.strip() or len(value) > MAX_RUN_ID_CHARS or not value.isprintable():
        problems.append(
            f"invalid --dataflight-run-id {value[:MAX_RUN_ID_CHARS]!r}: give 1 to "
            f"{MAX_RUN_ID_CHARS} printable characters (e.g. the execution name and attempt)"
        )
        return None
    return value


def resolve(
    cli: Lookup,
    ini: Lookup,
    environ: Mapping[str, str] | None = None,
    data_suite: bool = False,
) -> Settings:
    """:func:`resolve_partial`, raising :class:`SettingsError` with every problem."""
    settings, problems = resolve_partial(cli, ini, environ, data_suite)
    if problems:
        raise SettingsError(problems)
    return settings


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
    """A run date the trading calendar can answer for, with the years a run reads
    back from it; else ValueError saying which dates it can."""
    from ..stores.trading_calendar import (
        EARLIEST,
        LOOKBACK_YEARS,
        CalendarError,
        TradingCalendar,
    )

    try:
        TradingCalendar.check_bounds(run_date)
    except CalendarError as exc:
        raise ValueError(f"run date {run_date.isoformat()} is out of range: {exc}") from None
    first = EARLIEST.replace(year=EARLIEST.year + LOOKBACK_YEARS)
    if run_date < first:
        raise ValueError(
            f"run date {run_date.isoformat()} is out of range: a run reads up to "
            f"{LOOKBACK_YEARS} years of sessions before its run date and the XNYS calendar "
            f"starts on {EARLIEST.isoformat()}; choose a run date from {first.isoformat()}"
        )
