"""A healthy world for any run date: every contract passes on it.

Realistic in shape (903 constituents with sectors, OHLCV + feature columns,
a universe library that also holds stale macro/ETF symbols the rule must
ignore, one UTC-aware index) and small in size: moto serves about 200
requests a second, so the ArcticDB part is a few dozen short series.
"""

from __future__ import annotations

import datetime as dt
import itertools
import string
from typing import Any

from pytest_dataflight import MockWorld

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
UNIVERSE_STOCKS = 12  # stocks stored in ArcticDB (the JSON lists all 903)
HISTORY_SESSIONS = 40
FEATURES = ["ret_1d", "ret_5d", "vol_20d", "rsi_14", "zscore_20d"]
UTC_INDEXED = "AAPL"  # one writer produces UTC-aware indexes; the rule must accept it
STALE_NON_STOCKS = ["SPY", "VIX", "XLK"]  # stale copies inside universe, to be ignored

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
    real = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "BRK.B", "JPM", "XOM", "UNH"]
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


def sector_of(ticker: str) -> str:
    return list(SECTORS)[sum(map(ord, ticker)) % len(SECTORS)]


def constituents(run_date: dt.date, count: int = CONSTITUENT_COUNT) -> dict[str, Any]:
    names = tickers(count)
    return {
        "date": run_date.isoformat(),
        "tickers": names,
        "sector_map": {t: sector_of(t) for t in names},
        "sector_etf_map": dict(SECTORS),
        "total_count": len(names),
        "fetched_at": f"{run_date.isoformat()}T00:05:00Z",
    }


def price_frame(sessions: list[dt.date], seed: int, *, utc: bool = False, wide: bool = True) -> Any:
    import numpy as np
    import pandas as pd

    index = pd.DatetimeIndex(pd.to_datetime(sessions), name="date")
    if utc:
        index = index.tz_localize("UTC")
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(index))))
    frame = {"Close": close}
    if wide:
        frame = {
            "Open": close * (1 + rng.normal(0, 0.002, len(index))),
            "High": close * 1.01,
            "Low": close * 0.99,
            "Close": close,
            "Volume": rng.integers(1_000_000, 5_000_000, len(index)).astype("float64"),
            "VWAP": close * (1 + rng.normal(0, 0.001, len(index))),
            **{f: rng.normal(0, 1, len(index)) for f in FEATURES},
        }
    return pd.DataFrame(frame, index=index)


def write_series(library: Any, series: dict[str, Any]) -> None:
    from arcticdb import WritePayload

    library.write_batch([WritePayload(symbol, frame) for symbol, frame in series.items()])


def seed(world: MockWorld) -> None:
    """Write a healthy world for ``world.run_date``, in the order the pipeline writes it."""
    sessions = world.calendar.previous_sessions(world.run_date, HISTORY_SESSIONS)
    doc = constituents(world.run_date)
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
    world.put_json(
        weekly_key(run_date, MACRO_JSON),
        {
            "fed_funds_rate": 4.33,
            "treasury_2yr": 3.95,
            "treasury_10yr": 4.31,
            "vix": 16.2,
            "unemployment": 4.1,
            "consumer_sentiment": 57.0,
            "initial_claims": 221000,
            "hy_credit_spread_oas": None,  # values may be null; only fed_funds_rate is required
        },
    )
    world.put_json(weekly_key(run_date, CONSTITUENTS_JSON), doc)
    ok = doc["tickers"][:871]
    world.put_json(
        weekly_key(run_date, SHORT_INTEREST_JSON),
        {
            "date": run_date.isoformat(),
            "fetched_at": doc["fetched_at"],
            "ticker_count": len(doc["tickers"]),
            "ok_count": len(ok),
            "data": {
                t: {"short_pct_float": 0.7, "short_ratio": 1.2, "shares_short": 1.1e8} for t in ok
            },
        },
    )
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


def seed_arctic(world: MockWorld, sessions: list[dt.date], names: list[str]) -> None:
    """Macro and sector-ETF closes; the universe's stocks, plus stale non-stocks it must ignore."""
    write_series(
        world.library(MACRO_LIBRARY),
        {
            symbol: price_frame(sessions, i, wide=False)
            for i, symbol in enumerate(MACRO_SYMBOLS + SECTOR_ETFS)
        },
    )
    stocks = names[:UNIVERSE_STOCKS]
    series = {t: price_frame(sessions, 100 + i, utc=t == UTC_INDEXED) for i, t in enumerate(stocks)}
    stale_sessions = sessions[:-10]
    series.update({s: price_frame(stale_sessions, 7, wide=False) for s in STALE_NON_STOCKS})
    write_series(world.library(UNIVERSE_LIBRARY), series)


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
