"""A healthy world for any run date: every contract passes on it.

Shaped as the real producer writes (PIPELINE.md's S3 layout and ArcticDB
rows): 903 constituents spelled with dashes (BRK-B, BF-B, MOG-A, PSTG),
``sector_etf_map`` ticker -> ETF, S&P 500/400 counts, an all-null
short-interest entry for every ticker whose fetch failed, a macro.json with
more fields than the contracts read (some null, a nested ``breadth``).
In ArcticDB: OHLCV, VWAP and features with their warm-up (the longest window
252 rows), NaN VWAP on every row of the four stocks the fallback source
serves and on the newest row of stocks not yet enriched, a few "partial
features" rows long before the window, recent listings younger than the
265-row warm-up, removed index members still in the library and stale,
stale macro/ETF copies the rules must ignore, one UTC-aware index; earlier
weekly runs with a few names of churn.

The universe holds every constituent, because universe_covers_constituents
checks every one: 903 series of 280 rows, one ``write_batch``. moto serves
about 200 requests a second and ArcticDB writes about 5 objects per new
symbol, so on moto this is most of the seed's time (about 20 s on 2 cores);
row count barely matters (one data segment per symbol either way), the
number of symbols does. On LMDB (the mock target's default here) the
libraries are written once per process and copied into each world
(``arctic_template``); frames are built once per process (``_price_frame``).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import string
from collections.abc import Callable
from typing import Any

from pytest_dataflight import MockWorld

from . import arctic_template
from .layout import (
    ALL_SECRETS,
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    FMP_PATH,
    FRED_PATH,
    MACRO_JSON,
    MACRO_LIBRARY,
    MACRO_SYMBOLS,
    POINTER_KEY,
    POLYGON_PATH,
    SECTOR_ETFS,
    SHORT_INTEREST_JSON,
    UNIVERSE_LIBRARY,
    weekly_key,
    weekly_prefix,
)

CONSTITUENT_COUNT = 903
SP500_COUNT = 503  # the rest of the constituents are S&P 400 members
UNIVERSE_STOCKS = 12  # the stocks faults pick from (the universe holds all 903)
# Established stocks: past the 265-row warm-up (the longest feature window is 252 rows),
# with spare rows so that a fault can cut one to exactly 264 or 265.
HISTORY_SESSIONS = 280
FEATURES = {  # name -> rows of warm-up (NaN) at the start of a series
    "ret_1d": 1,
    "ret_5d": 5,
    "vol_20d": 20,
    "rsi_14": 14,
    "zscore_20d": 20,
    "sma_50_ratio": 49,
    "sma_200_ratio": 199,
    "high_252d_ratio": 251,  # 52-week high: the longest window
}
UTC_INDEXED = "AAPL"  # one writer produces UTC-aware indexes; the rule must accept it
# Never served by the primary source: VWAP is NaN on every row (PIPELINE.md).
FALLBACK_ONLY = ["BRK-B", "BF-B", "MOG-A", "PSTG"]
NOT_ENRICHED_EVERY = 9  # every 9th stock's newest row awaits the morning VWAP enrichment
PARTIAL_FEATURES_EVERY = 50  # every 50th stock has one "partial features" row, 40 rows back
# Recent listings: the last constituents (the newest index members) have this many
# sessions of history, younger than the warm-up: their long-window features are NaN by
# design, in the window too (see ``recent_listings``).
RECENT_LISTING_SESSIONS = (258, 180, 30)
# Removed index members awaiting prune: they stopped updating the day they left
# (sessions before run_date's last session); the first two left this week.
REMOVED_MEMBERS = {"ZZA": 3, "ZZB": 4, "ZZC": 11, "ZZD": 27, "ZZE": 60}
STALE_NON_STOCKS = ["SPY", "VIX", "XLK"]  # stale copies inside universe, to be ignored
# Earlier weekly runs (days before run_date) and this week's churn against the last one.
PREVIOUS_RUNS = [7, 14]
JOINED = 2  # the last JOINED of this week's tickers were not listed last week
LEFT = ["ZZA", "ZZB"]  # listed last week, gone this week (still in the universe, stale)

SECTORS = {
    "Communication Services": "XLC",
    "Consumer Discretionary": "XLY",
    "Consumer Staples": "XLP",
    "Energy": "XLE",
    "Financials": "XLF",
    "Health Care": "XLV",
    "Industrials": "XLI",
    "Information Technology": "XLK",
    "Materials": "XLB",
    "Real Estate": "XLRE",
    "Utilities": "XLU",
}
ALT_SOURCES = {
    "analyst_consensus": (0.98, 0.8),
    "eps_revision": (0.95, 0.8),
    "options_flow": (0.9, 0.8),
    "insider_activity": (1.0, 0.8),
    "institutional": (0.97, 0.8),
    "news": (0.99, 0.8),
}
SECRET_VALUES = {name: f"mock-{name.lower().replace('_', '-')}-0001" for name in ALL_SECRETS}


def tickers(count: int = CONSTITUENT_COUNT) -> list[str]:
    """Deterministic ticker-like symbols, real names first."""
    real = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "BRK-B", "JPM", "XOM", "UNH"]
    real += [t for t in FALLBACK_ONLY if t not in real]
    letters = string.ascii_uppercase
    synthetic = ("".join(p) for p in itertools.product(letters, repeat=3))
    taken = set(real) | set(MACRO_SYMBOLS) | set(SECTOR_ETFS)
    out = list(real)
    for name in synthetic:
        if len(out) >= count:
            break
        if name not in taken:
            out.append(name)
    return out


def recent_listings() -> dict[str, int]:
    """Recent listing -> its sessions of history."""
    newest = tickers()[-len(RECENT_LISTING_SESSIONS) :]
    return dict(zip(newest, RECENT_LISTING_SESSIONS, strict=True))


def sector_of(ticker: str) -> str:
    return list(SECTORS)[sum(map(ord, ticker)) % len(SECTORS)]


def constituents(
    run_date: dt.date, count: int = CONSTITUENT_COUNT, names: list[str] | None = None
) -> dict[str, Any]:
    names = tickers(count) if names is None else names
    sp500 = min(SP500_COUNT, len(names))
    return {
        "date": run_date.isoformat(),
        "tickers": names,
        "sector_map": {t: sector_of(t) for t in names},
        "sector_etf_map": {t: SECTORS[sector_of(t)] for t in names},
        "sp500_count": sp500,
        "sp400_count": len(names) - sp500,
        "total_count": len(names),
        "fetched_at": f"{run_date.isoformat()}T00:05:12.481920+00:00",
    }


def price_frame(
    sessions: list[dt.date],
    seed: int,
    *,
    utc: bool = False,
    wide: bool = True,
    vwap_nan_rows: int = 0,
    partial_row: int | None = None,
) -> Any:
    """Daily rows on ``sessions``: Close only, or a stock's OHLCV, VWAP, features (NaN during
    their warm-up, as indicators are) and a text column that the value rules must skip.

    ``vwap_nan_rows``: the last rows whose VWAP is NaN (prices from the fallback source, or
    not yet enriched); ``partial_row``: a row (from the end) with one NaN feature, as the
    producer writes "partial features" rows on purpose.

    The same arguments always give the same frame; it is built once per process and
    copied: the fault tests seed this world some 90 times, and building 900 frames
    was half of each seed.
    """
    key = (tuple(sessions), seed, utc, wide, vwap_nan_rows, partial_row)
    return _price_frame(*key).copy()


@functools.lru_cache(maxsize=4096)
def _price_frame(
    sessions: tuple[dt.date, ...],
    seed: int,
    utc: bool,
    wide: bool,
    vwap_nan_rows: int,
    partial_row: int | None,
) -> Any:
    import numpy as np
    import pandas as pd

    index = pd.DatetimeIndex(pd.to_datetime(sessions), name="date")
    if utc:
        index = index.tz_localize("UTC")
    rng = np.random.default_rng(seed)
    n = len(index)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    if not wide:
        return pd.DataFrame({"Close": close}, index=index)
    columns = _bars(rng, close)
    if vwap_nan_rows:
        columns["VWAP"][-vwap_nan_rows:] = np.nan
    for name, warm_up in FEATURES.items():
        values = rng.normal(0, 1, n)
        values[:warm_up] = np.nan
        columns[name] = values
    if partial_row is not None and partial_row <= n:
        columns["rsi_14"][-partial_row] = np.nan
    columns["exchange"] = np.full(n, "XNYS", dtype=object)
    # Built from whole columns at once: inserting them one by one was most of the seed.
    return pd.DataFrame(columns, index=index)


def _bars(rng: Any, close: Any) -> dict[str, Any]:
    """Open High Low Close Volume VWAP around ``close``: every bar holds its open and close."""
    import numpy as np

    n = len(close)
    opened = close * (1 + rng.normal(0, 0.004, n))
    high = np.maximum(opened, close) * (1 + np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(opened, close) * (1 - np.abs(rng.normal(0, 0.004, n)))
    return {
        "Open": opened,
        "High": high,
        "Low": low,
        "Close": close,
        "Volume": rng.integers(1_000_000, 5_000_000, n).astype("float64"),
        "VWAP": (high + low + close) / 3,
    }


def write_series(library: Any, series: dict[str, Any]) -> None:
    from arcticdb import WritePayload

    library.write_batch([WritePayload(symbol, frame) for symbol, frame in series.items()])


def previous_tickers(churn: int = 0) -> list[str]:
    """Last week's list: this week's without the JOINED newest members, with the LEFT ones;
    ``churn`` more names swapped for names that are not listed this week."""
    this_week = tickers()
    kept = this_week[: len(this_week) - JOINED]
    swapped = kept[len(kept) - churn :] if churn else []
    return [t for t in kept if t not in swapped] + LEFT + [f"{t}.OLD" for t in swapped]


def seed_previous_runs(world: MockWorld) -> None:
    """Earlier weekly runs, as the bucket keeps them: their constituents and macro files."""
    for days in PREVIOUS_RUNS:
        day = world.run_date - dt.timedelta(days=days)
        doc = constituents(day, names=previous_tickers())
        world.put_json(weekly_key(day, CONSTITUENTS_JSON), doc)
        world.put_json(weekly_key(day, MACRO_JSON), {"fed_funds_rate": 4.33})


def seed(world: MockWorld) -> None:
    """Write a healthy world for ``world.run_date``, in the order the pipeline writes it."""
    sessions = world.calendar.previous_sessions(world.run_date, HISTORY_SESSIONS)
    doc = constituents(world.run_date)
    seed_previous_runs(world)
    seed_weekly_json(world, doc)
    seed_arctic(world, sessions, doc["tickers"])
    for name, value in SECRET_VALUES.items():
        world.put_secret(name, value)
    seed_apis(world, sessions[-1])
    # Last, as the pipeline does: the pointer rolls forward once the files are there.
    world.put_json(
        POINTER_KEY,
        {"date": world.run_date.isoformat(), "s3_prefix": weekly_prefix(world.run_date)},
    )


def seed_weekly_json(world: MockWorld, doc: dict[str, Any]) -> None:
    """The week's JSON artifacts: macro, constituents, short interest, alternative data."""
    run_date = world.run_date
    world.put_json(weekly_key(run_date, MACRO_JSON), macro(run_date))
    world.put_json(weekly_key(run_date, CONSTITUENTS_JSON), doc)
    world.put_json(weekly_key(run_date, SHORT_INTEREST_JSON), short_interest(doc))
    alt_tickers = doc["tickers"][:60]
    world.put_json(
        weekly_key(run_date, ALTERNATIVE_MANIFEST),
        {
            "tickers_requested": len(alt_tickers),
            "source_ok_ratios": {s: ok_ratio for s, (ok_ratio, _) in ALT_SOURCES.items()},
            "source_min_ok_ratios": {s: floor for s, (_, floor) in ALT_SOURCES.items()},
        },
    )
    for ticker in alt_tickers[:3]:
        world.put_json(weekly_key(run_date, f"alternative/{ticker}.json"), {"ticker": ticker})


def macro(run_date: dt.date) -> dict[str, Any]:
    """macro.json as the producer writes it: more fields than the contracts read, a value
    FRED did not return as null, and a nested ``breadth`` object."""
    return {
        "date": run_date.isoformat(),
        "fed_funds_rate": 4.33,
        "treasury_2yr": 3.95,
        "treasury_10yr": 4.31,
        "yield_curve_slope": 0.36,
        "vix": 16.2,
        "vix3m": 18.1,
        "unemployment": 4.1,
        "consumer_sentiment": 57.0,
        "initial_claims": 221000,
        "hy_credit_spread_oas": None,  # values may be null; only fed_funds_rate is required
        "cpi_yoy": None,
        "oil_wti": 63.8,
        "breadth": {"pct_above_200dma": 0.58, "advance_decline": 1.12, "new_lows": None},
        "fetched_at": f"{run_date.isoformat()}T00:02:40.117305+00:00",
    }


def short_interest(doc: dict[str, Any], ok: int = 871) -> dict[str, Any]:
    """short_interest.json: an entry for every ticker, all-null where its fetch failed
    (the last ones here); ``ok_count`` counts the others."""
    failed = {"short_pct_float": None, "short_ratio": None, "shares_short": None}
    data = {
        t: {"short_pct_float": 0.7 + (i % 40) / 10, "short_ratio": 1.2, "shares_short": 1.1e8}
        if i < ok
        else dict(failed)
        for i, t in enumerate(doc["tickers"])
    }
    return {
        "date": doc["date"],
        "fetched_at": doc["fetched_at"],
        "ticker_count": len(doc["tickers"]),
        "ok_count": ok,
        "data": data,
    }


def seed_arctic(world: MockWorld, sessions: list[dt.date], names: list[str]) -> None:
    """Macro and sector-ETF closes; every constituent in the universe, plus stale non-stocks
    that the universe rules must ignore. Written once per process on LMDB, then copied
    (``arctic_template``): the libraries depend on nothing but these arguments."""
    arctic_template.seed_libraries(
        world.arctic,
        (tuple(sessions), tuple(names)),
        lambda library: write_arctic(library, sessions, names),
    )


def write_arctic(library: Callable[[str], Any], sessions: list[dt.date], names: list[str]) -> None:
    """Write the macro and universe libraries; ``library(name)`` gets or creates one."""
    write_series(
        library(MACRO_LIBRARY),
        {
            symbol: price_frame(sessions, i, wide=False)
            for i, symbol in enumerate(MACRO_SYMBOLS + SECTOR_ETFS)
        },
    )
    young = recent_listings()
    series = {
        t: stock_frame(sessions[-young[t] :] if t in young else sessions, t, 100 + i)
        for i, t in enumerate(names)
    }
    for i, (symbol, left) in enumerate(REMOVED_MEMBERS.items()):
        # Stopped updating the day it left the index; the prune step has not run yet.
        series[symbol] = price_frame(sessions[:-left], 50 + i)
    stale_sessions = sessions[:-10]
    series.update({s: price_frame(stale_sessions, 7, wide=False) for s in STALE_NON_STOCKS})
    universe = library(UNIVERSE_LIBRARY)
    write_series(universe, series)
    # ArcticDB compacts a library's symbol list at the first list_symbols by a writer,
    # reading every symbol's version: 1 s on LMDB, which each run's first universe
    # contract paid again. Listed once here, the world (and the template) holds the
    # compacted list; the contracts list the same symbols either way. An uncompacted
    # list is still what the live black-box suite (tests/test_datatests_live.py) reads.
    universe.list_symbols()


def stock_frame(sessions: list[dt.date], ticker: str, seed: int) -> Any:
    """One constituent's rows on ``sessions``, as the producer writes them (see the module
    docstring)."""
    if ticker in FALLBACK_ONLY:
        vwap_nan_rows = len(sessions)
    else:
        vwap_nan_rows = 1 if seed % NOT_ENRICHED_EVERY == 0 else 0
    return price_frame(
        sessions,
        seed,
        utc=ticker == UTC_INDEXED,
        vwap_nan_rows=vwap_nan_rows,
        partial_row=40 if seed % PARTIAL_FEATURES_EVERY == 0 else None,
    )


def seed_apis(world: MockWorld, last_session: dt.date) -> None:
    """The external APIs answer as on a good day, FRED with the last session's observation."""
    world.http.route(
        "fred",
        FRED_PATH,
        body={
            "observations": [{"date": last_session.isoformat(), "value": "4.33"}],
            "count": 1,
        },
    )
    world.http.route(
        "polygon",
        POLYGON_PATH,
        body={
            "status": "OK",
            "results": {"ticker": "AAPL", "name": "Apple Inc.", "active": True},
        },
    )
    world.http.route("fmp", FMP_PATH, body=[{"symbol": "AAPL", "peRatioTTM": 31.2}])
