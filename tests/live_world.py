"""An independently built copy of PIPELINE.md's layout, for running datatests as a black box.

Written from the specification, not from datatests/mock_world.py: if both
encoded the same misreading, the live test would not catch it. Different
sizes and names on purpose (850 constituents, all of them in ArcticDB's
universe, 30 sessions each; the previous weekly run a week earlier with
4 names of churn).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import exchange_calendars as xcals
import pandas as pd

RUN_DATE = dt.date(2026, 5, 23)  # a Saturday; last session Friday 2026-05-22
LAST_SESSION = dt.date(2026, 5, 22)
PREFIX = f"market_data/weekly/{RUN_DATE.isoformat()}/"
SSM_PREFIX = "/blackbox/"
MACRO = ["SPY", "VIX", "VIX3M", "TNX", "IRX", "GLD", "USO"]
ETFS = ["XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"]
STOCKS = ["AAPL", "MSFT", "KO", "PEP", "CAT", "DE"]
SECRETS = {
    "FRED_API_KEY": "bb-fred-canary-7f3a",
    "POLYGON_API_KEY": "bb-polygon-canary-19c2",
    "FMP_API_KEY": "bb-fmp-canary-a001",
    "FINNHUB_API_KEY": "bb-finnhub-canary-5e5e",
    "EDGAR_IDENTITY": "Black Box tester bb@example.org",
}


def sessions(end: dt.date, count: int) -> list[pd.Timestamp]:
    cal = xcals.get_calendar("XNYS", start="2025-06-02", end="2026-12-31")
    return list(cal.sessions_in_range("2025-06-02", end.isoformat())[-count:])


NAMES = [f"Z{i:03d}" for i in range(844)] + STOCKS
PREVIOUS_DATE = RUN_DATE - dt.timedelta(days=7)
PREVIOUS_PREFIX = f"market_data/weekly/{PREVIOUS_DATE.isoformat()}/"
# Last week's list: two names since removed, two of this week's not yet added.
PREVIOUS_NAMES = ["Y001", "Y002", *NAMES[2:]]


def constituents(names: list[str], day: dt.date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "tickers": names,
        "sector_map": {n: "Industrials" for n in names},
        "sector_etf_map": {"Industrials": "XLI"},
        "total_count": len(names),
        "fetched_at": f"{day.isoformat()}T00:03:11Z",
    }


def objects() -> dict[str, Any]:
    names = NAMES
    return {
        PREVIOUS_PREFIX + "constituents.json": constituents(PREVIOUS_NAMES, PREVIOUS_DATE),
        "market_data/latest_weekly.json": {"date": RUN_DATE.isoformat(), "s3_prefix": PREFIX},
        PREFIX + "macro.json": {
            "fed_funds_rate": 4.08,
            "treasury_2yr": None,
            "treasury_10yr": 4.4,
            "vix": 18.0,
            "unemployment": 4.2,
            "consumer_sentiment": 60.1,
            "initial_claims": 230000,
            "hy_credit_spread_oas": 3.1,
        },
        PREFIX + "constituents.json": constituents(names, RUN_DATE),
        PREFIX + "short_interest.json": {
            "date": RUN_DATE.isoformat(),
            "fetched_at": "2026-05-23T00:04:00Z",
            "ticker_count": 850,
            "ok_count": 700,
            "data": {n: {"short_pct_float": 1.0} for n in names[:700]},
        },
        PREFIX + "alternative/manifest.json": {
            "tickers_requested": 6,
            "source_ok_ratios": {"news": 1.0, "eps_revision": 0.85},
            "source_min_ok_ratios": {"news": 0.9, "eps_revision": 0.8},
        },
    }


def build(s3: Any, ssm: Any, arctic: Any, bucket: str) -> None:
    for key, body in objects().items():
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())
    for name, value in SECRETS.items():
        ssm.put_parameter(Name=SSM_PREFIX + name, Value=value, Type="SecureString")
    from arcticdb.version_store.library import WritePayload

    frame = stock_frame()
    macro = arctic.create_library("macro")
    macro.write_batch([WritePayload(symbol, frame[["Close"]]) for symbol in MACRO + ETFS])
    universe = arctic.create_library("universe")
    # One batch: 850 symbols at moto's ~200 requests/s is most of this world's cost.
    universe.write_batch([WritePayload(symbol, frame) for symbol in NAMES])
    universe.write("VIX", frame.iloc[:-15])  # a stale non-stock the rules must ignore


def stock_frame() -> pd.DataFrame:
    """30 sessions of a quiet stock: a bar that holds its close, steady volume, one feature."""
    index = pd.DatetimeIndex(sessions(LAST_SESSION, 30))
    close = [50.0 + 0.25 * (i % 7) for i in range(30)]
    return pd.DataFrame(
        {
            "Open": [c - 0.1 for c in close],
            "High": [c + 0.5 for c in close],
            "Low": [c - 0.5 for c in close],
            "Close": close,
            "Volume": [2.0e6 + 1.0e4 * (i % 5) for i in range(30)],
            "mom_5d": [0.01 * (i % 3) for i in range(30)],
        },
        index=index,
    )


def http_routes(stub: Any) -> None:
    stub.route("fred", "/fred/series/observations", body={"observations": [{"value": "4.08"}]})
    stub.route("polygon", "/v3/reference/tickers/AAPL", body={"status": "OK", "results": {}})
    stub.route("fmp", "/stable/key-metrics-ttm", body=[{"symbol": "AAPL"}])
