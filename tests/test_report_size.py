"""The report stays within Step Functions' 256 KB payload when 10,000 tickers are stale."""

from __future__ import annotations

import pytest
from report_helpers import MOCK_ARGS, REPORT_NAME, by_name, run

from pytest_dataflight.report.build import MAX_REPORT_BYTES

STALE_UNIVERSE = """
from pytest_dataflight import contract

TICKERS = [f"TICK{i:05d}" for i in range(10_000)]

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda", "spot_phase1"])
def test_universe_fresh(evidence):
    last_rows = {t: "2026-04-10" for t in TICKERS}
    evidence["stale"] = TICKERS
    evidence["last_rows"] = last_rows
    evidence["note"] = "last rows " + ", ".join(f"{t}=2026-04-10" for t in TICKERS)
    assert not TICKERS, f"{len(TICKERS)} of 10000 symbols stale (last row 2026-04-10): {TICKERS}"
"""


def test_10000_stale_tickers_stay_under_256kb_and_every_cut_is_counted(
    pytester: pytest.Pytester, clean_env: None
) -> None:
    # Given a contract that finds 10,000 stale tickers and says so at length
    pytester.makepyfile(test_universe=STALE_UNIVERSE)
    # When
    result, report = run(pytester, *MOCK_ARGS, "-vv")
    # Then the report fits (run() checks the bytes), and says what it left out
    size = (pytester.path / REPORT_NAME).stat().st_size
    assert size <= MAX_REPORT_BYTES
    print(f"report size with 10,000 stale tickers: {size} bytes")
    entry = by_name(report)["universe_fresh"]
    assert entry["outcome"] == "failed"
    assert entry["message"].startswith("AssertionError: 10000 of 10000 symbols stale")
    assert entry["evidence"]["stale"]["total"] == 10_000
    assert entry["evidence"]["stale"]["truncated"] == 10_000 - len(
        entry["evidence"]["stale"]["items"]
    )
    assert entry["evidence"]["last_rows"]["..."].endswith("more keys of 10000")
    assert "more chars" in entry["evidence"]["note"]
    assert report["truncation"]["strings_cut"] >= 1
    assert report["blocked_consumers"] == ["research_lambda", "spot_phase1"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED
