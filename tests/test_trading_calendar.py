"""Trading-day arithmetic on the XNYS calendar: PIPELINE.md's worked examples, and its bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_dataflight.stores.trading_calendar import CalendarError, TradingCalendar

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def calendar() -> TradingCalendar:
    # Building the calendar costs about a second: once per module.
    return TradingCalendar()


# PIPELINE.md, "NYSE sessions: worked examples".
WORKED_EXAMPLES = [
    ("2026-04-18", "2026-04-17"),  # Saturday
    ("2026-04-04", "2026-04-02"),  # Saturday after Good Friday (2026-04-03, closed)
    ("2026-05-24", "2026-05-22"),  # Sunday redrive
    ("2026-05-25", "2026-05-22"),  # Memorial Day, closed
    ("2026-05-26", "2026-05-26"),  # Tuesday
    ("2026-06-19", "2026-06-18"),  # Juneteenth, closed
    ("2026-11-27", "2026-11-27"),  # day after Thanksgiving, early close
]


@pytest.mark.parametrize(("run_date", "session"), WORKED_EXAMPLES)
def test_last_session_on_or_before(calendar: TradingCalendar, run_date: str, session: str) -> None:
    assert calendar.last_session_on_or_before(D(run_date)) == D(session)


def test_accepts_strings_datetimes_and_utc_timestamps(calendar: TradingCalendar) -> None:
    import pandas as pd

    expected = D("2026-04-17")
    assert calendar.last_session_on_or_before("2026-04-18") == expected
    assert calendar.last_session_on_or_before(dt.datetime(2026, 4, 18, 23, 59)) == expected
    # A UTC-aware daily index labels the session at midnight UTC.
    assert calendar.last_session_on_or_before(pd.Timestamp("2026-04-17", tz="UTC")) == expected


def test_sessions_behind(calendar: TradingCalendar) -> None:
    run_date = D("2026-04-18")
    assert calendar.sessions_behind(D("2026-04-16"), run_date) == 1
    assert calendar.sessions_behind(D("2026-04-17"), run_date) == 0
    assert calendar.sessions_behind(D("2026-04-20"), run_date) == 0  # ahead is not behind
    # Good Friday is no session: Thursday is 0 behind on the Saturday after it.
    assert calendar.sessions_behind(D("2026-04-02"), D("2026-04-04")) == 0
    # Calendar days would say 3 for the Memorial Day redrive; it is 1 session.
    assert calendar.sessions_behind(D("2026-05-21"), D("2026-05-25")) == 1


def test_sessions_between_and_previous_sessions(calendar: TradingCalendar) -> None:
    week = calendar.sessions_between(D("2026-03-30"), D("2026-04-05"))
    assert week == [D("2026-03-30"), D("2026-03-31"), D("2026-04-01"), D("2026-04-02")]
    assert calendar.sessions_between(D("2026-04-05"), D("2026-03-30")) == []
    assert calendar.previous_sessions(D("2026-04-04"), 3) == [
        D("2026-03-31"),
        D("2026-04-01"),
        D("2026-04-02"),
    ]
    assert not calendar.is_session(D("2026-04-03"))
    assert calendar.is_session(D("2026-04-02"))


def test_a_run_date_more_than_a_year_ahead(calendar: TradingCalendar) -> None:
    # exchange_calendars' default range ends a year from today; the run date decides.
    assert calendar.last_session_on_or_before(D("2028-06-30")) == D("2028-06-30")  # Friday
    assert calendar.last_session_on_or_before(D("2028-07-01")) == D("2028-06-30")
    assert calendar.sessions_behind(D("2028-06-29"), D("2028-07-02")) == 1


def test_the_range_grows_both_ways(calendar: TradingCalendar) -> None:
    assert calendar.last_session_on_or_before(D("1995-01-01")) == D("1994-12-30")
    assert calendar.last_session_on_or_before(D("2026-04-18")) == D("2026-04-17")


@pytest.mark.parametrize("day", ["1850-01-01", "2300-01-01"])
def test_a_date_it_cannot_know_is_a_clear_error(calendar: TradingCalendar, day: str) -> None:
    with pytest.raises(CalendarError, match=rf"XNYS calendar cannot answer for {day}: it covers"):
        calendar.last_session_on_or_before(D(day))
    with pytest.raises(CalendarError, match=day):
        calendar.sessions_behind(D("2026-04-16"), D(day))


def test_the_horizon_is_counted_from_today() -> None:
    # 30 years ahead of "today" is a plan; further is a typo (2062 for 2026).
    assert TradingCalendar(today=D("2026-01-01")).is_session(D("2056-12-29"))
    with pytest.raises(CalendarError, match="it covers 1990-01-01 to 2056-12-31"):
        TradingCalendar(today=D("2026-01-01")).last_session_on_or_before(D("2057-01-02"))
