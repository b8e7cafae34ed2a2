"""``-n 2`` gives one report with the same content as a serial run, order aside."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from report_helpers import MOCK_ARGS, dead_live_target, last_line, load_report, run

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


# Three contracts; the first two sit in a long sleep when SIGTERM comes.
SLEEPERS = """
import pathlib, time
from pytest_dataflight import contract

@contract(stage="postflight", phases=["daily"], consumers=["research"])
def test_slow_a():
    pathlib.Path("started-a").touch()
    time.sleep(120)

@contract(stage="postflight", phases=["daily"], consumers=["predictor"])
def test_slow_b():
    pathlib.Path("started-b").touch()
    time.sleep(120)

@contract(stage="postflight", phases=["daily"], consumers=["backtester"])
def test_never_started():
    pass
"""


def test_sigterm_under_xdist_writes_the_report_within_5_seconds(
    pytester: pytest.Pytester,
) -> None:
    # Given -n 2 with both workers busy in a long contract, the third never started
    pytester.makepyfile(test_sleepers=SLEEPERS)
    report_path = pytester.path / "dataflight-report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *MOCK_ARGS, "-n", "2"],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not all((pytester.path / f"started-{w}").exists() for w in "ab"):
            assert proc.poll() is None and time.monotonic() < deadline, "contracts never started"
            time.sleep(0.05)
        # When the orchestrator sends SIGTERM (ECS sends SIGKILL 30 s later)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        while not report_path.exists() and time.monotonic() - sent < 5:
            time.sleep(0.05)
        # Then the report is there within 5 s, and names what never ran and whom it blocks
        assert report_path.exists(), "no report 5 s after SIGTERM"
        report = load_report(report_path)
        assert (report["status"], report["exit_code"]) == ("error", 2)
        assert {e["contract"]: e["outcome"] for e in report["contracts"]} == {
            "slow_a": "not_run",
            "slow_b": "not_run",
            "never_started": "not_run",
        }
        assert report["consumers"] == dict.fromkeys(
            ["backtester", "predictor", "research"], "unchecked"
        )
        assert report["blocked_consumers"] == []
    finally:
        # The whole group: the workers sleep on after the controller is gone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
