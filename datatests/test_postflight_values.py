"""Phase 1 postflight, added after the first release: values, coverage and drift (PIPELINE.md,
"Contracts added after the first release").

universe_prices_sane and universe_session_gaps judge the same window of
recent rows (each stock's own last WINDOW_ROWS rows), read once per run
through the plugin's ``recent_rows``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from pytest_dataflight import (
    Threshold,
    Thresholds,
    TradingCalendar,
    Waivers,
    Window,
    contract,
    soft_threshold,
    warn,
)

from .freshness import row_counts, universe_stocks
from .layout import (
    ALL_READERS,
    BACKTESTER,
    CHURN_FAIL_ABOVE,
    CHURN_WARN_ABOVE,
    CONSTITUENTS_JSON,
    MAX_MISSING_CONSTITUENTS,
    NOT_STOCKS,
    PREDICTOR,
    RESEARCH,
    UNIVERSE_LIBRARY,
)
from .values import (
    GAP_WINDOW_SESSIONS,
    MAX_MOVE,
    PRICE_WINDOW_ROWS,
    VOLUME_SPIKE_FACTOR,
    WARM_UP_ROWS,
    WINDOW_ROWS,
    Finding,
    Gap,
    Rows,
    count,
    hard_findings,
    last_row_features,
    listing,
    missing_sessions,
    nan_features,
    nan_on_every_last_row,
    soft_findings,
    unusable_price_columns,
)
from .weekly_runs import named, previous_run, this_weeks_tickers, this_weeks_tickers_or_why

# universe_prices_sane's named thresholds (PIPELINE.md), with their defaults.
PRICE_THRESHOLDS = {
    "max_move": Threshold(MAX_MOVE, "factor"),  # 0.5 is 50 %; a move may exceed 100 %
    "volume_spike_factor": Threshold(VOLUME_SPIKE_FACTOR, "factor"),
    "warm_up_rows": Threshold(WARM_UP_ROWS, "count", "rows"),
}


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[RESEARCH, PREDICTOR],
    thresholds={"max_missing": Threshold(MAX_MISSING_CONSTITUENTS, "count", "tickers")},
)
def test_universe_covers_constituents(
    s3: Any,
    bucket: str,
    run_date: dt.date,
    arctic_library: Any,
    evidence: Any,
    thresholds: Thresholds,
    waivers: Waivers,
) -> None:
    """Every ticker of this week's constituents.json (except macro symbols and sector ETFs) is
    a symbol of the `universe` library, but for at most `max_missing` (0); the missing ones
    are named (waivers name tickers). Universe stocks no longer listed (recent removals) are
    evidence, never a failure.
    """
    key, tickers = this_weeks_tickers(s3, bucket, run_date)
    members = [t for t in tickers if t not in NOT_STOCKS]
    stocks = set(universe_stocks(arctic_library(UNIVERSE_LIBRARY)))
    missing, _ = waivers.split([t for t in members if t not in stocks], subject=lambda t: t)
    allowed = thresholds["max_missing"]
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
    if len(missing) > allowed:
        limit = f" (at most {allowed} allowed)" if allowed else ""
        pytest.fail(
            f"{len(missing)} of {len(members)} constituents of {key} are not symbols of "
            f"ArcticDB library {UNIVERSE_LIBRARY!r}{limit}: {listing(missing, sep=', ')} "
            "(never backfilled?); "
            "research fails at start-up and predictor has no prices for them",
            pytrace=False,
        )


def _stock_window(
    library: Any, recent_rows: Any, evidence: Any, waivers: Waivers, rows: int = WINDOW_ROWS
) -> tuple[Window, list[str]]:
    """The shared window of every universe stock (its last ``rows`` rows); errors if the
    store failed, and returns the symbols whose data cannot be read (named in the failure),
    but for those a waiver names."""
    window = recent_rows(UNIVERSE_LIBRARY, universe_stocks(library), rows=rows)
    window.raise_for_store_errors()
    bad = list(window.with_status("unreadable").items())
    for symbol, frame in window.frames().items():
        unusable = unusable_price_columns(frame)
        if unusable:
            bad.append((symbol, "; ".join(unusable)))
    kept, _ = waivers.split(bad, subject=lambda b: b[0], describe=lambda b: f"{b[0]} ({b[1]})")
    unreadable = [f"{symbol} ({why})" for symbol, why in kept]
    evidence.update(
        stocks=len(window),
        statuses=window.counts(),
        # Empty or vanished symbols are universe_fresh's failure, not this contract's.
        not_judged=sorted(window.with_status("empty", "missing")),
        unreadable=unreadable,
    )
    return window, unreadable


class _RowCounts:
    """Total rows per symbol, for warm-up: a window shorter than asked for holds the whole
    symbol; any other is asked of the version's index (metadata, never a full read), once,
    and only for the symbols a rule needs."""

    def __init__(self, library: Any, window: Window, warm_up_rows: float) -> None:
        self._library = library
        self.warm_up_rows = warm_up_rows
        self._known: dict[str, int | None] = {
            s: len(f) for s, f in window.frames().items() if len(f) < window.rows
        }
        self.asked = 0

    def past_warm_up(self, symbols: Sequence[str]) -> set[str]:
        """Those of ``symbols`` with at least ``warm_up_rows`` rows in total."""
        unknown = [s for s in symbols if s not in self._known]
        if unknown:
            self.asked += len(unknown)
            self._known.update(row_counts(self._library, unknown))
        # A count that cannot be read (None) is no evidence of age: not judged.
        return {s for s in symbols if (self._known.get(s) or 0) >= self.warm_up_rows}


@dataclass
class _Verdict:
    hard: list[Finding]  # fails
    soft: list[Finding]  # warns: moves, no volume, volume spikes
    partial: list[Finding]  # warns: NaN features in the window of stocks past warm-up
    all_nan: dict[str, int]  # fails: feature -> stocks past warm-up, NaN on every last row
    row_counts_read: int
    scope: str  # whose last rows the all-NaN rule counts, as a message says it
    warm_up_rows: float  # the threshold in force


def _judge_prices(
    library: Any, window: Window, scope: set[str] | None, scope_noun: str, limits: Thresholds
) -> _Verdict:
    """Every readable stock's last PRICE_WINDOW_ROWS rows; ``scope`` is the stocks the
    "NaN on every last row" rule counts (this week's constituents; None: every stock);
    ``limits`` are the values in force of PRICE_THRESHOLDS."""
    stocks = [Rows.of(s, f) for s, f in window.frames().items() if not unusable_price_columns(f)]
    warm_up_rows = limits["warm_up_rows"]
    counts = _RowCounts(library, window, warm_up_rows)
    hard: list[Finding] = []
    soft: list[Finding] = []
    nan: dict[str, list[Finding]] = {}
    for rows in stocks:
        hard += hard_findings(rows)
        soft += soft_findings(
            rows,
            max_move=limits["max_move"],
            volume_spike_factor=limits["volume_spike_factor"],
        )
        found = nan_features(rows)
        if found:
            nan[rows.symbol] = found
    past = counts.past_warm_up(list(nan))
    partial = [f for symbol, found in nan.items() if symbol in past for f in found]
    last_rows = {
        r.symbol: last_row_features(r) for r in stocks if scope is None or r.symbol in scope
    }
    all_nan = nan_on_every_last_row(last_rows, counts.past_warm_up)
    return _Verdict(hard, soft, partial, all_nan, counts.asked, scope_noun, warm_up_rows)


def _waive(verdict: _Verdict, waivers: Waivers) -> _Verdict:
    """``verdict`` without the findings a waiver names: symbols, and for the all-NaN rule
    features; the fixture lists the waived ones in the evidence."""

    def by_symbol(findings: list[Finding]) -> list[Finding]:
        return waivers.split(findings, subject=lambda f: f.symbol)[0]

    all_nan, _ = waivers.split(
        verdict.all_nan.items(),
        subject=lambda item: item[0],
        describe=lambda item: f"{item[0]} NaN on the last row of all {item[1]}",
    )
    return replace(
        verdict,
        hard=by_symbol(verdict.hard),
        all_nan=dict(all_nan),
        soft=by_symbol(verdict.soft),
        partial=by_symbol(verdict.partial),
    )


def _all_nan_scope(
    s3: Any, bucket: str, run_date: dt.date, evidence: Any
) -> tuple[set[str] | None, str]:
    """(this week's constituents, what they are) or (None, every stock), the evidence
    saying which and why."""
    key, tickers, why = this_weeks_tickers_or_why(s3, bucket, run_date)
    if tickers is None:
        evidence.update(all_nan_scope=f"every universe stock: {key} cannot be read ({why})")
        return None, "universe stock"
    evidence.update(all_nan_scope=f"the universe stocks listed in {key}")
    return set(tickers), "constituent"


def _per_feature(findings: list[Finding]) -> dict[str, int]:
    return dict(sorted(Counter(f.column for f in findings).items()))


def _record_prices(evidence: Any, verdict: _Verdict) -> None:
    evidence.update(
        rows_judged=PRICE_WINDOW_ROWS,
        warm_up_rows=verdict.warm_up_rows,
        failing_symbols=_symbols(verdict.hard),
        failing_count=len(verdict.hard),
        failing=[str(f) for f in verdict.hard],
        all_nan_features=verdict.all_nan,
        warning_symbols=_symbols(verdict.soft),
        warning_count=len(verdict.soft),
        warning=[str(f) for f in verdict.soft],
        partial_feature_counts=_per_feature(verdict.partial),
        partial_feature_symbols=_symbols(verdict.partial),
        partial_features=[str(f) for f in verdict.partial],
        row_counts_read=verdict.row_counts_read,
    )


def _price_problems(verdict: _Verdict, unreadable: list[str]) -> list[str]:
    problems = []
    if verdict.hard:
        n = len(_symbols(verdict.hard))
        verb = "breaks" if n == 1 else "break"
        problems.append(
            f"{count(n, 'symbol')} {verb} price rules ({count(len(verdict.hard), 'value')}): "
            f"{listing(verdict.hard)}"
        )
    if verdict.all_nan:
        named = ", ".join(f"{f} (all {n})" for f, n in verdict.all_nan.items())
        problems.append(
            f"{count(len(verdict.all_nan), 'feature')} NaN on the last row of every "
            f"{verdict.scope} past warm-up ({verdict.warm_up_rows} rows) that has it: {named}; "
            "its computation broke for everyone"
        )
    if unreadable:
        problems.append(_unreadable(unreadable))
    return problems


def _price_warnings(verdict: _Verdict) -> list[str]:
    warnings = []
    if verdict.soft:
        n = len(_symbols(verdict.soft))
        warnings.append(
            f"{count(n, 'symbol')} {'has' if n == 1 else 'have'} suspicious values "
            f"({count(len(verdict.soft), 'value')}): {listing(verdict.soft)}"
        )
    if verdict.partial:
        n = len(_symbols(verdict.partial))
        per_feature = ", ".join(f"{f} {k}" for f, k in _per_feature(verdict.partial).items())
        warnings.append(
            f"{count(len(verdict.partial), 'NaN feature value')} in the last "
            f"{PRICE_WINDOW_ROWS} rows of {count(n, 'stock')} past warm-up ({per_feature}): "
            f"{listing(verdict.partial)}"
        )
    return warnings


def _unreadable(symbols: list[str]) -> str:
    return f"{count(len(symbols), 'symbol')} cannot be read: {listing(symbols)}"


def _symbols(findings: list[Any]) -> list[str]:
    return sorted({f.symbol for f in findings})


@contract(stage="postflight", phases=["phase1"], consumers=ALL_READERS, thresholds=PRICE_THRESHOLDS)
def test_universe_prices_sane(
    s3: Any,
    bucket: str,
    run_date: dt.date,
    arctic_library: Any,
    recent_rows: Any,
    evidence: Any,
    thresholds: Thresholds,
    waivers: Waivers,
) -> None:
    """For every universe stock, its own last 5 rows. Fails on High < Low, Open or Close
    outside [Low, High], Close <= 0, Volume < 0, NaN in Open High Low Close Volume, ±inf in
    any numeric column, or a feature NaN on the last row of every constituent past warm-up
    (`warm_up_rows`: 265; at least 20 of them). Warns on a close-to-close move above
    `max_move` (0.5: 50 %), Volume == 0, Volume above `volume_spike_factor` (10) times the
    median of the positive volumes in the 20 rows before, or a feature NaN in the window of
    a stock past warm-up (partial features, counted per feature). NaN VWAP is never a
    finding (the fallback source has none). Waivers name symbols, or features for the
    all-NaN rule.
    """
    library = arctic_library(UNIVERSE_LIBRARY)
    window, unreadable = _stock_window(library, recent_rows, evidence, waivers)
    scope, scope_noun = _all_nan_scope(s3, bucket, run_date, evidence)
    verdict = _waive(_judge_prices(library, window, scope, scope_noun, thresholds), waivers)
    _record_prices(evidence, verdict)
    problems = _price_problems(verdict, unreadable)
    if problems:
        pytest.fail(
            f"{'; '.join(problems)}; research, predictor and backtester would build features "
            "and z-scores on them",
            pytrace=False,
        )
    warnings = _price_warnings(verdict)
    if warnings:
        warn(f"{'; '.join(warnings)}; consumers not blocked")


def _gaps(window: Window, calendar: TradingCalendar, sessions: int) -> list[Gap]:
    """Each stock's NYSE sessions missing among the ``sessions`` ending at its last row."""
    return [
        Gap(symbol, missing)
        for symbol, frame in window.frames().items()
        if len(frame)
        and (
            missing := missing_sessions(
                frame, calendar.last_session_on_or_before, calendar.previous_sessions, sessions
            )
        )
    ]


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[PREDICTOR, BACKTESTER],
    thresholds={"window_sessions": Threshold(GAP_WINDOW_SESSIONS, "count", "sessions")},
)
def test_universe_session_gaps(
    arctic_library: Any,
    recent_rows: Any,
    trading_calendar: TradingCalendar,
    evidence: Any,
    thresholds: Thresholds,
    waivers: Waivers,
) -> None:
    """No NYSE session is missing from any universe stock within the `window_sessions` (20)
    sessions ending at its last row (fewer rows: checked from its first row); names symbols
    and the missing sessions (waivers name symbols).
    """
    sessions = int(thresholds["window_sessions"])
    # As many rows as sessions span them all; the shared read (25 rows) covers the default.
    window, unreadable = _stock_window(
        arctic_library(UNIVERSE_LIBRARY),
        recent_rows,
        evidence,
        waivers,
        rows=max(WINDOW_ROWS, sessions),
    )
    gaps, _ = waivers.split(_gaps(window, trading_calendar, sessions), subject=lambda g: g.symbol)
    holes = [f"{g.symbol} {d}" for g in gaps for d in g.sessions]
    evidence.update(
        sessions_checked=sessions,
        gap_symbols=[g.symbol for g in gaps],
        gap_count=len(holes),
        missing_sessions=holes,
    )
    problems = []
    if gaps:
        one = len(gaps) == 1
        problems.append(
            f"{count(len(gaps), 'universe stock')} {'misses' if one else 'miss'} "
            f"{count(len(holes), 'NYSE session')} within the last {sessions} "
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


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[RESEARCH],
    thresholds={
        "warn_above": Threshold(CHURN_WARN_ABOVE, "ratio", at_most="fail_above"),
        "fail_above": Threshold(CHURN_FAIL_ABOVE, "ratio"),
    },
)
def test_constituents_churn(
    s3: Any, bucket: str, run_date: dt.date, evidence: Any, thresholds: Thresholds
) -> None:
    """(added + removed) / previous count against the latest weekly run at least 5 days before
    run_date: above `warn_above` (0.05) warns, above `fail_above` (0.20) fails; no previous
    run: skipped with the reason.
    """
    key, tickers = this_weeks_tickers(s3, bucket, run_date)
    previous_date, previous = previous_run(s3, bucket, run_date)
    if previous_date is None:
        pytest.skip(f"no previous weekly run to compare {key} with: {previous}")
    before = set() if isinstance(previous, str) else {t for t in previous if named(t)}
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
        warn_above=thresholds["warn_above"],
        fail_above=thresholds["fail_above"],
        message=(
            f"constituents churn {ratio:.1%} against the previous weekly run {previous_date} "
            f"({len(added)} added, {len(removed)} removed of {len(before)}; ratio {ratio:.4f})"
        ),
    )
