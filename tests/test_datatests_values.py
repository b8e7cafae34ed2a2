"""The value rules of universe_prices_sane as pure functions, at their edges (no store).

Given one symbol's window as the producer writes it, when a rule judges it,
then it finds exactly what PIPELINE.md ("Precisely, for the universe_*
contracts") says, on either side of each threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pytest

from datatests.values import (
    MAX_MOVE,
    MIN_STOCKS_FOR_ALL_NAN,
    VOLUME_MEDIAN_ROWS,
    VOLUME_SPIKE_FACTOR,
    WARM_UP_ROWS,
    Finding,
    Rows,
    feature_columns,
    hard_findings,
    last_row_features,
    nan_features,
    nan_on_every_last_row,
    soft_findings,
)

NAN = math.nan


def window(rows: int = 25, **columns: Sequence[float]) -> pd.DataFrame:
    """A quiet stock's last ``rows`` rows (bar 99..101, close 100, volume 1e6, VWAP and
    one feature), with ``columns`` replaced (their last values, aligned at the end)."""
    index = pd.bdate_range(end="2026-04-17", periods=rows, name="date")
    frame = pd.DataFrame(
        {
            "Open": 100.0,
            "High": 101.0,
            "Low": 99.0,
            "Close": 100.0,
            "Volume": 1e6,
            "VWAP": 100.2,
            "rsi_14": 55.0,
            "exchange": "XNYS",
        },
        index=index,
    )
    for name, values in columns.items():
        frame.iloc[-len(values) :, frame.columns.get_loc(name)] = list(values)
    return frame


def judge(frame: pd.DataFrame, symbol: str = "BRK-B") -> Rows:
    return Rows.of(symbol, frame)


def soft(
    rows: Rows, max_move: float = MAX_MOVE, volume_spike_factor: float = VOLUME_SPIKE_FACTOR
) -> list[Finding]:
    """The warning rules at the declared defaults, or at the values a policy sets."""
    return soft_findings(rows, max_move=max_move, volume_spike_factor=volume_spike_factor)


def test_vwap_is_not_a_feature_and_its_nan_is_never_a_finding() -> None:
    # Given a fallback-source stock: NaN VWAP on every row
    frame = window(VWAP=[NAN] * 25)
    # Then VWAP is neither a feature nor a finding
    assert feature_columns(frame) == ["rsi_14"]
    assert hard_findings(judge(frame)) == []
    assert nan_features(judge(frame)) == []


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_vwap_fails_like_any_numeric_column(value: float) -> None:
    found = hard_findings(judge(window(VWAP=[value])))
    assert [str(f) for f in found] == [f"BRK-B 2026-04-17 VWAP {'inf' if value > 0 else '-inf'}"]


def test_nan_in_the_bar_fails_and_nan_feature_is_left_to_warm_up() -> None:
    frame = window(Volume=[NAN], rsi_14=[NAN])
    assert [str(f) for f in hard_findings(judge(frame))] == ["BRK-B 2026-04-17 Volume nan"]
    assert [str(f) for f in nan_features(judge(frame))] == ["BRK-B 2026-04-17 rsi_14"]


def spike(rows_before: int, before: Sequence[float] | None = None) -> list[str]:
    """Soft findings on a last row of 15x the volume, after ``rows_before`` rows."""
    volumes = list(before) if before is not None else [1e6] * rows_before
    frame = window(rows_before + 1, Volume=[*volumes, 15e6])
    return [str(f) for f in soft(judge(frame))]


def test_a_volume_spike_is_judged_only_with_20_rows_before_it() -> None:
    assert VOLUME_MEDIAN_ROWS == 20
    assert spike(19) == []
    assert spike(20) == ["BRK-B 2026-04-17 Volume 1.5e+07 > 10x median 1e+06"]


def test_the_volume_baseline_is_the_median_of_the_positive_volumes_before() -> None:
    # Zero-volume days (halts) are left out of the baseline, not counted as 0.
    assert spike(20, [0.0] * 15 + [2e6] * 5) == []
    spikes = [f for f in spike(20, [0.0] * 19 + [1e6]) if "median" in f]
    assert spikes == ["BRK-B 2026-04-17 Volume 1.5e+07 > 10x median 1e+06"]


def test_a_zero_volume_baseline_is_not_judged() -> None:
    # Given 20 rows of zero volume before the last one (the zeros in the window warn alone)
    found = spike(20, [0.0] * 20)
    assert not [f for f in found if "median" in f]


def test_a_move_is_judged_from_the_row_just_before_the_window() -> None:
    # The 6th row from the end is outside the window; the move into the window counts.
    frame = window(Close=[50.0, 100.0, 100.0, 100.0, 100.0, 100.0], Low=[49.0] + [99.0] * 5)
    frame["Open"] = frame["Close"]
    frame["High"] = frame["Close"] + 1
    found = [str(f) for f in soft(judge(frame))]
    assert found == ["BRK-B 2026-04-13 Close +100.0% from 50 to 100"]


def test_the_warning_rules_judge_by_the_thresholds_in_force() -> None:
    # Given a 100 % move into the window and a last volume of 15x the baseline
    frame = window(Close=[50.0, 100.0, 100.0, 100.0, 100.0, 100.0], Low=[49.0] + [99.0] * 5)
    frame["Open"] = frame["Close"]
    frame["High"] = frame["Close"] + 1
    frame.iloc[-1, frame.columns.get_loc("Volume")] = 15e6
    rows = judge(frame)
    # Then the defaults warn on both, a policy's looser values on neither (a factor may
    # exceed 1: a move above 100 %), and the message names the factor in force
    assert [f.column for f in soft(rows)] == ["Close", "Volume"]
    assert soft(rows, max_move=1.5, volume_spike_factor=20) == []
    [found] = soft(rows, max_move=1.5, volume_spike_factor=12.5)
    assert str(found) == "BRK-B 2026-04-17 Volume 1.5e+07 > 12.5x median 1e+06"


def counts_of(rows: dict[str, int]) -> object:
    def past_warm_up(symbols: Sequence[str]) -> set[str]:
        return {s for s in symbols if rows[s] >= WARM_UP_ROWS}

    return past_warm_up


def last_rows(nan: int, ok: int = 0, young: int = 0, without: int = 0) -> dict[str, object]:
    """Stocks whose last row has the feature NaN, a value, NaN in warm-up, or no column."""
    stocks: dict[str, object] = {}
    for i in range(nan):
        stocks[f"N{i}"] = last_row_features(judge(window(rsi_14=[NAN])))
    for i in range(ok):
        stocks[f"K{i}"] = last_row_features(judge(window()))
    for i in range(young):
        stocks[f"Y{i}"] = last_row_features(judge(window(rsi_14=[NAN])))
    for i in range(without):
        stocks[f"W{i}"] = last_row_features(judge(window().drop(columns="rsi_14")))
    return stocks


def rows_of(stocks: dict[str, object]) -> dict[str, int]:
    return {s: 100 if s.startswith("Y") else 300 for s in stocks}


@pytest.mark.parametrize(
    "nan, ok, young, without, failed",
    [
        (20, 0, 0, 0, {"rsi_14": 20}),  # every stock past warm-up, 20 of them: fails
        (19, 0, 0, 0, {}),  # 19 are too few to speak for everyone
        (20, 1, 0, 0, {}),  # all but one: the computation works (partial features warn)
        (20, 0, 3, 0, {"rsi_14": 20}),  # listings in warm-up do not count either way
        (19, 0, 3, 0, {}),  # ... nor toward the 20
        (20, 0, 0, 5, {"rsi_14": 20}),  # a stock without the column does not count
    ],
)
def test_a_feature_nan_on_every_last_row_fails(
    nan: int, ok: int, young: int, without: int, failed: dict[str, int]
) -> None:
    assert MIN_STOCKS_FOR_ALL_NAN == 20
    stocks = last_rows(nan, ok, young, without)
    assert nan_on_every_last_row(stocks, counts_of(rows_of(stocks))) == failed  # type: ignore[arg-type]


def test_a_healthy_universe_asks_no_row_count() -> None:
    # Given fewer than 20 stocks with a NaN feature on their last row
    asked: list[str] = []

    def past_warm_up(symbols: Sequence[str]) -> set[str]:
        asked.extend(symbols)
        return set(symbols)

    stocks = last_rows(nan=3, ok=900)
    # Then no row count is read at all
    assert nan_on_every_last_row(stocks, past_warm_up) == {}  # type: ignore[arg-type]
    assert asked == []
