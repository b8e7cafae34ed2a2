"""Property: whatever strings and evidence contracts produce, the report is written.

Hypothesis draws contracts with arbitrary messages (lone surrogates, control
characters, megabyte strings), arbitrary JSON-like evidence and a canary
secret placed anywhere in them. For every draw the report builds, serialises,
validates against the shipped schema, fits the size budget, keeps run_date
and target, and never contains the canary.

Bounded for CI: 150 examples per property, derandomized (the same examples
on every run, so a failure is reproducible and nothing is flaky), no deadline
(a megabyte string takes what it takes on a loaded machine).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_dataflight.report.build import (
    MAX_REPORT_BYTES,
    Phase,
    RunFacts,
    TestFacts,
    build_report,
    dumps,
    validate,
)
from pytest_dataflight.stores.masking import Masker

CANARY = "cnry-7f3a9c1e5b"
BOUNDED = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Every code point, surrogates included: a contract may put anything in a message.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=200) | st.builds(
    lambda c, n: c * n, ANY_CHAR, st.integers(0, 300_000)
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=80) | st.dictionaries(ANY_TEXT, inner, max_size=80),
    max_leaves=200,
)


def _with_canary(text: str, where: int) -> str:
    at = where % (len(text) + 1)
    return text[:at] + CANARY + text[at:]


@st.composite
def contracts(draw: st.DrawFn) -> TestFacts:
    name = draw(st.text(ANY_CHAR, min_size=1, max_size=40))
    outcome = draw(st.sampled_from(["passed", "failed", "skipped"]))
    message = _with_canary(draw(ANY_TEXT), draw(st.integers(0, 10**6)))
    evidence = draw(st.dictionaries(ANY_TEXT, JSONISH, max_size=10))
    evidence[draw(ANY_TEXT)] = _with_canary(draw(ANY_TEXT), draw(st.integers(0, 10**6)))
    nodeid = f"datatests/test_x.py::test_{name}"
    return TestFacts(
        nodeid=nodeid,
        contract={
            "contract": name,
            "stage": "postflight",
            "phases": ["phase1"],
            "consumers": [draw(st.sampled_from(["research", "predictor"]))],
            "severity": "error",
        },
        phases={"call": Phase("call", outcome, outcome, 0.01, message, None, message)},
        evidence=evidence,
    )


@BOUNDED
@given(st.lists(contracts(), min_size=1, max_size=6))
def test_any_contract_output_gives_a_valid_small_masked_report(tests: list[TestFacts]) -> None:
    facts = RunFacts(
        exit_code=1 if any(t.phases["call"].outcome == "failed" for t in tests) else 0,
        started_at=1_776_000_000.0,
        duration_s=1.0,
        run_date="2026-04-18",
        target="mock",
        tests=tests,
    )
    report = build_report(facts, Masker([CANARY]).mask)
    data = dumps(report)
    validate(json.loads(data))
    assert len(data) <= MAX_REPORT_BYTES
    assert CANARY.encode() not in data
    assert (report["run_date"], report["target"]) == ("2026-04-18", "mock")
