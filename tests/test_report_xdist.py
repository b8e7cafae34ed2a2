"""``-n 2`` gives one report with the same content as a serial run, order aside."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from report_helpers import dead_live_target, last_line, run

# Every outcome a contract can have, and a store that does not answer.
CONTRACTS = """
import pytest
from pytest_dataflight import contract

@pytest.fixture
def missing_library():
    raise LookupError("ArcticDB library 'universe' does not exist")

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda"])
def test_macro_json(evidence):
    evidence["rows"] = 12

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda", "spot_phase1"])
def test_universe_fresh(evidence):
    stale = [f"T{i:04d}" for i in range(120)]
    evidence["stale"] = stale
    assert not stale, f"{len(stale)} of 500 symbols stale"

@contract(stage="postflight", phases=["phase1"], consumers=["spot_phase1"])
def test_libraries_present(missing_library):
    pass

@contract(stage="preflight", phases=["phase1"], consumers=["producer"])
def test_s3_bucket_reachable(s3, bucket):
    s3.head_bucket(Bucket=bucket)

@contract(stage="postflight", phases=["phase2"], consumers=["dashboard"], severity="warn")
def test_short_interest_recent():
    assert False, "short interest is 9 days old, expected at most 7"

@contract(stage="postflight", phases=["phase2"], consumers=["spot_phase2"])
def test_alternative_manifest():
    pytest.skip("optional artifact absent")

@pytest.mark.parametrize("series", ["DGS10", "VIXCLS"])
@contract(stage="postflight", phases=["daily"], consumers=["research_lambda"])
def test_fred_series(series):
    pass
"""

TIMING = ("started_at", "duration_s", "created", "duration")


def content(report: dict[str, Any]) -> dict[str, Any]:
    """The report without timings and with lists in a fixed order."""
    r = copy.deepcopy(report)
    for key in TIMING:
        del r[key]
    for entry in r["contracts"] + r["failures"]:
        del entry["duration_s"]
    for test in r["tests"]:
        for stage in ("setup", "call", "teardown"):
            test.get(stage, {}).pop("duration", None)
    for key in ("contracts", "failures", "tests"):
        r[key].sort(key=lambda e: e["nodeid"])
    return r


@pytest.mark.usefixtures("clean_env")
def test_xdist_report_equals_serial_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a suite with every outcome, on a live target whose S3 does not answer
    pytester.makepyfile(test_contracts=CONTRACTS)
    args = ("-p", "no:cacheprovider", "--target", "live", "--run-date", "2026-04-18")
    with dead_live_target(monkeypatch):
        # When it runs serially, then on two workers
        serial_result, serial = run(pytester, *args)
        xdist_result, distributed = run(pytester, *args, "-n", "2", subprocess=True)
    # Then both runs say the same, in one report each
    assert serial_result.ret == xdist_result.ret == pytest.ExitCode.TESTS_FAILED
    assert serial["status"] == "failed"
    assert {e["contract"]: e["outcome"] for e in serial["contracts"]} == {
        "macro_json": "passed",
        "universe_fresh": "failed",
        "libraries_present": "error",
        "s3_bucket_reachable": "error",
        "short_interest_recent": "warned",
        "alternative_manifest": "skipped",
        "fred_series[DGS10]": "passed",
        "fred_series[VIXCLS]": "passed",
    }
    assert content(distributed) == content(serial)
    assert last_line(xdist_result) == distributed["headline"]
