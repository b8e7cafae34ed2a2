"""Soft thresholds: one contract ends warned past the soft limit and failed past the hard one.

Given a suite whose contracts measure one value against a soft and a hard
limit (like dbt's warn_if / error_if), when it runs, then the report, the
terminal table and the headline say warned or failed, and only failed
changes the exit code or blocks a consumer.
"""

from __future__ import annotations

import pytest
from report_helpers import MOCK_ARGS, by_name, last_line, run

from pytest_dataflight import soft_threshold

pytestmark = pytest.mark.usefixtures("clean_env")

CHURN = """
import os
from pytest_dataflight import contract, soft_threshold, warn

RATIO = float(os.environ["CHURN_RATIO"])


@contract(stage="postflight", phases=["phase1"], consumers=["research"])
def test_constituents_churn(evidence):
    evidence["ratio"] = RATIO
    soft_threshold(
        RATIO, warn_above=0.05, fail_above=0.20, message=f"churn {RATIO:.0%} against 2026-04-11"
    )


@contract(stage="postflight", phases=["phase1"], consumers=["predictor"])
def test_plain_warn(evidence):
    if RATIO > 0.5:
        evidence["why"] = "asked to"
        warn("volume 12x its 20-session median on 2026-04-17")
"""


def test_below_both_limits_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_churn=CHURN)
    monkeypatch.setenv("CHURN_RATIO", "0.05")  # "above" is strict: 5 % is not above 5 %
    result, report = run(pytester, *MOCK_ARGS)
    assert result.ret == pytest.ExitCode.OK
    assert by_name(report)["constituents_churn"]["outcome"] == "passed"


def test_past_the_soft_limit_only_warns(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given churn of 7 %: past the soft 5 %, within the hard 20 %
    pytester.makepyfile(test_churn=CHURN)
    monkeypatch.setenv("CHURN_RATIO", "0.07")
    # When the suite runs
    result, report = run(pytester, *MOCK_ARGS)
    # Then the contract is warned, with its message and evidence, and nothing else moves
    assert result.ret == pytest.ExitCode.OK
    assert (report["status"], report["blocked_consumers"]) == ("passed", [])
    entry = by_name(report)["constituents_churn"]
    assert entry["outcome"] == "warned"
    assert entry["message"] == (
        "churn 7% against 2026-04-11: above the soft limit 0.05, within the hard limit 0.2"
    )
    assert entry["evidence"] == {"ratio": 0.07}
    assert report["consumers"] == {"predictor": "ok", "research": "ok"}
    # The terminal: pytest's summary counts it, the table says why, the headline says warned.
    result.stdout.fnmatch_lines(["*1 passed, 1 warned in *"])
    result.stdout.fnmatch_lines(
        ["constituents_churn * warned * research", "    churn 7% against 2026-04-11: above*"]
    )
    assert last_line(result) == report["headline"]
    assert report["headline"].endswith("1 of 2 contracts held, 1 warned")


def test_past_the_hard_limit_fails_and_blocks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_churn=CHURN)
    monkeypatch.setenv("CHURN_RATIO", "0.30")
    result, report = run(pytester, *MOCK_ARGS)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    entry = by_name(report)["constituents_churn"]
    assert entry["outcome"] == "failed"
    assert entry["message"] == "churn 30% against 2026-04-11: above the hard limit 0.2"
    assert report["blocked_consumers"] == ["research"]


def test_warn_from_inside_a_test_keeps_its_own_words(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_churn=CHURN)
    monkeypatch.setenv("CHURN_RATIO", "0.9")
    result, report = run(pytester, *MOCK_ARGS, "-k", "plain_warn", "-x")
    # -x ignores a warned contract, as it ignores an xfail
    assert result.ret == pytest.ExitCode.OK
    entry = by_name(report)["plain_warn"]
    assert entry["outcome"] == "warned"
    assert entry["message"] == "volume 12x its 20-session median on 2026-04-17"
    assert entry["evidence"] == {"why": "asked to"}
    assert report["consumers"]["predictor"] == "ok"


def test_a_soft_limit_above_the_hard_one_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="warn_above 0.3 is above fail_above 0.2"):
        soft_threshold(0.1, warn_above=0.3, fail_above=0.2, message="churn")
