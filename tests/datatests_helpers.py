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
    run's reports.

    ``error``: the contract could not be evaluated (setup raised, or the plugin
    marked it unevaluated because the store did not answer). ``warned``: a soft
    threshold was crossed; pytest sees it as passed, with a ``dataflight_warned``
    user property carrying the message.
    """
    seen: dict[str, str] = {}
    messages: dict[str, str] = {}
    evidence: dict[str, Any] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        name = report.nodeid.rsplit("::", 1)[-1].removeprefix("test_")
        unevaluated = any(k == "dataflight_unevaluated" for k, _ in report.user_properties)
        if report.when == "setup" and report.failed:
            seen[name] = "error"
        elif report.when == "call" and report.failed:
            seen[name] = "error" if unevaluated else "failed"
        elif report.skipped and name not in seen:
            seen[name] = "skipped"
        elif report.when == "call" and report.passed:
            seen[name] = "passed"
        if report.failed or report.skipped:
            messages[name] = str(report.longrepr)[:500]
        for key, value in report.user_properties:
            if key == "dataflight_evidence":
                evidence[name] = value
            elif key == "dataflight_warned" and isinstance(value, dict):
                seen[name] = "warned"
                messages[name] = str(value.get("message"))[:500]
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
