"""An independently built copy of PIPELINE.md's layout, for running datatests as a black box.

Written from the specification, not from datatests/mock_world.py: if both
encoded the same misreading, the live test would not catch it. Different
sizes and names on purpose (850 constituents, 6 stocks in ArcticDB).
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


def objects() -> dict[str, Any]:
    names = [f"Z{i:03d}" for i in range(844)] + STOCKS
    return {
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
        PREFIX + "constituents.json": {
            "date": RUN_DATE.isoformat(),
            "tickers": names,
            "sector_map": {n: "Industrials" for n in names},
            "sector_etf_map": {"Industrials": "XLI"},
            "total_count": len(names),
            "fetched_at": "2026-05-23T00:03:11Z",
        },
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
    index = pd.DatetimeIndex(sessions(LAST_SESSION, 30))
    frame = pd.DataFrame({"Close": range(30), "Volume": range(30)}, index=index, dtype=float)
    macro = arctic.create_library("macro")
    for symbol in MACRO + ETFS:
        macro.write(symbol, frame)
    universe = arctic.create_library("universe")
    for symbol in STOCKS:
        universe.write(symbol, frame)
    universe.write("VIX", frame.iloc[:-15])  # a stale non-stock the rule must ignore


def http_routes(stub: Any) -> None:
    stub.route("fred", "/fred/series/observations", body={"observations": [{"value": "4.08"}]})
    stub.route("polygon", "/v3/reference/tickers/AAPL", body={"status": "OK", "results": {}})
    stub.route("fmp", "/stable/key-metrics-ttm", body=[{"symbol": "AAPL"}])
