"""The contracts meet what the real producer writes, on purpose, and raise no alarm.

Given artifacts and frames in the producer's shapes (tests/real_shapes/ and
tests/real_shapes_world.py: dash-spelled share classes, sector ETFs per
ticker, all-null short-interest entries, extra and null macro fields,
~50 features with a 252-row window, NaN VWAP from the fallback source and
before enrichment, integer volumes, series grown by daily appends), when
the schemas and the suite judge them, then everything holds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import real_shapes_world as shapes
from datatests_helpers import describe, expect_only, run_datatests

from datatests import artifact_schemas
from datatests.layout import CONSTITUENTS_JSON, MACRO_JSON, SHORT_INTEREST_JSON
from datatests.values import WARM_UP_ROWS

RUN_DATE = dt.date(2026, 4, 18)
SCHEMAS = {
    MACRO_JSON: artifact_schemas.MACRO,
    CONSTITUENTS_JSON: artifact_schemas.CONSTITUENTS,
    SHORT_INTEREST_JSON: artifact_schemas.SHORT_INTEREST,
}


def test_the_fixture_files_are_small() -> None:
    for path in Path(shapes.FILES).iterdir():
        assert path.stat().st_size < 300_000, path


@pytest.mark.parametrize("name", [*SCHEMAS, "alternative/manifest.json"])
def test_real_shaped_artifacts_hold_to_their_schemas(name: str) -> None:
    schema = SCHEMAS.get(name, artifact_schemas.MANIFEST)
    found, _ = schema.violations(shapes.artifacts(RUN_DATE)[name])
    assert [str(v) for v in found] == []


def test_real_shaped_artifacts_have_the_producers_shapes() -> None:
    docs = shapes.artifacts(RUN_DATE)
    constituents = docs[CONSTITUENTS_JSON]
    assert {"BRK-B", "BF-B", "MOG-A", "PSTG"} <= set(constituents["tickers"])
    assert constituents["sector_etf_map"]["BRK-B"].startswith("XL")
    assert constituents["sp500_count"] + constituents["sp400_count"] == len(constituents["tickers"])
    short = docs[SHORT_INTEREST_JSON]
    assert set(short["data"]) == set(constituents["tickers"])
    nulls = [t for t, v in short["data"].items() if v["short_pct_float"] is None]
    assert nulls and short["ok_count"] == short["ticker_count"] - len(nulls)
    macro = docs[MACRO_JSON]
    assert isinstance(macro["breadth"], dict) and None in macro.values()


def test_a_producer_series_has_the_warm_up_and_vwap_of_the_real_one() -> None:
    sessions = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(WARM_UP_ROWS)]
    frame = shapes.producer_frame(sessions, 1, vwap=False, utc=False)
    features = [c for c in frame.columns if c in shapes.feature_warm_up()]
    assert len(features) >= 45
    assert frame["VWAP"].isna().all() and frame["Volume"].dtype == np.int64
    # The longest window is 252 rows: at 265 rows every feature has values at the end.
    assert not frame[features].iloc[-5:].isna().to_numpy().any()
    assert frame["beta_252d"].iloc[:252].isna().all()


@pytest.mark.slow
def test_the_healthy_contracts_pass_on_real_shapes(pytester: pytest.Pytester) -> None:
    # Given the healthy world with this week's artifacts and 41 series as the producer writes
    plugin = ("-p", "real_shapes_world")
    # When the whole suite runs
    result, observed = run_datatests(pytester, "2026-04-18", *plugin, faults=["real_shapes"])
    # Then every contract passes: no warning either (partial features lie outside the window)
    assert expect_only(observed, {}) == [], describe(result)
    prices = result.dataflight_evidence["universe_prices_sane"]  # type: ignore[attr-defined]
    assert prices["warning_count"] == 0 and prices["partial_feature_counts"] == {}
