"""Contracts are ordinary tests: markers select them, and universe_fresh can sample."""

from __future__ import annotations

import pytest
from datatests_helpers import CONTRACTS, run_datatests, runpytest_datatests


def collect(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = runpytest_datatests(pytester, "--collect-only", "-q", *args)
    assert result.ret == pytest.ExitCode.OK
    return sorted(
        line.rsplit("::", 1)[-1].removeprefix("test_")
        for line in result.outlines
        if "::test_" in line
    )


@pytest.mark.parametrize(
    "expression, expected",
    [
        (
            "postflight and phase1",
            [
                "constituents_churn",
                "constituents_json",
                "latest_weekly_pointer",
                "macro_json",
                "macro_spy_fresh",
                "short_interest_json",
                "universe_covers_constituents",
                "universe_fresh",
                "universe_prices_sane",
                "universe_session_gaps",
            ],
        ),
        ("postflight and phase2", ["alternative_manifest"]),
        (
            "preflight and daily",
            ["arcticdb_libraries_present", "daily_spy_fresh", "s3_bucket_reachable"],
        ),
        ("contract", sorted(CONTRACTS)),
    ],
)
def test_markers_select_contracts(
    pytester: pytest.Pytester, expression: str, expected: list[str]
) -> None:
    # Given the datatests suite, when listing with -m, then exactly the stage/phase's contracts.
    assert collect(pytester, "-m", expression) == expected


def test_keyword_selects_by_contract_name(pytester: pytest.Pytester) -> None:
    assert collect(pytester, "-k", "spy_fresh") == ["daily_spy_fresh", "macro_spy_fresh"]


@pytest.mark.slow
def test_universe_sample_is_deterministic_and_still_finds_staleness(
    pytester: pytest.Pytester,
) -> None:
    # Given 602 of 903 stocks stale (universe_partial_write), when sampling 5 of 903
    # tickers seeded by the run date, then the same 5 are checked on every run.
    args = ("--universe-sample", "5", "-k", "universe_fresh")
    first, observed = run_datatests(
        pytester, "2026-04-18", *args, faults=["universe_partial_write"]
    )
    second, _ = run_datatests(pytester, "2026-04-18", *args, faults=["universe_partial_write"])
    ev1 = first.dataflight_evidence["universe_fresh"]  # type: ignore[attr-defined]
    ev2 = second.dataflight_evidence["universe_fresh"]  # type: ignore[attr-defined]
    # (the universe also holds the 5 removed members, which are never judged)
    assert ev1["checked"] == 5 and ev1["stocks"] == 908 and ev1["constituents"] == 903
    assert ev1["stale_tickers"] == ev2["stale_tickers"]
    assert observed["universe_fresh"] == "failed"


@pytest.mark.slow
@pytest.mark.parametrize(
    "stage, outcome",
    [("preflight and phase1", "passed"), ("preflight and phase2", "failed")],
)
def test_secrets_present_checks_the_selected_phase_only(
    pytester: pytest.Pytester, stage: str, outcome: str
) -> None:
    # Given FINNHUB_API_KEY (a phase 2 secret) missing, when only one phase's
    # preflight runs, then only phase 2's run misses it.
    result, observed = run_datatests(pytester, "2026-04-18", "-m", stage, faults=["secret_missing"])
    assert observed["secrets_present"] == outcome
    evidence = result.dataflight_evidence["secrets_present"]  # type: ignore[attr-defined]
    assert evidence["phases"] == [stage.rsplit(" ", 1)[-1]]
