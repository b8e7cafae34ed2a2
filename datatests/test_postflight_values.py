"""Phase 1 postflight, added after the first release: values, coverage and drift (PIPELINE.md,
"Contracts added after the first release").

universe_prices_sane and universe_session_gaps judge the same window of
recent rows (each stock's own last WINDOW_ROWS rows), read once per run
through the plugin's ``recent_rows``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from pytest_dataflight import TradingCalendar, Window, contract, soft_threshold, warn

from . import artifact_schemas as schemas
from .artifacts import read_artifact
from .freshness import universe_stocks
from .layout import (
    ALL_READERS,
    BACKTESTER,
    CHURN_FAIL_ABOVE,
    CHURN_WARN_ABOVE,
    CONSTITUENTS_JSON,
    NOT_STOCKS,
    PREDICTOR,
    RESEARCH,
    UNIVERSE_LIBRARY,
    weekly_key,
)
from .values import (
    GAP_WINDOW_SESSIONS,
    PRICE_WINDOW_ROWS,
    WARM_UP_ROWS,
    WINDOW_ROWS,
    Finding,
    Gap,
    count,
    hard_findings,
    listing,
    missing_sessions,
    nan_features_in_window,
    soft_findings,
    unusable_price_columns,
)
from .weekly_runs import previous_run


def _this_weeks_tickers(s3: Any, bucket: str, run_date: dt.date) -> tuple[str, list[str]]:
    """(key, distinct ticker names) of this week's constituents.json; fails if it has no
    `tickers` array. What is in the array is constituents_json's to judge: entries that are
    not names are left out here, so one bad entry fails one contract."""
    key = weekly_key(run_date, CONSTITUENTS_JSON)
    tickers = read_artifact(s3, bucket, key, _TICKERS_ONLY)["tickers"]
    return key, sorted({t for t in tickers if _named(t)})


_TICKERS_ONLY = schemas.CONSTITUENTS.outline("tickers")


def _named(ticker: Any) -> bool:
    """A ticker as the schema's `tickers` items have it: a string without whitespace."""
    return isinstance(ticker, str) and re.fullmatch(r"\S+", ticker) is not None


@contract(stage="postflight", phases=["phase1"], consumers=[RESEARCH, PREDICTOR])
def test_universe_covers_constituents(
    s3: Any, bucket: str, run_date: dt.date, arctic_library: Any, evidence: Any
) -> None:
    """Every ticker of this week's constituents.json (except macro symbols and sector ETFs) is
    a symbol of the `universe` library; the missing ones are named. Universe stocks no
    longer listed (recent removals) are evidence, never a failure.
    """
    key, tickers = _this_weeks_tickers(s3, bucket, run_date)
    members = [t for t in tickers if t not in NOT_STOCKS]
    stocks = set(universe_stocks(arctic_library(UNIVERSE_LIBRARY)))
    missing = [t for t in members if t not in stocks]
    removed = sorted(stocks.difference(members))
    evidence.update(
        constituents=len(members),
        universe_stocks=len(stocks),
        missing_count=len(missing),
        missing=missing,
        # Recent removals from the index: reported, never a failure.
        not_constituents_count=len(removed),
        not_constituents=removed,
    )
    if missing:
        pytest.fail(
            f"{len(missing)} of {len(members)} constituents of {key} are not symbols of "
            f"ArcticDB library {UNIVERSE_LIBRARY!r}: {listing(missing, sep=', ')} "
            "(never backfilled?); "
            "research fails at start-up and predictor has no prices for them",
            pytrace=False,
        )


def _stock_window(library: Any, recent_rows: Any, evidence: Any) -> tuple[Window, list[str]]:
    """The shared window of every universe stock; errors if the store failed, and
    returns the symbols whose data cannot be read (named in the failure)."""
    window = recent_rows(UNIVERSE_LIBRARY, universe_stocks(library), rows=WINDOW_ROWS)
    window.raise_for_store_errors()
    unreadable = [f"{s} ({why})" for s, why in window.with_status("unreadable").items()]
    for symbol, frame in window.frames().items():
        if unusable_price_columns(frame):
            unreadable.append(f"{symbol} ({'; '.join(unusable_price_columns(frame))})")
    evidence.update(
        stocks=len(window),
        statuses=window.counts(),
        # Empty or vanished symbols are universe_fresh's failure, not this contract's.
        not_judged=sorted(window.with_status("empty", "missing")),
        unreadable=unreadable,
    )
    return window, unreadable


def _warming_up(recent_rows: Any, window: Window) -> set[str]:
    """Symbols with fewer than WARM_UP_ROWS rows in total, whose NaN features are warm-up.

    A window shorter than asked for holds the whole symbol. For a full window with
    NaN features in the rows judged, read WARM_UP_ROWS rows of just those symbols.
    """
    frames = window.frames()
    short = {s for s, f in frames.items() if len(f) < window.rows}
    unsure = [s for s, f in frames.items() if s not in short and nan_features_in_window(f)]
    if unsure:
        longer = recent_rows(UNIVERSE_LIBRARY, unsure, rows=WARM_UP_ROWS)
        longer.raise_for_store_errors()
        short |= {s for s, f in longer.frames().items() if len(f) < WARM_UP_ROWS}
    return short


def _judge_prices(recent_rows: Any, window: Window) -> tuple[list[Finding], list[Finding]]:
    """(hard, soft) findings over every readable stock's last PRICE_WINDOW_ROWS rows."""
    frames = {s: f for s, f in window.frames().items() if not unusable_price_columns(f)}
    warming_up = _warming_up(recent_rows, window)
    hard: list[Finding] = []
    soft: list[Finding] = []
    for symbol, frame in frames.items():
        hard += hard_findings(symbol, frame, warm_up=symbol in warming_up)
        soft += soft_findings(symbol, frame)
    return hard, soft


def _unreadable(symbols: list[str]) -> str:
    return f"{count(len(symbols), 'symbol')} cannot be read: {listing(symbols)}"


def _symbols(findings: list[Any]) -> list[str]:
    return sorted({f.symbol for f in findings})


@contract(stage="postflight", phases=["phase1"], consumers=ALL_READERS)
def test_universe_prices_sane(arctic_library: Any, recent_rows: Any, evidence: Any) -> None:
    """For every universe stock, its own last 5 rows: fails on High < Low, Open or Close
    outside [Low, High], Close <= 0, Volume < 0, NaN or inf in OHLCV or a feature column
    (feature NaN allowed in a symbol's first 60 rows); warns on a close-to-close move above
    50 %, Volume == 0, or Volume above 10x its median of the 20 rows before.
    """
    library = arctic_library(UNIVERSE_LIBRARY)
    window, unreadable = _stock_window(library, recent_rows, evidence)
    hard, soft = _judge_prices(recent_rows, window)
    evidence.update(
        rows_judged=PRICE_WINDOW_ROWS,
        failing_symbols=_symbols(hard),
        failing_count=len(hard),
        failing=[str(f) for f in hard],
        warning_symbols=_symbols(soft),
        warning_count=len(soft),
        warning=[str(f) for f in soft],
    )
    problems = []
    if hard:
        n = len(_symbols(hard))
        verb = "breaks" if n == 1 else "break"
        problems.append(
            f"{count(n, 'symbol')} {verb} price rules ({count(len(hard), 'value')}): "
            f"{listing(hard)}"
        )
    if unreadable:
        problems.append(_unreadable(unreadable))
    if problems:
        pytest.fail(
            f"{'; '.join(problems)}; research, predictor and backtester would build features "
            "and z-scores on them",
            pytrace=False,
        )
    if soft:
        n = len(_symbols(soft))
        warn(
            f"{count(n, 'symbol')} {'has' if n == 1 else 'have'} suspicious values "
            f"({count(len(soft), 'value')}): {listing(soft)}; consumers not blocked"
        )


@contract(stage="postflight", phases=["phase1"], consumers=[PREDICTOR, BACKTESTER])
def test_universe_session_gaps(
    arctic_library: Any, recent_rows: Any, trading_calendar: TradingCalendar, evidence: Any
) -> None:
    """No NYSE session is missing from any universe stock within the 20 sessions ending at its
    last row (fewer rows: checked from its first row); names symbols and the missing
    sessions.
    """
    window, unreadable = _stock_window(arctic_library(UNIVERSE_LIBRARY), recent_rows, evidence)
    gaps = [
        Gap(symbol, holes)
        for symbol, frame in window.frames().items()
        if len(frame)
        and (
            holes := missing_sessions(
                frame,
                trading_calendar.last_session_on_or_before,
                trading_calendar.previous_sessions,
            )
        )
    ]
    holes = [f"{g.symbol} {d}" for g in gaps for d in g.sessions]
    evidence.update(
        sessions_checked=GAP_WINDOW_SESSIONS,
        gap_symbols=[g.symbol for g in gaps],
        gap_count=len(holes),
        missing_sessions=holes,
    )
    problems = []
    if gaps:
        one = len(gaps) == 1
        problems.append(
            f"{count(len(gaps), 'universe stock')} {'misses' if one else 'miss'} "
            f"{count(len(holes), 'NYSE session')} within the last {GAP_WINDOW_SESSIONS} "
            f"sessions ending at {'its' if one else 'their'} last row: {listing(gaps)}"
        )
    if unreadable:
        problems.append(_unreadable(unreadable))
    if problems:
        pytest.fail(
            f"{'; '.join(problems)}; later appends never fill a hole: predictor and "
            "backtester would shift returns across it",
            pytrace=False,
        )


@contract(stage="postflight", phases=["phase1"], consumers=[RESEARCH])
def test_constituents_churn(s3: Any, bucket: str, run_date: dt.date, evidence: Any) -> None:
    """(added + removed) / previous count against the latest weekly run at least 5 days before
    run_date: above 5 % warns, above 20 % fails; no previous run: skipped with the reason.
    """
    key, tickers = _this_weeks_tickers(s3, bucket, run_date)
    previous_date, previous = previous_run(s3, bucket, run_date)
    if previous_date is None:
        pytest.skip(f"no previous weekly run to compare {key} with: {previous}")
    before = set() if isinstance(previous, str) else {t for t in previous if _named(t)}
    if not before:
        why = previous if isinstance(previous, str) else "lists no tickers"
        pytest.skip(
            f"the previous weekly run {previous_date}'s {CONSTITUENTS_JSON} {why}: "
            f"nothing to compare {key} with"
        )
    now = set(tickers)
    added, removed = sorted(now - before), sorted(before - now)
    ratio = (len(added) + len(removed)) / len(before)
    evidence.update(
        previous_run=previous_date,
        previous_count=len(before),
        count=len(now),
        added_count=len(added),
        removed_count=len(removed),
        added=added,
        removed=removed,
        ratio=round(ratio, 4),
    )
    soft_threshold(
        ratio,
        warn_above=CHURN_WARN_ABOVE,
        fail_above=CHURN_FAIL_ABOVE,
        message=(
            f"constituents churn {ratio:.1%} against the previous weekly run {previous_date} "
            f"({len(added)} added, {len(removed)} removed of {len(before)}; ratio {ratio:.4f})"
        ),
    )
