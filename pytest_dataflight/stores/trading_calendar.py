"""Trading-session arithmetic on a real exchange calendar; no pytest import.

Calendar days are wrong for freshness: a Sunday or holiday redrive is not
"two days late". Every answer here comes from ``exchange_calendars``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

# exchange_calendars has no rules before this for XNYS that we trust for data
# freshness; asking earlier is a mistake in the caller, not a session count.
EARLIEST = dt.date(1990, 1, 1)
# A run date further ahead than this is a typo (2062 for 2026), not a plan.
HORIZON_YEARS = 30
# A run reads back from its run date (a year of rows for the longest feature
# window, the mock world's seeded history): the calendar must answer that far.
LOOKBACK_YEARS = 2


@functools.lru_cache(maxsize=8)
def _build(name: str, start: dt.date, end: dt.date) -> Any:
    # Building XNYS over ~12 years costs ~0.7 s; the mock world and the fixtures
    # of one process ask for the same range, so build it once.
    import exchange_calendars as xcals

    return xcals.get_calendar(name, start=start.isoformat(), end=end.isoformat())


class CalendarError(ValueError):
    """A date the calendar cannot answer for, with the range it can."""


def _to_date(value: Any) -> dt.date:
    import pandas as pd

    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        # A UTC-aware daily index labels the session's date at midnight UTC.
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()


class TradingCalendar:
    """Sessions of one exchange, built lazily over a range that covers what is asked.

    The default ``exchange_calendars`` range ends one year from today; a run
    date or a series beyond it would raise deep inside the library, so the
    range grows on demand (from a year before the earliest date asked to a
    year after the latest or today, whichever is later).
    """

    def __init__(self, name: str = "XNYS", today: dt.date | None = None) -> None:
        self.name = name
        self._today = today or dt.date.today()
        self._cal: Any = None
        self._start: dt.date | None = None
        self._end: dt.date | None = None

    @staticmethod
    def check_bounds(day: dt.date, name: str = "XNYS", today: dt.date | None = None) -> None:
        """Raise CalendarError for a date no calendar built here can answer for."""
        latest_ok = dt.date((today or dt.date.today()).year + HORIZON_YEARS, 12, 31)
        if day < EARLIEST or day > latest_ok:
            raise CalendarError(
                f"{name} calendar cannot answer for {day.isoformat()}: "
                f"it covers {EARLIEST.isoformat()} to {latest_ok.isoformat()}"
            )

    def _calendar(self, *dates: dt.date) -> Any:
        for d in dates:
            self.check_bounds(d, self.name, self._today)
        lo = min(dates)
        hi = max(max(dates), self._today)
        if self._cal is None or lo < self._start or hi > self._end:  # type: ignore[operator]
            start = max(EARLIEST, dt.date(lo.year - 1, 1, 1))
            end = dt.date(hi.year + 1, 12, 31)
            if self._start is not None and self._end is not None:
                start, end = min(start, self._start), max(end, self._end)
            self._cal = _build(self.name, start, end)
            self._start, self._end = start, end
        return self._cal

    def is_session(self, day: Any) -> bool:
        import pandas as pd

        d = _to_date(day)
        return bool(self._calendar(d).is_session(pd.Timestamp(d)))

    def last_session_on_or_before(self, day: Any) -> dt.date:
        """The session on ``day`` if it is one, else the one before it."""
        import pandas as pd

        d = _to_date(day)
        return self._calendar(d).date_to_session(pd.Timestamp(d), direction="previous").date()

    def sessions_between(self, start: Any, end: Any) -> list[dt.date]:
        """Sessions in [start, end], both ends included."""
        import pandas as pd

        a, b = _to_date(start), _to_date(end)
        if a > b:
            return []
        sessions = self._calendar(a, b).sessions_in_range(pd.Timestamp(a), pd.Timestamp(b))
        return [ts.date() for ts in sessions]

    def sessions_behind(self, last: Any, reference: Any) -> int:
        """How many sessions ``last`` lags ``reference`` (0 when on or after it).

        ``last`` need not be a session itself: a row dated on a holiday counts
        as the session before it.
        """
        a = self.last_session_on_or_before(last)
        b = self.last_session_on_or_before(reference)
        if a >= b:
            return 0
        return len(self.sessions_between(a, b)) - 1

    def previous_sessions(self, day: Any, count: int) -> list[dt.date]:
        """The ``count`` sessions ending at the last session on or before ``day``, oldest first."""
        end = self.last_session_on_or_before(day)
        # Two calendar days per session is always enough for NYSE.
        start = end - dt.timedelta(days=2 * count + 10)
        return self.sessions_between(start, end)[-count:]
