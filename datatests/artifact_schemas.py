"""The shape of each JSON artifact of PIPELINE.md: one definition, two uses.

The contracts check what the producer wrote against these schemas (a
violation names its JSON path), and ``pytest datatests --collect-only -q
--dataflight-catalog docs/contracts.md`` publishes each one under
``datatests/schemas/`` for the consumer teams; a test fails when the
committed files are stale.

Shape only: types, required fields, formats, bounds a value can never cross
(a ratio outside 0..1, a negative count). The rules about meaning (at least
800 distinct tickers, the pointer naming run_date, ratios against their
floors, a sector for every ticker) stay in the contracts. Objects stay open:
a producer may add fields without breaking a consumer.
"""

from __future__ import annotations

from typing import Any

from pytest_dataflight import ArtifactSchema

from .layout import MACRO_FIELDS

SCHEMAS_DIR = "datatests/schemas"

# "(?!\n)$", not "$": Python's "$" also matches before a final newline, ECMA-262's does
# not; written so, a pattern means the same to this check and to a consumer's validator.
END = r"(?!\n)$"
DATE = {
    "type": "string",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}" + END,
    "description": "a date, YYYY-MM-DD",
}
TIMESTAMP = {
    "type": "string",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}",
    "description": "an ISO 8601 time, YYYY-MM-DDTHH:MM…",
}
TICKER = {"type": "string", "pattern": "^\\S+" + END, "description": "a ticker symbol, no spaces"}
# 2**53 - 1: the largest integer every JSON reader holds exactly; no count comes near it.
COUNT = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
NUMBER_OR_NULL = {"type": ["number", "null"]}
RATIO = {"type": "number", "minimum": 0, "maximum": 1, "description": "a ratio from 0 to 1"}
RATIO_MAP = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": RATIO,
    "description": "source name -> ratio",
}


def _artifact(file: str, key: str, description: str, **schema: Any) -> ArtifactSchema:
    return ArtifactSchema(
        f"{SCHEMAS_DIR}/{file}",
        {"title": key, "description": description, "type": "object", **schema},
    )


POINTER = _artifact(
    "latest_weekly.schema.json",
    "market_data/latest_weekly.json",
    "Which weekly run is current; phase 1 writes it last, once the dated files are there.",
    required=["date", "s3_prefix"],
    properties={
        "date": DATE,
        "s3_prefix": {
            "type": "string",
            "pattern": "^market_data/weekly/[0-9]{4}-[0-9]{2}-[0-9]{2}/" + END,
            "description": "a prefix market_data/weekly/<date>/",
        },
    },
)

MACRO = _artifact(
    "macro.schema.json",
    "market_data/weekly/<run_date>/macro.json",
    "Macro indicators of the week; a value FRED did not return is null. The producer adds "
    "more fields than the contracts read (e.g. yield_curve_slope, cpi_yoy, oil_wti, a "
    "nested breadth object); they are allowed.",
    required=["fed_funds_rate"],
    properties={name: NUMBER_OR_NULL for name in MACRO_FIELDS},
)

CONSTITUENTS = _artifact(
    "constituents.schema.json",
    "market_data/weekly/<run_date>/constituents.json",
    "The S&P 500 and 400 members of the week (about 900) and their sectors; share classes "
    "are spelled with a dash (BRK-B).",
    required=["tickers", "sector_map"],
    properties={
        "date": DATE,
        "tickers": {"type": "array", "items": TICKER},
        "sector_map": {
            "type": "object",
            # null allowed: only a listed ticker needs a sector (constituents_json's rule).
            "additionalProperties": {"type": ["string", "null"]},
            "description": "ticker -> GICS sector name",
        },
        "sector_etf_map": {
            "type": "object",
            "additionalProperties": {"type": ["string", "null"]},
            "description": "ticker -> its sector ETF (e.g. XLK)",
        },
        "sp500_count": COUNT,
        "sp400_count": COUNT,
        "total_count": COUNT,
        "fetched_at": TIMESTAMP,
    },
)

SHORT_INTEREST = _artifact(
    "short_interest.schema.json",
    "market_data/weekly/<run_date>/short_interest.json",
    "Short interest per ticker (optional artifact: the step may be disabled).",
    required=["ticker_count", "ok_count", "data"],
    properties={
        "date": DATE,
        "fetched_at": TIMESTAMP,
        "ticker_count": COUNT,
        "ok_count": COUNT,
        "data": {
            "type": "object",
            "description": "ticker -> its figures: an entry for every requested ticker, "
            "its figures null where its fetch failed (ok_count counts the others)",
            "additionalProperties": {
                "type": ["object", "null"],
                "properties": {
                    "short_pct_float": {
                        **NUMBER_OR_NULL,
                        "description": "a percentage of the float: 2.5 means 2.5 %",
                    },
                    "short_ratio": NUMBER_OR_NULL,
                    "shares_short": NUMBER_OR_NULL,
                },
            },
        },
    },
)

MANIFEST = _artifact(
    "alternative_manifest.schema.json",
    "market_data/weekly/<run_date>/alternative/manifest.json",
    "Phase 2's summary: per source, the share of tickers it delivered and its floor.",
    required=["tickers_requested", "source_ok_ratios", "source_min_ok_ratios"],
    properties={
        "tickers_requested": COUNT,
        "source_ok_ratios": RATIO_MAP,
        "source_min_ok_ratios": RATIO_MAP,
    },
)

ALL = [POINTER, MACRO, CONSTITUENTS, SHORT_INTEREST, MANIFEST]
