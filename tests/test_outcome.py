"""The outcome type: one definition of what each outcome means to a consumer."""

from __future__ import annotations

import pytest

from pytest_dataflight.report.build import schema
from pytest_dataflight.report.outcome import Outcome, Phase, Status, TestFacts, outcome_of

#                       evaluated blocks
PREDICATES = {
    Outcome.PASSED: (True, False),
    Outcome.FAILED: (True, True),
    Outcome.WARNED: (True, False),
    Outcome.SKIPPED: (False, False),
    Outcome.ERROR: (False, True),
    Outcome.NOT_RUN: (False, False),
}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_each_outcome_says_whether_it_was_evaluated_and_whether_it_blocks(outcome: Outcome) -> None:
    assert (outcome.evaluated, outcome.blocks) == PREDICATES[outcome]


def test_the_schema_lists_exactly_the_types_values() -> None:
    contract = schema()["$defs"]["contract"]["properties"]
    assert set(contract["outcome"]["enum"]) == {o.value for o in Outcome}
    assert set(schema()["properties"]["status"]["enum"]) == {s.value for s in Status}


@pytest.mark.parametrize(
    ("setup", "call", "teardown", "expected"),
    [
        ("passed", "passed", "passed", Outcome.PASSED),
        ("passed", "failed", "passed", Outcome.FAILED),
        ("failed", None, "passed", Outcome.ERROR),
        ("skipped", None, "passed", Outcome.SKIPPED),
        ("passed", "skipped", "passed", Outcome.SKIPPED),
        ("passed", "passed", "failed", Outcome.ERROR),
        ("passed", None, None, Outcome.NOT_RUN),
    ],
)
def test_the_outcome_is_decided_from_pytests_phases(
    setup: str, call: str | None, teardown: str | None, expected: Outcome
) -> None:
    phases = {
        when: Phase(when, outcome, outcome)
        for when, outcome in (("setup", setup), ("call", call), ("teardown", teardown))
        if outcome is not None
    }
    assert outcome_of(TestFacts("t.py::test_x", phases=phases), "not run")[0] is expected
