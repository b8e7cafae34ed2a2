"""Phase 1 postflight: what the weekly market-data step just wrote (PIPELINE.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_dataflight import Threshold, Thresholds, TradingCalendar, Waivers, contract

from . import artifact_schemas as schemas
from .artifacts import finite_number, names, one_line, read_artifact, read_json, shape_problem
from .freshness import last_index_dates, sample, spy_last_row, universe_stocks
from .layout import (
    ALL_READERS,
    BACKTESTER,
    CONSTITUENTS_JSON,
    MACRO_JSON,
    MACRO_LIBRARY,
    MAX_SPY_SESSIONS_BEHIND,
    MAX_TICKER_SESSIONS_BEHIND_SPY,
    MIN_CONSTITUENTS,
    MIN_SHORT_INTEREST_OK_RATIO,
    NOT_STOCKS,
    POINTER_KEY,
    PREDICTOR,
    REFERENCE_SYMBOL,
    RESEARCH,
    SHORT_INTEREST_JSON,
    UNIVERSE_LIBRARY,
    weekly_key,
    weekly_prefix,
)
from .weekly_runs import this_weeks_tickers_or_why


@contract(stage="postflight", phases=["phase1"], consumers=ALL_READERS, schema=schemas.POINTER)
def test_latest_weekly_pointer(s3: Any, bucket: str, run_date: dt.date, evidence: Any) -> None:
    """market_data/latest_weekly.json has its shape and names this run: `date` == run_date
    and `s3_prefix` == `market_data/weekly/<run_date>/` (the most common silent failure: the
    dated files land, the pointer does not roll forward).
    """
    # Shape and the roll-forward are judged together: a malformed prefix must not hide
    # that the pointer still names last week.
    pointer = read_json(s3, bucket, POINTER_KEY)
    shape = shape_problem(pointer, schemas.POINTER, f"s3://{bucket}/{POINTER_KEY}", evidence)
    if not isinstance(pointer, dict):
        pytest.fail(str(shape), pytrace=False)  # not an object: never of its shape
    expected = {"date": run_date.isoformat(), "s3_prefix": weekly_prefix(run_date)}
    evidence.update(observed={k: pointer.get(k) for k in expected}, expected=expected)
    wrong = [
        f"{field} is {pointer.get(field)!r}, expected {value!r}"
        for field, value in expected.items()
        if pointer.get(field) != value
    ]
    problems = [shape] if shape else []
    if wrong:
        problems.insert(
            0,
            f"{POINTER_KEY} did not roll forward to run_date {run_date}: {'; '.join(wrong)}; "
            "research, predictor and backtester would read last week's files",
        )
    if problems:
        pytest.fail(one_line("; ".join(problems)), pytrace=False)


@contract(stage="postflight", phases=["phase1"], consumers=[RESEARCH], schema=schemas.MACRO)
def test_macro_json(s3: Any, bucket: str, run_date: dt.date, evidence: Any) -> None:
    """macro.json exists, parses, has its shape, and `fed_funds_rate` is a finite number."""
    key = weekly_key(run_date, MACRO_JSON)
    macro = read_artifact(s3, bucket, key, schemas.MACRO, evidence)
    rate = macro.get("fed_funds_rate")
    evidence["fed_funds_rate"] = rate
    evidence["null_fields"] = sorted(k for k, v in macro.items() if v is None)
    if finite_number(rate) is None:
        pytest.fail(
            f"{key}: fed_funds_rate is {rate!r}, expected a finite number; "
            "research cannot build its macro regime without it",
            pytrace=False,
        )


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[RESEARCH],
    schema=schemas.CONSTITUENTS,
    thresholds={"min_tickers": Threshold(MIN_CONSTITUENTS, "count", "tickers")},
)
def test_constituents_json(
    s3: Any, bucket: str, run_date: dt.date, evidence: Any, thresholds: Thresholds
) -> None:
    """constituents.json exists, parses, has its shape, lists at least `min_tickers` (800)
    distinct tickers, and `sector_map` names a sector for every ticker.
    """
    minimum = thresholds["min_tickers"]
    key = weekly_key(run_date, CONSTITUENTS_JSON)
    doc = read_artifact(s3, bucket, key, schemas.CONSTITUENTS, evidence)
    tickers, sector_map = doc["tickers"], doc["sector_map"]
    distinct = sorted(set(tickers))
    duplicates = len(tickers) - len(distinct)
    uncovered = [t for t in distinct if not _sector_name(sector_map.get(t))]
    evidence.update(
        listed=len(tickers),
        distinct=len(distinct),
        duplicates=duplicates,
        minimum=minimum,
        without_sector=uncovered,
    )
    problems = []
    if len(distinct) < minimum:
        dup = f" ({len(tickers)} listed, {duplicates} duplicates)" if duplicates else ""
        problems.append(f"{len(distinct)} distinct tickers{dup}, expected at least {minimum}")
    if uncovered:
        problems.append(
            f"sector_map has no sector name for {len(uncovered)} of {len(distinct)} tickers: "
            f"{names(uncovered)}"
        )
    if problems:
        pytest.fail(
            f"{key}: {'; '.join(problems)}; research refuses a partial universe", pytrace=False
        )


def _sector_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[RESEARCH],
    schema=schemas.SHORT_INTEREST,
    thresholds={"min_ok_ratio": Threshold(MIN_SHORT_INTEREST_OK_RATIO, "ratio")},
)
def test_short_interest_json(
    s3: Any, bucket: str, run_date: dt.date, evidence: Any, thresholds: Thresholds
) -> None:
    """short_interest.json is optional (absent: skipped with the reason); else it has its
    shape (`data` an object), `ticker_count` > 0 and `ok_count / ticker_count` >=
    `min_ok_ratio` (0.5).
    """
    floor = thresholds["min_ok_ratio"]
    key = weekly_key(run_date, SHORT_INTEREST_JSON)
    why = " (short interest may be disabled)"
    doc = read_artifact(s3, bucket, key, schemas.SHORT_INTEREST, evidence, optional=True, why=why)
    count, ok = doc["ticker_count"], doc["ok_count"]
    # The producer writes an entry for every ticker, all null where its fetch failed.
    with_data = sum(1 for v in doc["data"].values() if _has_figures(v))
    evidence.update(
        ticker_count=count, ok_count=ok, entries=len(doc["data"]), tickers_with_data=with_data
    )
    problems = []
    if count <= 0:
        problems.append(f"ticker_count is {count!r}, expected a positive integer")
    elif ok > count:
        problems.append(f"ok_count is {ok!r}, expected a number from 0 to ticker_count ({count})")
    else:
        ratio = ok / count
        evidence["ok_ratio"] = round(ratio, 4)
        if ratio < floor:
            problems.append(
                f"ok_count/ticker_count is {ok}/{count} = {ratio:.2f}, expected at least {floor}"
            )
    if problems:
        pytest.fail(f"{key}: {'; '.join(problems)}; research would rank on gaps", pytrace=False)


def _has_figures(entry: Any) -> bool:
    return isinstance(entry, dict) and any(v is not None for v in entry.values())


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[PREDICTOR],
    thresholds={"max_sessions_behind": Threshold(MAX_SPY_SESSIONS_BEHIND, "count", "sessions")},
)
def test_macro_spy_fresh(
    arctic: Any,
    run_date: dt.date,
    trading_calendar: TradingCalendar,
    evidence: Any,
    thresholds: Thresholds,
) -> None:
    """macro.SPY's last row is the last NYSE session on or before run_date (at most
    `max_sessions_behind` sessions behind: 0); empty or unreadable fails.
    """
    allowed = thresholds["max_sessions_behind"]
    expected = trading_calendar.last_session_on_or_before(run_date)
    last, problem = spy_last_row(arctic)
    evidence.update(run_date=run_date, expected_last_row=expected, last_row=last)
    if problem:
        pytest.fail(
            f"{problem}; expected rows through {expected} (last NYSE session on or before "
            f"run_date {run_date}): predictor cannot price without SPY",
            pytrace=False,
        )
    behind = trading_calendar.sessions_behind(last, expected)
    evidence["sessions_behind"] = behind
    if behind > allowed:
        plural = "session" if behind == 1 else "sessions"
        # The default allows none: saying so would only repeat "behind".
        limit = f", at most {allowed} allowed" if allowed else ""
        pytest.fail(
            f"{MACRO_LIBRARY}.{REFERENCE_SYMBOL} ends {last}, {behind} NYSE {plural} behind "
            f"{expected} (last session on or before run_date {run_date}){limit}: "
            "predictor refuses stale prices",
            pytrace=False,
        )


def _freshness_reference(
    arctic: Any, run_date: dt.date, trading_calendar: TradingCalendar
) -> tuple[dt.date, str]:
    """(the session stocks are measured against, what it is): SPY's last row, or the last
    session on or before run_date when SPY is empty or unreadable (saying why)."""
    spy_last, spy_problem = spy_last_row(arctic)
    if spy_last is not None:
        return spy_last, f"{MACRO_LIBRARY}.{REFERENCE_SYMBOL}'s last row"
    reference = trading_calendar.last_session_on_or_before(run_date)
    return reference, f"last session on or before run_date ({spy_problem})"


def _judged_and_removed(
    s3: Any, bucket: str, run_date: dt.date, stocks: list[str], evidence: Any
) -> tuple[list[str], list[str], str]:
    """(stocks to judge, removed members, what is judged): the universe stocks listed in
    this week's constituents.json and the others, which stop updating the day they leave
    the index and wait for a prune; every stock when the file cannot be read."""
    key, tickers, why = this_weeks_tickers_or_why(s3, bucket, run_date)
    if tickers is None:
        evidence.update(judged=f"every universe stock: {key} cannot be read ({why})")
        return stocks, [], f"universe stocks (all judged: {key} cannot be read)"
    listed = set(tickers)
    judged = [s for s in stocks if s in listed]
    removed = [s for s in stocks if s not in listed]
    evidence.update(judged=f"the universe stocks listed in {key}", constituents=len(listed))
    if stocks and not judged:
        pytest.fail(
            f"none of the {len(listed)} tickers of {key} is a stock of ArcticDB library "
            f"{UNIVERSE_LIBRARY!r} ({len(stocks)} stocks): nothing this week's constituents "
            "need can be shown fresh; research, predictor and backtester would read nothing",
            pytrace=False,
        )
    return judged, removed, f"universe stocks listed in {key}"


def _behind(
    lasts: dict[str, dt.date | None | str], reference: dt.date, calendar: TradingCalendar
) -> dict[str, tuple[int | None, str]]:
    """symbol -> (NYSE sessions behind ``reference``, or None when it has no readable
    last row; the words a message shows)."""
    out: dict[str, tuple[int | None, str]] = {}
    for symbol, last in lasts.items():
        if isinstance(last, str) or last is None:
            out[symbol] = (None, last or "no rows")
            continue
        behind = calendar.sessions_behind(last, reference)
        out[symbol] = (behind, f"ends {last}, {behind} sessions behind")
    return out


def _record_removed(
    evidence: Any, removed: dict[str, tuple[int | None, str]], allowed: float
) -> None:
    """Removed members awaiting prune: counted and named with how far behind, never a
    failure (the backtester still reads their history)."""
    evidence.update(
        not_constituents_count=len(removed),
        not_constituents=[f"{s}: {why}" for s, (_, why) in removed.items()],
        not_constituents_stale_count=sum(1 for n, _ in removed.values() if _stale(n, allowed)),
    )


def _stale(sessions_behind: int | None, allowed: float) -> bool:
    """More than ``allowed`` sessions behind, or no readable last row at all."""
    return sessions_behind is None or sessions_behind > allowed


def _stale_tickers(
    checked: list[str],
    behind: dict[str, tuple[int | None, str]],
    allowed: float,
    waivers: Waivers,
    evidence: Any,
) -> list[str]:
    """The stocks of ``checked`` more than ``allowed`` sessions behind, but for those a
    waiver names (the fixture lists them in the evidence), recorded in the evidence."""
    stale, _ = waivers.split(
        [s for s in checked if _stale(behind[s][0], allowed)],
        subject=lambda s: s,
        describe=lambda s: f"{s}: {behind[s][1]}",
    )
    evidence.update(
        stale_count=len(stale),
        stale_tickers=stale,
        # A list, so evidence cuts it with a count like any long list.
        stale_detail=[f"{s}: {behind[s][1]}" for s in stale],
    )
    return stale


@contract(
    stage="postflight",
    phases=["phase1"],
    consumers=[RESEARCH, PREDICTOR, BACKTESTER],
    thresholds={
        "max_sessions_behind": Threshold(MAX_TICKER_SESSIONS_BEHIND_SPY, "count", "sessions")
    },
)
def test_universe_fresh(
    s3: Any,
    bucket: str,
    arctic: Any,
    arctic_library: Any,
    run_date: dt.date,
    trading_calendar: TradingCalendar,
    evidence: Any,
    universe_sample: int | None,
    thresholds: Thresholds,
    waivers: Waivers,
) -> None:
    """Every universe stock (universe symbols except macro symbols and sector ETFs) that is a
    ticker of this week's constituents.json is within `max_sessions_behind` (2) NYSE
    sessions of macro.SPY's last row; the stale tickers are named (waivers name tickers).
    Stocks no longer listed (removed members awaiting prune) are counted and named in the
    evidence with how far behind they are, never a failure. If constituents.json cannot be
    read, every stock is judged; if SPY is empty or unreadable, the reference is the last
    session on or before run_date; the evidence says which.
    """
    library = arctic_library(UNIVERSE_LIBRARY)
    reference, basis = _freshness_reference(arctic, run_date, trading_calendar)
    stocks = universe_stocks(library)
    evidence.update(reference=reference, reference_basis=basis, stocks=len(stocks))
    if not stocks:
        pytest.fail(
            f"{UNIVERSE_LIBRARY} holds no stock symbols (only {sorted(NOT_STOCKS)} are ignored): "
            "research, predictor and backtester have nothing to read",
            pytrace=False,
        )
    judged, removed, scope = _judged_and_removed(s3, bucket, run_date, stocks, evidence)
    checked = sample(judged, universe_sample, run_date.isoformat()) if universe_sample else judged
    evidence["checked"] = len(checked)
    behind = _behind(last_index_dates(library, checked + removed), reference, trading_calendar)
    allowed = thresholds["max_sessions_behind"]
    _record_removed(evidence, {s: behind[s] for s in removed}, allowed)
    stale = _stale_tickers(checked, behind, allowed, waivers, evidence)
    if stale:
        shown = "; ".join(f"{s} {behind[s][1]}" for s in stale[:5])
        more = f" and {len(stale) - 5} more" if len(stale) > 5 else ""
        pytest.fail(
            f"{len(stale)} of {len(checked)} {scope} are more than "
            f"{allowed} NYSE sessions behind {reference} ({basis}): "
            f"{shown}{more}; research, predictor and backtester would use stale prices",
            pytrace=False,
        )
