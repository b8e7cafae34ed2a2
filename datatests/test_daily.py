"""Daily preflight: is yesterday's SPY there before the predictor starts (PIPELINE.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_dataflight import LibraryMissing, Threshold, Thresholds, TradingCalendar, contract

from .freshness import spy_last_row
from .layout import MACRO_LIBRARY, MAX_DAILY_SPY_SESSIONS_BEHIND, PREDICTOR, REFERENCE_SYMBOL


@contract(
    stage="preflight",
    phases=["daily"],
    consumers=[PREDICTOR],
    thresholds={
        "max_sessions_behind": Threshold(MAX_DAILY_SPY_SESSIONS_BEHIND, "count", "sessions")
    },
)
def test_daily_spy_fresh(
    arctic: Any,
    run_date: dt.date,
    trading_calendar: TradingCalendar,
    evidence: Any,
    thresholds: Thresholds,
) -> None:
    """macro.SPY is at most `max_sessions_behind` (1) NYSE sessions behind the last session
    on or before run_date."""
    allowed = thresholds["max_sessions_behind"]
    reference = trading_calendar.last_session_on_or_before(run_date)
    last, problem = spy_last_row(arctic)
    evidence.update(reference=reference, last_row=last, allowed=allowed)
    if problem:
        if not arctic.has_library(MACRO_LIBRARY):
            # One cause with arcticdb_libraries_present and macro_spy_fresh: grouped.
            raise LibraryMissing(
                MACRO_LIBRARY, consequence=f"predictor has no prices for {reference}"
            )
        pytest.fail(f"{problem}: predictor has no prices for {reference}", pytrace=False)
    behind = trading_calendar.sessions_behind(last, reference)
    evidence["sessions_behind"] = behind
    if behind > allowed:
        pytest.fail(
            f"{MACRO_LIBRARY}.{REFERENCE_SYMBOL} ends {last}, {behind} NYSE sessions behind "
            f"{reference} (last session on or before run_date {run_date}), at most "
            f"{allowed} allowed: predictor refuses stale prices",
            pytrace=False,
        )
