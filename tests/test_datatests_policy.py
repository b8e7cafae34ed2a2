"""The repository's contracts judge by the policy file: thresholds, severities, waivers.

Given the healthy mock world with one fault, when datatests/ runs with a
policy (the README's own sample, or one threshold or severity), then the
contract the policy names changes its verdict, and only that one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from datatests_helpers import describe, expect_only, run_datatests
from report_helpers import load_report

from datatests.layout import MIN_CONSTITUENTS

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
RUN_DATE = "2026-04-18"  # before the sample waiver's expires date


def readme_policy() -> str:
    """The ```toml block of the README's "A policy file" section, as a reader copies it."""
    section = README.read_text(encoding="utf-8").split("\n## A policy file", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the README's policy section holds one TOML sample"
    return blocks[0]


def run_with_policy(
    pytester: pytest.Pytester, policy: str | None, fault: str
) -> tuple[pytest.RunResult, dict[str, str], dict[str, Any]]:
    """datatests/ on the mock world with ``fault``, judged by ``policy`` (None: none)."""
    args: list[str] = []
    if policy is not None:
        path = pytester.path / "policy.toml"
        path.write_text(policy, encoding="utf-8")
        args = ["--dataflight-policy", str(path)]
    result, observed = run_datatests(pytester, RUN_DATE, *args, faults=[fault])
    report = load_report(pytester.path / "dataflight-report.json")
    return result, observed, report


def entry(report: dict[str, Any], contract: str) -> dict[str, Any]:
    return next(e for e in report["contracts"] if e["contract"] == contract)


def test_the_readme_sample_policy_waives_brk_b_infinite_vwap(pytester: pytest.Pytester) -> None:
    # Given BRK-B's last VWAP +inf: without a policy universe_prices_sane fails on it
    result, observed, _ = run_with_policy(pytester, None, "vwap_inf")
    assert expect_only(observed, {"universe_prices_sane": "failed"}) == [], describe(result)
    # When the README's sample policy judges the same world
    result, observed, report = run_with_policy(pytester, readme_policy(), "vwap_inf")
    # Then it is valid for this suite, and its waiver of BRK-B and BF-B lets it pass
    assert result.ret == pytest.ExitCode.OK, describe(result) + result.stderr.str()
    assert expect_only(observed, {}) == [], describe(result)
    [waiver] = report["waivers"]
    assert (waiver["contract"], waiver["subjects"]) == ("universe_prices_sane", ["BRK-B", "BF-B"])
    assert (waiver["state"], waiver["waived"]) == ("applied", 1)
    # And the waived finding stays in the evidence, never hidden
    [waived] = entry(report, "universe_prices_sane")["evidence"]["waived"]
    assert waived.startswith("BRK-B 2026-04-17 VWAP inf (waived until 2026-06-30")
    # And what the sample changes is what the report says it changed
    assert report["policy"]["overrides"] == {
        "universe_fresh": {"max_sessions_behind": 3},
        "constituents_churn": {"severity": "warn"},
    }


@pytest.mark.parametrize(
    ("min_tickers", "outcome"), [(MIN_CONSTITUENTS, "failed"), (MIN_CONSTITUENTS - 1, "passed")]
)
def test_min_tickers_decides_constituents_json(
    pytester: pytest.Pytester, min_tickers: int, outcome: str
) -> None:
    # Given 799 constituents (churn warns on the same truncated scrape, either way)
    policy = f"[contracts.constituents_json]\nmin_tickers = {min_tickers}\n"
    # When the floor is the default 800, or a policy's 799
    result, observed, report = run_with_policy(pytester, policy, "constituents_799")
    # Then constituents_json fails at 800 and holds at 799; nothing else changes
    broken = {"constituents_churn": "warned"}
    if outcome != "passed":
        broken["constituents_json"] = outcome
    assert expect_only(observed, broken) == [], describe(result)
    overrides = report["policy"]["overrides"]
    assert overrides == (
        {} if min_tickers == MIN_CONSTITUENTS else {"constituents_json": {"min_tickers": 799}}
    )


def test_universe_fresh_demoted_to_warn_blocks_nobody(pytester: pytest.Pytester) -> None:
    # Given one constituent 3 sessions behind: universe_fresh fails (faults prove it)
    policy = '[contracts.universe_fresh]\nseverity = "warn"\n'
    # When a policy demotes the contract to warn
    result, observed, report = run_with_policy(pytester, policy, "one_stale_ticker")
    # Then it ends warned, the run passes, and no consumer is blocked
    assert expect_only(observed, {"universe_fresh": "warned"}) == [], describe(result)
    assert result.ret == pytest.ExitCode.OK
    assert report["blocked_consumers"] == []
    assert set(report["consumers"].values()) == {"ok"}
    assert "MOG-A" in entry(report, "universe_fresh")["message"]
