"""Boundaries of the contracts' rules, on the mock world (Given / When / Then)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from datatests_helpers import describe, expect_only, run_datatests

from datatests import mock_world
from datatests.faults import _edit_rows
from datatests.layout import CONSTITUENTS_JSON, UNIVERSE_LIBRARY, weekly_key
from pytest_dataflight import MockWorld

pytestmark = pytest.mark.slow


# Variants at the limits of the values contracts. The inner run loads this module as a
# plugin (-p test_datatests_boundaries) for the hook below; its tests are not collected there.
def churn_exactly_5_percent(world: MockWorld) -> None:
    """Last week listed 900; 24 added and 21 removed is exactly 5 %: "above" is strict,
    so it passes."""
    day = world.run_date - dt.timedelta(days=mock_world.PREVIOUS_RUNS[0])
    this_week = mock_world.tickers()
    previous = this_week[24:] + [f"{t}.OLD" for t in this_week[:21]]
    assert len(previous) == 900
    world.put_json(weekly_key(day, CONSTITUENTS_JSON), mock_world.constituents(day, names=previous))


def previous_run_5_days_before(world: MockWorld) -> None:
    """The only earlier run is dated exactly 5 days before run_date: it counts."""
    for days in mock_world.PREVIOUS_RUNS:
        world.delete(weekly_key(world.run_date - dt.timedelta(days=days), CONSTITUENTS_JSON))
    day = world.run_date - dt.timedelta(days=5)
    world.put_json(weekly_key(day, CONSTITUENTS_JSON), mock_world.constituents(day))


def volume_exactly_10x(world: MockWorld) -> None:
    """AAA's last Volume is exactly 10x the median of the 20 before: not above, passes."""
    frame = world.arctic.get_library(UNIVERSE_LIBRARY).read("AAA").data
    _edit_rows(world, "AAA", -1, Volume=10 * float(frame["Volume"].iloc[-21:-1].median()))


def gap_outside_window(world: MockWorld, back: int) -> None:
    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frame = lib.read("MSFT").data
    lib.write("MSFT", frame.drop(frame.index[-1 - back]))


def _keep_last_rows(world: MockWorld, symbol: str, rows: int) -> Any:
    """Rewrite ``symbol`` as a listing with only its last ``rows`` rows; returns the frame."""
    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frame = lib.read(symbol).data.iloc[-rows:].copy()
    lib.write(symbol, frame)
    return frame


def nan_feature_at_rows(world: MockWorld, rows: int) -> None:
    """JPM holds exactly ``rows`` rows and a NaN zscore_20d on its last one: under 265 rows
    that is warm-up (nothing to say), from 265 rows on a partial-features warning."""
    _keep_last_rows(world, "JPM", rows)
    _edit_rows(world, "JPM", -1, zscore_20d=float("nan"))


def spike_after_rows(world: MockWorld, rows_before: int) -> None:
    """NVDA holds ``rows_before`` rows and then one with 15x their median volume: the
    baseline needs 20 rows before the judged one, so 19 is not judged and 20 warns."""
    frame = _keep_last_rows(world, "NVDA", rows_before + 1)
    baseline = float(frame["Volume"].iloc[:-1].median())
    _edit_rows(world, "NVDA", -1, Volume=15 * baseline)


def pytest_dataflight_faults() -> Mapping[str, Callable[[MockWorld], None]]:
    return {
        "nan_feature_at_264_rows": lambda world: nan_feature_at_rows(world, 264),
        "nan_feature_at_265_rows": lambda world: nan_feature_at_rows(world, 265),
        "spike_after_19_rows": lambda world: spike_after_rows(world, 19),
        "spike_after_20_rows": lambda world: spike_after_rows(world, 20),
        "churn_exactly_5_percent": churn_exactly_5_percent,
        "previous_run_5_days_before": previous_run_5_days_before,
        "volume_exactly_10x": volume_exactly_10x,
        # The gap window is the 20 sessions ending at the last row: 19 back is its first.
        "gap_19_sessions_back": lambda world: gap_outside_window(world, 19),
        "gap_20_sessions_back": lambda world: gap_outside_window(world, 20),
    }


@pytest.mark.parametrize(
    "variant, broken",
    [
        # 800 of last week's 903: 103 names gone is 11.4 % churn, warned.
        ("constituents_exactly_800", {"constituents_churn": "warned"}),
        ("constituents_799", {"constituents_json": "failed", "constituents_churn": "warned"}),
        ("constituents_duplicate", {"constituents_json": "failed", "constituents_churn": "warned"}),
        ("ticker_two_behind", {}),
        ("one_stale_ticker", {"universe_fresh": "failed"}),
        ("everything_utc", {}),
        ("churn_exactly_5_percent", {}),
        ("previous_run_5_days_before", {}),
        ("volume_exactly_10x", {}),
        ("gap_19_sessions_back", {"universe_session_gaps": "failed"}),
        ("gap_20_sessions_back", {}),
        # Warm-up ends at 265 rows in total (the longest feature window is 252).
        ("nan_feature_at_264_rows", {}),
        ("nan_feature_at_265_rows", {"universe_prices_sane": "warned"}),
        # A volume spike is judged only with 20 rows before it.
        ("spike_after_19_rows", {}),
        ("spike_after_20_rows", {"universe_prices_sane": "warned"}),
    ],
)
def test_boundary(pytester: pytest.Pytester, variant: str, broken: dict[str, str]) -> None:
    # Given the healthy world with one variant applied, when the suite runs,
    # then only the expected contracts break.
    plugins = ("-p", "boundary_variants", "-p", "test_datatests_boundaries")
    result, observed = run_datatests(pytester, "2026-04-18", *plugins, faults=[variant])
    assert expect_only(observed, broken) == [], describe(result)


@pytest.mark.parametrize(
    "run_date",
    [
        "2026-05-24",  # Sunday redrive: last session Friday 2026-05-22
        "2026-05-25",  # Memorial Day, closed
        "2026-04-04",  # Saturday after Good Friday: last session 2026-04-02
        "2026-11-27",  # day after Thanksgiving, early close: a session
        "2026-06-19",  # Juneteenth, closed: last session 2026-06-18
    ],
)
def test_redrives_and_holidays_pass(pytester: pytest.Pytester, run_date: str) -> None:
    result, observed = run_datatests(pytester, run_date)
    assert expect_only(observed, {}) == [], describe(result)
