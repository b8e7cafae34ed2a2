"""Every contract passes on the healthy world and fails on the fault it exists for, alone.

Given the mock world seeded for a run date, when the suite runs with one
named fault applied, then exactly the contracts that fault declares (in
datatests/faults.py BREAKS) fail, error or skip, and every other passes.
"""

from __future__ import annotations

import json

import pytest
from datatests_helpers import CONTRACTS, describe, expect_only, run_datatests
from report_helpers import load_report

from datatests import mock_world
from datatests.faults import BREAKS

pytestmark = pytest.mark.slow


def test_healthy_world_passes_every_contract(pytester: pytest.Pytester) -> None:
    # Given the healthy world: NaN VWAP, recent listings in warm-up, stale removed members
    result, observed = run_datatests(pytester, "2026-04-18")
    assert expect_only(observed, {}) == [], describe(result)
    assert sorted(observed) == sorted(CONTRACTS)
    assert result.ret == pytest.ExitCode.OK
    # Then the removed members are named with how far behind they are, never failed
    fresh = result.dataflight_evidence["universe_fresh"]  # type: ignore[attr-defined]
    assert fresh["not_constituents_count"] == len(mock_world.REMOVED_MEMBERS)
    assert "ZZA: ends 2026-04-14, 3 sessions behind" in fresh["not_constituents"]
    assert fresh["checked"] == mock_world.CONSTITUENT_COUNT
    # And warm-up is decided from metadata for the few stocks that need it, not for all
    prices = result.dataflight_evidence["universe_prices_sane"]  # type: ignore[attr-defined]
    # (the recent listings and removed members with NaN long-window features in the window)
    assert 0 < prices["row_counts_read"] <= 2 * len(mock_world.REMOVED_MEMBERS)
    assert fresh["stocks"] == mock_world.CONSTITUENT_COUNT + len(mock_world.REMOVED_MEMBERS)


# Contracts no fault can break alone, and why that is the truth rather than a gap.
NO_SOLO_FAULT = {
    # Any SPY lag over daily's 1 session is also over phase 1's 0 sessions.
    "daily_spy_fresh": "macro_spy_fresh",
    # A missing library also breaks the contracts that read it.
    "arcticdb_libraries_present": "macro_spy_fresh",
}


def test_every_contract_has_a_fault_that_fails_it_alone() -> None:
    failed_alone = {
        contract
        for breaks in BREAKS.values()
        for contract, outcome in breaks.items()
        if outcome == "failed" and len(breaks) == 1
    }
    failed_at_all = {c for breaks in BREAKS.values() for c, o in breaks.items() if o == "failed"}
    assert sorted(set(CONTRACTS) - failed_at_all) == []
    assert sorted(set(CONTRACTS) - failed_alone) == sorted(NO_SOLO_FAULT)
    warned_alone = {
        c
        for breaks in BREAKS.values()
        for c, o in breaks.items()
        if o == "warned" and len(breaks) == 1
    }
    assert sorted(warned_alone & set(WARNS)) == sorted(WARNS)


# What the message must say, for a few faults: observed vs expected and who breaks.
MESSAGES = {
    "spy_one_session_behind": "macro.SPY ends 2026-04-16, 1 NYSE session behind 2026-04-17 "
    "(last session on or before run_date 2026-04-18): predictor refuses stale prices",
    "pointer_not_rolled": "date is '2026-04-11', expected '2026-04-18'",
    "constituents_799": "799 distinct tickers, expected at least 800",
    "constituents_duplicate": "799 distinct tickers (800 listed, 1 duplicates)",
    # Only the constituent is named, not the removed members that are stale beside it.
    "one_stale_ticker": "1 of 903 universe stocks listed in "
    "market_data/weekly/2026-04-18/constituents.json are more than 2 NYSE sessions behind "
    "2026-04-17 (macro.SPY's last row): MOG-A ends 2026-04-14, 3 sessions behind; research",
    "removed_member_still_listed": "1 of 904 universe stocks listed in "
    "market_data/weekly/2026-04-18/constituents.json are more than 2 NYSE sessions behind "
    "2026-04-17 (macro.SPY's last row): ZZD ends 2026-03-10, 27 sessions behind; research",
    "constituents_unreadable": "5 of 908 universe stocks (all judged: "
    "market_data/weekly/2026-04-18/constituents.json cannot be read) are more than 2 NYSE",
    "constituents_share_no_stock": "none of the 903 tickers of "
    "market_data/weekly/2026-04-18/constituents.json is a stock of ArcticDB library 'universe'",
    "alternative_source_breached": "news 0.79 < 0.80, options_flow 0.42 < 0.80",
    "short_interest_absent": "is absent (short interest may be disabled)",
    "alternative_manifest_absent": "is absent (phase 2 has not written it)",
    "fmp_payment_required": "FMP /stable answered 402 (the plan does not cover this endpoint)",
    "fred_hangs": "FRED did not answer in time",
    "bucket_missing": "answered 404",
    "preflight_not_writable": "refused (AccessDenied)",
    "price_high_below_low": "1 symbol breaks price rules (1 value): MSFT 2026-04-17 High ",
    "price_close_above_high": "NVDA 2026-04-16 Close ",
    "price_close_zero": "AMZN 2026-04-17 Close 0 <= 0",
    "price_volume_negative": "GOOGL 2026-04-17 Volume -1200 < 0",
    "price_nan_open": "META 2026-04-17 Open nan",
    "feature_inf": "JPM 2026-04-17 rsi_14 inf",
    "feature_nan_after_warm_up": "1 NaN feature value in the last 5 rows of 1 stock past "
    "warm-up (zscore_20d 1): XOM 2026-04-17 zscore_20d; consumers not blocked",
    # 903 constituents but MSFT, less the 3 recent listings (in warm-up: they do not count)
    "feature_nan_all_but_one": "899 NaN feature values in the last 5 rows of 899 stocks past "
    "warm-up (high_252d_ratio 899): AAA 2026-04-17 high_252d_ratio; ",
    "feature_nan_everywhere": "1 feature NaN on the last row of every constituent past "
    "warm-up (265 rows) that has it: high_252d_ratio (all 900); its computation broke",
    "vwap_inf": "1 symbol breaks price rules (1 value): BRK-B 2026-04-17 VWAP inf;",
    "price_big_move": "AAPL 2026-04-17 Close +",
    "price_volume_zero": "BRK-B 2026-04-17 Volume 0",
    "price_volume_spike": "AAA 2026-04-17 Volume ",
    "session_gap": "1 universe stock misses 1 NYSE session within the last 20 sessions "
    "ending at its last row: JPM 2026-04-14",
    "universe_missing_members": "3 of 906 constituents of "
    "market_data/weekly/2026-04-18/constituents.json are not symbols of ArcticDB library "
    "'universe': BNY, P, SN",
    "churn_warns": "constituents churn 10.4% against the previous weekly run 2026-04-11",
    "churn_fails": "constituents churn 30.3% against the previous weekly run 2026-04-11",
    "no_previous_run": "no previous weekly run to compare",
    "macro_json_deep": "nests arrays/objects 100,000 levels deep, more than the 64 bound",
    "fred_captive_portal": "FRED answered 200 with an HTML page",
    "ticker_not_a_string": "s3://dataflight-mock/market_data/weekly/2026-04-18/constituents.json "
    "breaks its schema datatests/schemas/constituents.schema.json: "
    "tickers[17] is 320193, expected a string",
    "manifest_ratio_not_a_number": "breaks its schema "
    'datatests/schemas/alternative_manifest.schema.json: source_ok_ratios.news is "n/a", '
    "expected a number",
    "pointer_is_array": "latest_weekly.json breaks its schema "
    "datatests/schemas/latest_weekly.schema.json: the document is an array of 1 item, "
    "expected an object",
}

# Contracts with a soft rule, each warned alone by some fault.
WARNS = ["universe_prices_sane", "constituents_churn"]


@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_fault_breaks_exactly_its_contracts(pytester: pytest.Pytester, fault: str) -> None:
    result, observed = run_datatests(pytester, "2026-04-18", faults=[fault])
    assert expect_only(observed, BREAKS[fault]) == [], describe(result)
    if fault in MESSAGES:
        assert MESSAGES[fault] in describe(result)
    if any(o in ("failed", "error") for o in BREAKS[fault].values()):
        assert result.ret == pytest.ExitCode.TESTS_FAILED
    else:
        assert result.ret == pytest.ExitCode.OK
    if set(BREAKS[fault].values()) == {"warned"}:
        # A soft threshold only reports: status passed, nobody blocked.
        report = json.loads((pytester.path / "dataflight-report.json").read_text())
        assert report["status"] == "passed"
        assert report["blocked_consumers"] == []
        assert {c["contract"]: c["outcome"] for c in report["contracts"]} == {
            c: BREAKS[fault].get(c, "passed") for c in CONTRACTS
        }


def test_forty_bad_symbols_keep_the_report_small_and_say_40(pytester: pytest.Pytester) -> None:
    # Given 40 of the universe's stocks with a broken last bar
    result, observed = run_datatests(pytester, "2026-04-18", faults=["prices_forty_bad"])
    # Then the report names the count, stays within Step Functions' payload, and is valid
    path = pytester.path / "dataflight-report.json"
    size = len(path.read_bytes())
    report = load_report(path)
    entry = next(e for e in report["contracts"] if e["contract"] == "universe_prices_sane")
    assert entry["outcome"] == "failed"
    assert entry["message"].startswith("40 symbols break price rules")
    assert size <= 256 * 1024, size
