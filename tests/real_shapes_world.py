"""Artifacts and frames in the shapes the real producer writes (PIPELINE.md), for datatests.

A data run loads this module with ``-p real_shapes_world`` and applies
``--mock-fault real_shapes``: on the healthy mock world it replaces this
week's JSON artifacts with the producer's shapes (``tests/real_shapes/``
holds the small ones as the producer writes them; the ~900-ticker ones are
built here) and rewrites 40 universe stocks the way the producer writes a
series: about 50 float64 feature columns (the longest window 252 rows),
integer volumes, a text and a bool column, history written once and then
appended one session at a time, each new row first without VWAP and then
enriched the next morning (the newest row of some stocks still waits), the
four fallback-only stocks without any VWAP, "partial features" rows long
before the window, and a listing younger than the warm-up. Values are
invented; the shapes are the producer's. A healthy run passes every
contract on them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from datatests import mock_world
from datatests.layout import (
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    MACRO_JSON,
    SHORT_INTEREST_JSON,
    UNIVERSE_LIBRARY,
    weekly_key,
)
from pytest_dataflight import MockWorld

FILES = Path(__file__).parent / "real_shapes"
REWRITTEN = 40  # universe stocks rewritten as the producer writes a series
HISTORY = 300  # sessions of an established stock
# A listing younger than the warm-up (the newest constituent): NaN long-window features.
YOUNG = {mock_world.tickers()[-1]: 140}
APPENDED = 5  # the last sessions, appended one at a time as the daily job does
NOT_ENRICHED = {"AAPL", "JPM", "AAB"}  # newest row still without VWAP
WINDOWS = [5, 10, 20, 50, 63, 100, 126, 200, 252]


def feature_warm_up() -> dict[str, int]:
    """~50 feature names -> rows of warm-up, like the producer's indicator set."""
    out = {}
    for w in WINDOWS:
        out |= {f"ret_{w}d": w, f"vol_{w}d": w - 1, f"zscore_{w}d": w - 1, f"sma_{w}_ratio": w - 1}
    out |= {"rsi_14": 14, "rsi_28": 28, "atr_14": 14, "macd": 25, "macd_signal": 33}
    out |= {
        "high_252d_ratio": 251,
        "low_252d_ratio": 251,
        "beta_252d": 252,
        "dollar_volume_20d": 19,
    }
    out |= {"gap_open": 1, "range_pct": 0, "obv_slope_20d": 20, "adx_14": 27, "mfi_14": 14}
    return out


def producer_frame(sessions: list[dt.date], seed: int, *, vwap: bool, utc: bool) -> pd.DataFrame:
    """A whole series as the producer computes it (before it is written in pieces)."""
    rng = np.random.default_rng(seed)
    n = len(sessions)
    index = pd.DatetimeIndex(pd.to_datetime(sessions), name="date")
    close = 40 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))
    opened = close * (1 + rng.normal(0, 0.005, n))
    high = np.maximum(opened, close) * (1 + np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(opened, close) * (1 - np.abs(rng.normal(0, 0.006, n)))
    columns: dict[str, Any] = {"Open": opened, "High": high, "Low": low, "Close": close}
    columns["Volume"] = rng.integers(300_000, 9_000_000, n).astype("int64")
    columns["VWAP"] = (high + low + 2 * close) / 4 if vwap else np.full(n, np.nan)
    for name, warm_up in feature_warm_up().items():
        values = rng.normal(0, 1, n)
        values[:warm_up] = np.nan
        columns[name] = values
    # "Partial features": a row the producer wrote with one input missing, long ago.
    columns["adx_14"][n - 60] = np.nan
    columns["source"] = np.where(np.isnan(columns["VWAP"]), "fallback", "primary")
    columns["is_adjusted"] = np.ones(n, dtype=bool)
    frame = pd.DataFrame(columns, index=index)
    if utc:
        frame.index = frame.index.tz_localize("UTC")
    return frame


def write_as_producer(library: Any, symbol: str, frame: pd.DataFrame, enrich_last: bool) -> None:
    """History in one write, then one append per session: each new row lands without VWAP,
    which the next morning's enrichment fills with ``update`` (the newest row only if
    ``enrich_last``). A fallback-only stock has no VWAP to fill."""
    library.write(symbol, frame.iloc[:-APPENDED])
    for i in range(len(frame) - APPENDED, len(frame)):
        row = frame.iloc[i : i + 1].copy()
        vwap = row["VWAP"].copy()
        row["VWAP"] = np.nan
        library.append(symbol, row)
        if (i < len(frame) - 1 or enrich_last) and not np.isnan(vwap.iloc[0]):
            row["VWAP"] = vwap
            library.update(symbol, row)


def rewrite_universe(world: MockWorld) -> None:
    library = world.arctic.get_library(UNIVERSE_LIBRARY)
    names = mock_world.tickers()[:REWRITTEN] + list(YOUNG)
    for seed, symbol in enumerate(names):
        sessions = world.calendar.previous_sessions(world.run_date, YOUNG.get(symbol, HISTORY))
        vwap = symbol not in mock_world.FALLBACK_ONLY
        frame = producer_frame(sessions, 7000 + seed, vwap=vwap, utc=symbol == "MSFT")
        write_as_producer(library, symbol, frame, enrich_last=symbol not in NOT_ENRICHED)


def constituents(run_date: dt.date, names: list[str]) -> dict[str, Any]:
    """constituents.json as the producer writes it: tickers sorted, share classes with a
    dash, ticker -> sector and ticker -> sector ETF, index counts, an ISO UTC time."""
    tickers = sorted(names)
    sp500 = min(mock_world.SP500_COUNT, len(tickers))
    return {
        "date": run_date.isoformat(),
        "tickers": tickers,
        "sector_map": {t: mock_world.sector_of(t) for t in tickers},
        "sector_etf_map": {t: mock_world.SECTORS[mock_world.sector_of(t)] for t in tickers},
        "sp500_count": sp500,
        "sp400_count": len(tickers) - sp500,
        "total_count": len(tickers),
        "fetched_at": f"{run_date.isoformat()}T00:03:27.118442+00:00",
    }


def short_interest(doc: dict[str, Any]) -> dict[str, Any]:
    """An entry for every requested ticker; every 25th fetch failed and is all null."""
    data: dict[str, Any] = {}
    for i, ticker in enumerate(doc["tickers"]):
        failed = i % 25 == 7
        data[ticker] = {
            "short_pct_float": None if failed else round(0.4 + (i % 97) / 9, 2),
            "short_ratio": None if failed else round(0.8 + (i % 13) / 4, 2),
            "shares_short": None if failed else float(1_000_000 + 37_511 * i),
        }
    ok = sum(1 for v in data.values() if v["short_pct_float"] is not None)
    return {
        "date": doc["date"],
        "fetched_at": "2026-04-18T00:09:12.006551+00:00",
        "ticker_count": len(data),
        "ok_count": ok,
        "data": data,
    }


def artifacts(run_date: dt.date) -> dict[str, Any]:
    """This week's JSON artifacts by name, as the producer writes them."""
    doc = constituents(run_date, mock_world.tickers())
    return {
        MACRO_JSON: json.loads((FILES / "macro.json").read_text()),
        CONSTITUENTS_JSON: doc,
        SHORT_INTEREST_JSON: short_interest(doc),
        ALTERNATIVE_MANIFEST: json.loads((FILES / "alternative_manifest.json").read_text()),
    }


def real_shapes(world: MockWorld) -> None:
    for name, document in artifacts(world.run_date).items():
        world.put_json(weekly_key(world.run_date, name), document)
    rewrite_universe(world)


def pytest_dataflight_faults() -> Mapping[str, Callable[[MockWorld], None]]:
    return {"real_shapes": real_shapes}
