"""A contract's outcome, the run's status and a consumer's state, as types; no pytest import.

The one place they are defined and the one place a test's outcome is
decided from what pytest reported (:func:`outcome_of`), as pytest's own
``_pytest/reports.py`` decides ``TestReport.outcome`` and junitxml only maps
it. Every other module compares members of these types, never strings; the
JSON Schema of the report lists the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# pytest's own phase outcomes (TestReport.outcome), read only here.
_PYTEST_FAILED = "failed"
_PYTEST_SKIPPED = "skipped"
PHASES = ("setup", "call", "teardown")


class Outcome(StrEnum):
    """What became of one contract in one run."""

    PASSED = "passed"
    FAILED = "failed"  # evaluated, and the rule was broken: the data is bad
    WARNED = "warned"  # evaluated; broke a soft threshold or a warn contract's rule
    SKIPPED = "skipped"  # not evaluated, on purpose (an optional artifact is absent)
    ERROR = "error"  # could not be evaluated: the store failed, a bug, bad config
    NOT_RUN = "not_run"  # selected, never reached (interrupted, -x, a usage error)

    @property
    def evaluated(self) -> bool:
        """The contract looked at the data and came to a verdict."""
        return self in (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED)

    @property
    def blocks(self) -> bool:
        """An error-severity contract with this outcome blocks its consumers: its data
        is bad, or nobody could tell. Listed in ``failures[]`` and the headline."""
        return self in (Outcome.FAILED, Outcome.ERROR)

    @property
    def unsettled(self) -> bool:
        """An error-severity contract with this outcome keeps the run from passing."""
        return self.blocks or self is Outcome.NOT_RUN


class Status(StrEnum):
    """The run as a whole, as the orchestrator reads it."""

    PASSED = "passed"
    FAILED = "failed"  # some error-severity contract found bad data: do not retry
    ERROR = "error"  # none failed, but some could not be evaluated: retry may help


class ConsumerState(StrEnum):
    """Whether a downstream consumer may start on what this run checked: only on ``ok``."""

    OK = "ok"  # some of its contracts were evaluated, every one selected was settled, none broke
    BLOCKED = "blocked"  # one of its error-severity contracts failed or errored
    UNCHECKED = "unchecked"  # nobody vouched: none evaluated, or one selected was never reached


def consumer_state(outcomes: Iterable[tuple[Outcome, bool]]) -> ConsumerState:
    """The state of one consumer from its contracts' (outcome, is error severity).

    "Nobody failed" is not "somebody vouched": a consumer whose contracts were
    all deselected, skipped or never reached is ``unchecked``, and so is one
    with a selected error-severity contract that was never reached (an
    interrupt or ``-x`` stopped the run first), even if others held.
    """
    outcomes = list(outcomes)
    if any(outcome.blocks for outcome, decisive in outcomes if decisive):
        return ConsumerState.BLOCKED
    if any(outcome is Outcome.NOT_RUN for outcome, decisive in outcomes if decisive):
        return ConsumerState.UNCHECKED
    if not any(outcome.evaluated for outcome, _ in outcomes):
        return ConsumerState.UNCHECKED
    return ConsumerState.OK


@dataclass
class Phase:
    """One of setup/call/teardown of a test, as pytest reported it."""

    when: str
    outcome: str  # pytest's: passed, failed, skipped
    category: str  # pytest_report_teststatus's: passed, failed, error, xfailed, warned, ...
    duration: float = 0.0
    message: str | None = None
    crash: dict[str, Any] | None = None
    longrepr: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == _PYTEST_FAILED

    @property
    def skipped(self) -> bool:
        return self.outcome == _PYTEST_SKIPPED


@dataclass
class TestFacts:
    """Everything the controller learnt about one test (``verdicts.record`` fills it)."""

    __test__ = False  # not a test class, whatever pytest's collector thinks of the name

    nodeid: str
    lineno: int | None = None
    contract: Mapping[str, Any] | None = None  # ContractInfo.to_json(); None: a plain test
    phases: dict[str, Phase] = field(default_factory=dict)
    evidence: Mapping[str, Any] | None = None
    unevaluated: str | None = None  # the store did not answer: could not be evaluated
    warned: str | None = None  # a warn contract that did not hold
    # (root cause, the outcome it gives): a failure the plugin recognised, shared by
    # every check it took down (a missing bucket, an unreachable store).
    cause: tuple[str, Outcome] | None = None
    # policy waiver index -> findings it waived in this test
    waived: dict[int, int] = field(default_factory=dict)


def outcome_of(test: TestFacts, not_run_message: str) -> tuple[Outcome, str | None]:
    """(outcome, message) of one test from its phases."""
    if test.warned is not None:
        return Outcome.WARNED, test.warned
    if test.unevaluated is not None:
        return Outcome.ERROR, test.unevaluated
    phases = test.phases
    if test.cause is not None and test.cause[1] is Outcome.FAILED:
        # What a check needs does not exist (a bucket, a library): a fact about the
        # data, so it failed, even when its fixture found out during setup.
        failing = next((p for w, p in phases.items() if p.failed), None)
        if failing is not None:
            return Outcome.FAILED, failing.message
    # pytest-xdist reports a crashed worker's test with when="???".
    odd = [p for w, p in phases.items() if w not in PHASES and p.failed]
    if odd:
        return Outcome.ERROR, odd[0].message
    setup, call, teardown = (phases.get(w) for w in PHASES)
    if setup is not None and setup.failed:
        return Outcome.ERROR, setup.message
    if setup is not None and setup.skipped:
        return Outcome.SKIPPED, setup.message
    if call is None:
        return Outcome.NOT_RUN, not_run_message
    if call.failed:
        return Outcome.FAILED, call.message
    if call.skipped:
        return Outcome.SKIPPED, call.message
    if teardown is not None and teardown.failed:
        return Outcome.ERROR, teardown.message
    return Outcome.PASSED, None
