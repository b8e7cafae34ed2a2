"""The report is written whatever strings a contract puts into it.

Given contracts whose messages and evidence hold a lone surrogate (a ticker
read from valid JSON as ``"\\ud800"``), control characters, invalid UTF-8
decoded with replacement and a string of several megabytes, when the suite
runs, then the report is written, schema-valid, within its budget, and still
names the run date and target the orchestrator matches it by.
"""

from __future__ import annotations

import json

import pytest
from report_helpers import MOCK_ARGS, by_name, run

pytestmark = pytest.mark.usefixtures("clean_env")

ODD_STRINGS = r"""
import json
import pytest
from pytest_dataflight import contract

TICKER = json.loads('"\\ud800"')  # valid JSON: a lone surrogate


@contract(stage="postflight", phases=["phase1"], consumers=["research"])
def test_constituents_json(evidence):
    evidence["bad_tickers"] = [TICKER, "A\x00B\x1b[31m"]
    pytest.fail(f"tickers[17] is {TICKER!s}: not a ticker", pytrace=False)


@contract(stage="postflight", phases=["phase1"], consumers=["research"])
def test_replaced_bytes(evidence):
    text = b"caf\xe9 \xff".decode("utf-8", "replace")
    evidence[text] = text
    assert text == "x", text


@contract(stage="postflight", phases=["phase1"], consumers=["predictor"])
def test_huge_message():
    pytest.fail("x" * 5_000_000, pytrace=False)
"""


def test_odd_strings_do_not_lose_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_odd=ODD_STRINGS)
    result, report = run(pytester, *MOCK_ARGS)
    # Then the run failed on its data, not inside the plugin
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (report["status"], report["run_date"], report["target"]) == (
        "failed",
        "2026-04-18",
        "mock",
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    entries = by_name(report)
    assert {e: entries[e]["outcome"] for e in entries} == {
        "constituents_json": "failed",
        "replaced_bytes": "failed",
        "huge_message": "failed",
    }
    # The lone surrogate is shown as its escape, the message otherwise intact.
    assert entries["constituents_json"]["message"] == r"tickers[17] is \ud800: not a ticker"
    assert entries["constituents_json"]["evidence"]["bad_tickers"][1] == "A\x00B\x1b[31m"
    assert "café" not in json.dumps(report)  # é was not valid UTF-8: replaced, not guessed
    assert "more chars]" in entries["huge_message"]["message"]
