"""This pipeline's S3/ArcticDB layout, thresholds and consumers (PIPELINE.md), in one place."""

from __future__ import annotations

import datetime as dt

# Consumers
RESEARCH = "research"
PREDICTOR = "predictor"
BACKTESTER = "backtester"
PRODUCER = "producer"
ALL_READERS = [RESEARCH, PREDICTOR, BACKTESTER]

# S3 keys
POINTER_KEY = "market_data/latest_weekly.json"
PREFLIGHT_PREFIX = "preflight/"
WEEKLY_ROOT = "market_data/weekly/"


def weekly_prefix(run_date: dt.date) -> str:
    return f"{WEEKLY_ROOT}{run_date.isoformat()}/"


def weekly_key(run_date: dt.date, name: str) -> str:
    return weekly_prefix(run_date) + name


MACRO_JSON = "macro.json"
CONSTITUENTS_JSON = "constituents.json"
SHORT_INTEREST_JSON = "short_interest.json"
ALTERNATIVE_MANIFEST = "alternative/manifest.json"

MACRO_FIELDS = [
    "fed_funds_rate",
    "treasury_2yr",
    "treasury_10yr",
    "vix",
    "unemployment",
    "consumer_sentiment",
    "initial_claims",
    "hy_credit_spread_oas",
]

# ArcticDB
UNIVERSE_LIBRARY = "universe"
MACRO_LIBRARY = "macro"
REQUIRED_LIBRARIES = [UNIVERSE_LIBRARY, MACRO_LIBRARY]
MACRO_SYMBOLS = ["SPY", "VIX", "VIX3M", "TNX", "IRX", "GLD", "USO"]
SECTOR_ETFS = ["XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY"]
NOT_STOCKS = frozenset(MACRO_SYMBOLS) | frozenset(SECTOR_ETFS)
REFERENCE_SYMBOL = "SPY"

# Defaults of the named thresholds (PIPELINE.md, "Named thresholds"): each contract
# declares its own in @contract(thresholds=...) and judges by the value in force (the
# ``thresholds`` fixture), which a policy file may change. The universe_* ones are in
# values.py.
MIN_CONSTITUENTS = 800  # constituents_json's min_tickers
MIN_SHORT_INTEREST_OK_RATIO = 0.5  # short_interest_json's min_ok_ratio
MAX_SPY_SESSIONS_BEHIND = 0  # macro_spy_fresh's max_sessions_behind
MAX_TICKER_SESSIONS_BEHIND_SPY = 2  # universe_fresh's max_sessions_behind
MAX_DAILY_SPY_SESSIONS_BEHIND = 1  # daily_spy_fresh's max_sessions_behind
MAX_MISSING_CONSTITUENTS = 0  # universe_covers_constituents' max_missing
CHURN_WARN_ABOVE = 0.05  # constituents_churn's warn_above
CHURN_FAIL_ABOVE = 0.20  # constituents_churn's fail_above

# Secrets per phase (AWS_REGION is configuration, checked from the environment)
PHASE_SECRETS = {
    "phase1": ["FRED_API_KEY", "POLYGON_API_KEY"],
    "phase2": ["FMP_API_KEY", "FINNHUB_API_KEY", "EDGAR_IDENTITY"],
}
ALL_SECRETS = [name for names in PHASE_SECRETS.values() for name in names]

# External APIs: name -> default base URL (``<NAME>_API_URL`` overrides on live)
APIS = {
    "fred": "https://api.stlouisfed.org",
    "polygon": "https://api.polygon.io",
    "fmp": "https://financialmodelingprep.com",
}
FRED_PATH = "/fred/series/observations"
POLYGON_PATH = "/v3/reference/tickers/AAPL"
FMP_PATH = "/stable/key-metrics-ttm"
