"""Boundaries of the contracts' rules, on the mock world (Given / When / Then)."""

from __future__ import annotations

import pytest
from datatests_helpers import describe, expect_only, run_datatests

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "variant, broken",
    [
        ("constituents_exactly_800", {}),
        ("constituents_799", {"constituents_json": "failed"}),
        ("constituents_duplicate", {"constituents_json": "failed"}),
        ("ticker_two_behind", {}),
        ("one_stale_ticker", {"universe_fresh": "failed"}),
        ("everything_utc", {}),
    ],
)
def test_boundary(pytester: pytest.Pytester, variant: str, broken: dict[str, str]) -> None:
    # Given the healthy world with one variant applied, when the suite runs,
    # then only the expected contracts break.
    result, observed = run_datatests(
        pytester, "2026-04-18", "-p", "boundary_variants", faults=[variant]
    )
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
