"""Running the repository's datatests/ suite from tests/ and reading what each contract did."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

# In-process pytester runs restore sys.modules afterwards, dropping what the run
# imported; native extensions (arcticdb_ext) cannot be imported twice. Importing
# the heavy stack here, once, keeps it loaded across runs (and saves seconds each).
import arcticdb  # noqa: F401, E402
import boto3  # noqa: F401, E402
import exchange_calendars  # noqa: F401, E402
import pandas  # noqa: F401, E402
import pytest
import requests  # noqa: F401, E402

# Likewise the mock world: it keeps its frames and its ArcticDB template for the
# process (datatests/arctic_template.py), which a run that imported it first would drop.
import datatests.mock_world  # noqa: F401, E402
from pytest_dataflight.report.outcome import TestFacts, outcome_of
from pytest_dataflight.report.verdicts import record

REPO = Path(__file__).resolve().parent.parent
DATATESTS = REPO / "datatests"

CONTRACTS = [
    "latest_weekly_pointer",
    "macro_json",
    "constituents_json",
    "short_interest_json",
    "macro_spy_fresh",
    "universe_fresh",
    "alternative_manifest",
    "secrets_present",
    "s3_bucket_reachable",
    "s3_writable",
    "arcticdb_libraries_present",
    "fred_reachable",
    "polygon_reachable",
    "fmp_stable_reachable",
    "daily_spy_fresh",
    "universe_covers_constituents",
    "universe_prices_sane",
    "universe_session_gaps",
    "constituents_churn",
]


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """contract name -> passed | warned | failed | error | skipped, from the in-process
    run's reports, read by the plugin's own parser (``verdicts.record``) and decided
    by its one rule (``outcome.outcome_of``): the test cannot disagree with the report.
    """
    tests: dict[str, TestFacts] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        test = tests.setdefault(report.nodeid, TestFacts(report.nodeid))
        record(test, report, "")
    seen: dict[str, str] = {}
    messages: dict[str, str] = {}
    evidence: dict[str, Any] = {}
    for nodeid, test in tests.items():
        name = nodeid.rsplit("::", 1)[-1].removeprefix("test_")
        outcome, message = outcome_of(test, "not run")
        seen[name] = outcome.value
        if message:
            messages[name] = message[:500]
        if test.evidence is not None:
            evidence[name] = dict(test.evidence)
    result.dataflight_messages = messages  # type: ignore[attr-defined]
    result.dataflight_evidence = evidence  # type: ignore[attr-defined]
    return seen


def runpytest_datatests(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the repository's datatests/ in-process, rooted at the repository, with its ini.

    The ini is named, not found: pytest looks for it above the common directory of
    every argument that names an existing path, and a report a previous run left
    (``--dataflight-report <tmp>/report.json``) moved that to /tmp, where no ini
    is. The second run of a test then lost ``dataflight_mock_arctic = "lmdb"``
    and seeded its 903 symbols on moto: 56 s instead of 20 for the two runs.
    """
    return pytester.runpytest(
        str(DATATESTS),
        *("--rootdir", str(REPO), "--config-file", str(REPO / "pyproject.toml")),
        *("-p", "no:cacheprovider"),
        *args,
    )


def run_datatests(
    pytester: pytest.Pytester, run_date: str, *args: str, faults: Sequence[str] = ()
) -> tuple[pytest.RunResult, dict[str, str]]:
    """The suite on the mock target for ``run_date`` with ``faults``; outcomes by contract."""
    result = runpytest_datatests(
        pytester,
        *("--run-date", run_date, "--target", "mock"),
        *("--dataflight-report", str(pytester.path / "dataflight-report.json")),
        *(a for f in faults for a in ("--mock-fault", f)),
        *args,
    )
    return result, outcomes(result)


def expect_only(observed: dict[str, str], broken: dict[str, str]) -> list[str]:
    """Differences between observed outcomes and 'these broken, every other contract passed'."""
    problems = []
    for contract in CONTRACTS:
        want = broken.get(contract, "passed")
        got = observed.get(contract, "missing")
        if got != want:
            problems.append(f"{contract}: expected {want}, got {got}")
    return problems


def describe(result: Any) -> str:
    return "\n".join(f"{k}: {v}" for k, v in getattr(result, "dataflight_messages", {}).items())
