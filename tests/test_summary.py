"""The Markdown summary: rendered from the report, masked like it, for CI job summaries.

Given a passed, a failed, an error and a usage-error run, when each writes
``--dataflight-summary`` (and ``$GITHUB_STEP_SUMMARY`` is set), then the
summary states status, run date, target, the contracts, the failures with
their messages and the blocked consumers, and a canary secret is nowhere in it.
"""

from __future__ import annotations

import secrets

import pytest
from report_helpers import MOCK_ARGS, dead_live_target, run

from pytest_dataflight.report.summary import render

pytestmark = pytest.mark.usefixtures("clean_env")

CONTRACTS = """
import os
import pytest
from pytest_dataflight import contract

MODE = os.environ["SUMMARY_MODE"]


@contract(stage="postflight", phases=["phase1"], consumers=["research", "backtester"])
def test_pointer(evidence):
    if MODE == "failed":
        pytest.fail(
            "pointer | date is 2026-04-11, expected 2026-04-18 (token "
            + os.environ["CANARY_TOKEN"] + ")",
            pytrace=False,
        )


@contract(stage="postflight", phases=["phase1"], consumers=["predictor"])
def test_spy_fresh():
    pass
"""
CONFTEST = """
def pytest_dataflight_secret_names():
    return ["CANARY_TOKEN"]
"""
STORE_CONTRACT = """
from pytest_dataflight import contract


@contract(stage="preflight", phases=["phase1"], consumers=["producer"])
def test_s3_bucket_reachable(s3, bucket):
    s3.head_bucket(Bucket=bucket)
"""


@pytest.fixture
def canary(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> str:
    token = f"cnry{secrets.token_hex(8)}"
    monkeypatch.setenv("CANARY_TOKEN", token)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step-summary.md"))
    pytester.makeconftest(CONFTEST)
    return token


def summaries(pytester: pytest.Pytester) -> tuple[str, str]:
    mine = (pytester.path / "summary.md").read_text(encoding="utf-8")
    github = (pytester.path / "step-summary.md").read_text(encoding="utf-8")
    return mine, github


@pytest.mark.parametrize("mode", ["passed", "failed"])
def test_passed_and_failed_runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, canary: str, mode: str
) -> None:
    pytester.makepyfile(test_contracts=CONTRACTS)
    monkeypatch.setenv("SUMMARY_MODE", mode)
    result, report = run(pytester, *MOCK_ARGS, "--dataflight-summary", "summary.md")
    mine, github = summaries(pytester)
    assert mine == github == render(report)
    assert canary not in mine
    assert f"dataflight: {mode}" in mine
    assert "run date **2026-04-18**, target **mock**" in mine
    assert "| spy_fresh | passed | predictor |" in mine
    if mode == "failed":
        assert "**Blocked consumers:** backtester, research" in mine
        assert "| pointer | failed | research, backtester | pointer \\| date is" in mine
        assert "### Failures" in mine and "(token ***)" in mine
    else:
        assert "**Blocked consumers:** none" in mine


def test_error_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, canary: str) -> None:
    pytester.makepyfile(test_store=STORE_CONTRACT)
    with dead_live_target(monkeypatch):
        _, report = run(
            pytester,
            "-p",
            "no:cacheprovider",
            "--target",
            "live",
            "--run-date",
            "2026-04-18",
            "--dataflight-summary",
            "summary.md",
        )
    mine, _ = summaries(pytester)
    assert report["status"] == "error"
    assert "dataflight: error" in mine and "| s3_bucket_reachable | error | producer |" in mine
    assert "**Blocked consumers:** producer" in mine
    # and the root cause, once, with the contract it took down
    [cause] = report["causes"]
    assert "### Root causes" in mine
    assert f"- {cause['cause']} (error, 1 contract: s3_bucket_reachable)" in mine


def test_usage_error_run(pytester: pytest.Pytester, canary: str) -> None:
    pytester.makepyfile(test_contracts=CONTRACTS)
    result, _ = run(
        pytester,
        "--run-date",
        "2026-02-30",
        "--target",
        "mock",
        "--dataflight-summary",
        "summary.md",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    mine, github = summaries(pytester)
    assert mine == github
    assert "dataflight: error" in mine and "run date **unset**, target **mock**" in mine
    assert "**Why:** usage error: invalid run date '2026-02-30'" in mine


def test_the_summary_lists_causes_and_every_waiver() -> None:
    # Given a report with one root cause and a waiver of each state
    waiver = {"contract": "universe_prices_sane", "reason": "fallback source", "waived": 0}
    report = {
        "status": "failed",
        "headline": "dataflight FAILED",
        "causes": [
            {"cause": "bucket 'b' does not exist", "outcome": "failed", "contracts": ["a", "b"]}
        ],
        "waivers": [
            {
                **waiver,
                "subjects": ["BRK-B"],
                "expires": "2026-06-30",
                "state": "applied",
                "waived": 2,
            },
            {**waiver, "subjects": ["BF-B"], "expires": "2026-01-31", "state": "expired"},
            {**waiver, "subjects": ["MOG-A"], "expires": "2026-06-30", "state": "unused"},
        ],
    }
    # When it is rendered, then each appears once, with what it did
    text = render(report)
    assert "- bucket 'b' does not exist (failed, 2 contracts: a, b)" in text
    assert "- **applied**: universe_prices_sane BRK-B (2 waived, expires 2026-06-30)" in text
    assert "- **expired**: universe_prices_sane BF-B (0 waived, expires 2026-01-31)" in text
    assert "- **unused**: universe_prices_sane MOG-A (0 waived" in text
