"""The Step Functions example runs in moto's interpreter, on reports of real runs.

Given reports written by real pytest runs of a tiny suite with this pipeline's
consumers (``producer`` for preflight; ``research``, ``predictor``,
``backtester`` for postflight), each run given the run id the machine makes
for that attempt (``--dataflight-run-id``), when
``examples/step-functions/dataflight.asl.json`` executes in moto's Step
Functions interpreter (a ``moto_server`` subprocess, execution switched on
through ``POST /moto-api/config``), then the execution history shows the path
each report calls for.

Two Task states do not run as written, and a Pass state stands in for each
(``step_functions_helpers.with_stand_ins``):

- ``RunChecks`` (``ecs:runTask.sync``): the checks already ran, here, as
  pytester runs. The stand-in evaluates the real task's ``Command`` (the test
  reads the run id it passes) and steps to the next report of the execution input.
- ``ReadReport`` (``aws-sdk:s3:getObject``): moto 5.2 hands its interpreter the
  body as a botocore ``StreamingChecksumBody``, which it can neither parse nor
  copy into the state (``test_moto_still_cannot_read_an_s3_body`` pins this).
  The stand-in evaluates the real state's ``ResultSelector`` (its
  ``States.StringToJson``) on the report's text instead of on ``$.Body``.

``WaitBeforeRetry`` waits 0 s instead of 900. For the timeout, RunChecks is a
Task that never finishes (``lambda:invoke.waitForTaskToken``) with the real
``Catch`` and a 1 s timeout. Everything else runs as written: the Choice rules,
the run ids (``$$.Execution.Name``), the attempt counter (``States.MathAdd``),
the Parallel branches, ``lambda:invoke`` of the producer and each consumer
(made to fail through moto's own queue of Lambda answers), ``sns:publish`` of
the alarm (delivered to an SQS queue the test reads) and the ``Fail`` state's
``ErrorPath``/``CausePath``. moto does not enforce the 256 KB payload quota;
the test measures every state's input and output from the history instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from plugin_helpers import live_env
from report_helpers import REPORT_NAME, RUN_DATE, dead_live_target, run
from step_functions_helpers import (
    CONSUMERS,
    FUNCTIONS,
    HANGING_CHECKS,
    STATE_LIMIT_BYTES,
    STORE_BUCKET,
    TOO_LARGE_RESPONSE,
    Execution,
    StepFunctions,
    branch_states,
    every_state,
    invokes_lambda,
    leads_to,
    load_asl,
    with_hanging_checks,
    with_report_store,
    with_stand_ins,
)

from pytest_dataflight.mock.moto_server import MotoServer

# The tiny suite: one preflight contract that needs the store, postflight contracts
# that need none, steered by environment variables.
SUITE = """
import os
import signal
from pytest_dataflight import contract

@contract(stage="preflight", phases=["phase1"], consumers=["producer"])
def test_s3_bucket_reachable(s3, bucket):
    s3.head_bucket(Bucket=bucket)

@contract(stage="postflight", phases=["phase1"], consumers=["research", "predictor", "backtester"])
def test_universe_constituents():
    if os.environ.get("SFN_TEST_SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)

@contract(stage="postflight", phases=["phase1"], consumers=["predictor"])
def test_predictor_features(evidence):
    missing = int(os.environ.get("SFN_TEST_MISSING_FEATURES", "0"))
    evidence["missing"] = missing
    assert missing == 0, f"{missing} feature columns missing, expected 0"
"""

# Contracts that record about as much evidence as the report keeps in full (32 KB
# each): a report of about 200 KB, whose body escaped as a JSON string still fits 256 KB.
LARGE_SUITE = """
import pytest
from pytest_dataflight import contract

@pytest.mark.parametrize("shard", range(7))
@contract(stage="postflight", phases=["phase1"], consumers=["backtester"])
def test_backtester_inputs(evidence, shard):
    for chunk in range(15):
        evidence[f"chunk_{chunk}"] = f"shard {shard}: " + "x" * 1900
"""

PREFLIGHT = ("-p", "no:cacheprovider", "--target", "live", "-m", "preflight and phase1")
POSTFLIGHT = ("-p", "no:cacheprovider", "--target", "live", "-m", "postflight and phase1")
STAGES = {"preflight": PREFLIGHT, "postflight": POSTFLIGHT}
# The states of one check: name the attempt, run it, read its report, accept it, route on it.
CHECK = ["NameAttempt", "RunChecks", "ReadReport", "IsThisRunsReport", "KeepVerdict"]
CHECK += ["RouteOnReport"]
RETRY = ["AttemptsLeft", "CountAttempt", "WaitBeforeRetry"]
ALARM = ["Alarm", "Stop"]
CONSUMERS_RAN = ["StartConsumers", "AnyStartFailed", "EveryAllowedConsumerStarted"]
CONSUMERS_RAN += ["AlarmIfDataFailed"]
PASSED_PATH = ["Preflight", *CHECK, "StartProducer", "Postflight", *CHECK, *CONSUMERS_RAN, "Done"]
EVERY_CONSUMER = {
    "ResearchAllowed", "StartResearch", "PredictorAllowed", "StartPredictor",
    "BacktesterAllowed", "StartBacktester",
}  # fmt: skip
PASSED_NAME = "passed-pair"  # the execution the cached passed reports were written for

pytestmark = pytest.mark.usefixtures("clean_env")


def run_id(execution: str, stage: str, attempt: int) -> str:
    """The run id NameAttempt makes (each test also checks the machine made these)."""
    return f"{execution}-{stage}-{attempt}"


def new_name(label: str) -> str:
    """An execution name never used before: unique per state machine, as AWS requires."""
    return f"{label}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def moto_sfn() -> Iterator[StepFunctions]:
    """A moto_server subprocess whose Step Functions execute, with consumers and an alarm."""
    with pytest.MonkeyPatch.context() as mp:
        # boto3 clients of this module never ask an instance metadata service for credentials.
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with MotoServer() as server:
            sfn = StepFunctions(server.endpoint)
            sfn.set_up()
            yield sfn


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_contracts=SUITE)
    return pytester


def checks(
    suite: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    stage: str,
    attempt_id: str | None,
    *args: str,
) -> str:
    """Run ``stage`` of the tiny suite on a store that answers; the report's text.

    ``attempt_id``: the run id to pass, as RunChecks does; None passes none.
    """
    with monkeypatch.context() as mp:
        live_env(mp, endpoint, STORE_BUCKET)
        stage_args = (*STAGES[stage], "--run-date", RUN_DATE, *id_args(attempt_id))
        return run_checks(suite, *stage_args, *args)


def id_args(attempt_id: str | None) -> tuple[str, ...]:
    return () if attempt_id is None else ("--dataflight-run-id", attempt_id)


def run_checks(pytester: pytest.Pytester, *args: str) -> str:
    """Run the tiny suite; the report's text as the checks task would upload it."""
    run(pytester, *args)
    return (pytester.path / REPORT_NAME).read_text()


def passed_reports(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, endpoint: str, name: str
) -> list[str]:
    """A passed preflight and a passed postflight report, each of its first attempt."""
    return [
        checks(suite, monkeypatch, endpoint, stage, run_id(name, stage, 1))
        for stage in ("preflight", "postflight")
    ]


def execute(
    moto_sfn: StepFunctions, name: str, reports: list[str], asl: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Execution]:
    """Run ``asl`` (default: the example, stand-ins in place) on ``reports``, one per RunChecks."""
    definition = with_stand_ins(load_asl()) if asl is None else asl
    execution_input = {"run_date": RUN_DATE, "stand_in": {"index": -1, "reports": reports}}
    return definition, moto_sfn.execute(definition, name, execution_input)


def assert_every_consumer_started(asl: dict[str, Any], execution: Execution) -> None:
    assert execution.main_path(asl) == PASSED_PATH
    assert execution.branches(asl) == EVERY_CONSUMER
    assert execution.invoked == sorted(FUNCTIONS)
    assert (execution.status, execution.alarms) == ("SUCCEEDED", [])


def assert_no_report(asl: dict[str, Any], execution: Execution, path: list[str]) -> None:
    """``path`` ended in the no-report alarm, and nothing was started."""
    assert execution.main_path(asl) == [*path, "NoReport", *ALARM]
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightNoReport")
    assert execution.alarms == [execution.cause]


@pytest.fixture(scope="module")
def passed_cache() -> dict[str, list[str]]:
    return {}


@pytest.fixture
def passed_pair(
    suite: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    moto_sfn: StepFunctions,
    passed_cache: dict[str, list[str]],
) -> list[str]:
    """The passed reports of execution PASSED_NAME, written by the first test that asks.

    Shared only by tests that run PASSED_NAME on state machines of their own: an
    execution name is unique per state machine.
    """
    if "pair" not in passed_cache:
        pair = passed_reports(suite, monkeypatch, moto_sfn.endpoint, PASSED_NAME)
        assert [json.loads(r)["status"] for r in pair] == ["passed", "passed"]
        passed_cache["pair"] = pair
    return list(passed_cache["pair"])


def test_passed_starts_producer_then_every_consumer(
    passed_pair: list[str], moto_sfn: StepFunctions
) -> None:
    # Given preflight and postflight reports that passed, carrying this execution's run ids
    pre, post = (json.loads(text) for text in passed_pair)
    # When the state machine reads them
    asl, execution = execute(moto_sfn, PASSED_NAME, passed_pair)
    # Then the producer runs, and after postflight every consumer starts
    assert_every_consumer_started(asl, execution)
    # And the run ids are the execution name, the stage and the attempt, passed to the checks
    expected = [run_id(PASSED_NAME, stage, 1) for stage in ("preflight", "postflight")]
    assert execution.run_ids == [pre["run_id"], post["run_id"]] == expected
    for command, expected in zip(execution.commands, execution.run_ids, strict=True):
        assert command[command.index("--dataflight-run-id") + 1] == expected


def test_failed_starts_only_unblocked_consumers_then_alarms(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a passed preflight, and a postflight that failed on the predictor's data
    name, endpoint = new_name("failed"), moto_sfn.endpoint
    pre = checks(suite, monkeypatch, endpoint, "preflight", run_id(name, "preflight", 1))
    monkeypatch.setenv("SFN_TEST_MISSING_FEATURES", "3")
    post = checks(suite, monkeypatch, endpoint, "postflight", run_id(name, "postflight", 1))
    report = json.loads(post)
    assert (report["status"], report["blocked_consumers"]) == ("failed", ["predictor"])
    # When
    asl, execution = execute(moto_sfn, name, [pre, post])
    # Then research and backtester start, predictor does not, and the alarm says why
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK, *CONSUMERS_RAN,
        "DataFailed", *ALARM,
    ]  # fmt: skip
    assert execution.branches(asl) == {
        "ResearchAllowed", "StartResearch", "PredictorAllowed", "PredictorHeld",
        "BacktesterAllowed", "StartBacktester",
    }  # fmt: skip
    assert execution.invoked == ["backtester", "producer", "research"]
    assert (execution.status, execution.error) == ("FAILED", "DataflightFailed")
    assert execution.cause == report["headline"]
    assert execution.alarms == [report["headline"]]
    assert "predictor_features [failed] -> predictor" in report["headline"]


def test_unchecked_consumers_are_not_started(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a postflight run that deselected the only contract of research and backtester
    name, endpoint = new_name("unchecked"), moto_sfn.endpoint
    pre = checks(suite, monkeypatch, endpoint, "preflight", run_id(name, "preflight", 1))
    post = checks(
        suite, monkeypatch, endpoint, "postflight", run_id(name, "postflight", 1),
        "-k", "not universe_constituents",
    )  # fmt: skip
    report = json.loads(post)
    assert (report["status"], report["blocked_consumers"]) == ("passed", [])
    assert report["consumers"] == {
        "producer": "unchecked", "research": "unchecked", "predictor": "ok",
        "backtester": "unchecked",
    }  # fmt: skip
    # When
    asl, execution = execute(moto_sfn, name, [pre, post])
    # Then only predictor starts: "nobody failed" is not "somebody vouched"
    assert execution.main_path(asl) == PASSED_PATH
    assert execution.branches(asl) == {
        "ResearchAllowed", "ResearchHeld", "PredictorAllowed", "StartPredictor",
        "BacktesterAllowed", "BacktesterHeld",
    }  # fmt: skip
    assert execution.invoked == ["predictor", "producer"]
    assert execution.status == "SUCCEEDED"


def test_store_unreachable_is_tried_3_times_in_all_then_alarms(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a store that refuses connections at each of the 3 attempts (status error, exit 1)
    name = new_name("store-down")
    with dead_live_target(monkeypatch):
        attempts = [id_args(run_id(name, "preflight", n)) for n in (1, 2, 3)]
        down = [run_checks(suite, *PREFLIGHT, "--run-date", RUN_DATE, *a) for a in attempts]
    report = json.loads(down[-1])
    assert (report["status"], report["exit_code"]) == ("error", 1)
    # When every attempt finds the store down
    asl, execution = execute(moto_sfn, name, [*down, down[-1]])
    # Then the first try and 2 retries, two waits, and the alarm; the producer never starts
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, *RETRY, *CHECK, *RETRY, *CHECK, "AttemptsLeft", "RetriesExhausted",
        *ALARM,
    ]  # fmt: skip
    assert execution.run_ids == [run_id(name, "preflight", n) for n in (1, 2, 3)]
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightRetriesExhausted")
    assert execution.cause == f"3 attempts of preflight: {report['headline']}"
    assert execution.alarms == [execution.cause]


def test_interrupted_postflight_is_retried_and_then_goes_on(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a postflight stopped by SIGTERM (status error, exit 2), then one that passed
    name, endpoint = new_name("interrupted"), moto_sfn.endpoint
    pre = checks(suite, monkeypatch, endpoint, "preflight", run_id(name, "preflight", 1))
    with monkeypatch.context() as mp:
        mp.setenv("SFN_TEST_SIGTERM", "1")
        live_env(mp, endpoint, STORE_BUCKET)
        # A subprocess: the signal must not reach the pytest running this test.
        first = id_args(run_id(name, "postflight", 1))
        _, report = run(suite, *POSTFLIGHT, "--run-date", RUN_DATE, *first, subprocess=True)
        interrupted = (suite.path / REPORT_NAME).read_text()
    assert (report["status"], report["exit_code"]) == ("error", 2)
    assert report["reason"] == "interrupted (SIGTERM)"
    post = checks(suite, monkeypatch, endpoint, "postflight", run_id(name, "postflight", 2))
    # When
    asl, execution = execute(moto_sfn, name, [pre, interrupted, post])
    # Then postflight runs again after a wait, under a new run id, and every consumer starts
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK, *RETRY, *CHECK,
        *CONSUMERS_RAN, "Done",
    ]  # fmt: skip
    assert execution.run_ids[1:] == [run_id(name, "postflight", n) for n in (1, 2)]
    assert execution.branches(asl) == EVERY_CONSUMER
    assert execution.invoked == sorted(FUNCTIONS)
    assert (execution.status, execution.alarms) == ("SUCCEEDED", [])


def test_usage_error_stops_and_alarms_without_retry(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a run with a broken upload URL (exit 4); run date, target and run id still resolved
    name = new_name("usage")
    usage = checks(
        suite, monkeypatch, moto_sfn.endpoint, "preflight", run_id(name, "preflight", 1),
        "--dataflight-report-s3", "s3://reports",
    )  # fmt: skip
    report = json.loads(usage)
    assert (report["status"], report["exit_code"], report["run_date"]) == ("error", 4, RUN_DATE)
    # When
    asl, execution = execute(moto_sfn, name, [usage, usage])
    # Then it stops at once
    assert execution.main_path(asl) == ["Preflight", *CHECK, "StopOnReport", *ALARM]
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightStop")
    assert execution.cause == report["headline"]
    assert execution.alarms == [report["headline"]]


def test_report_of_another_run_date_is_no_report(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a passed report with this attempt's run id, but of the day before
    name = new_name("run-date")
    with monkeypatch.context() as mp:
        live_env(mp, moto_sfn.endpoint, STORE_BUCKET)
        stale = run_checks(
            suite, *PREFLIGHT, "--run-date", "2026-04-17", *id_args(run_id(name, "preflight", 1))
        )
    assert (json.loads(stale)["status"], json.loads(stale)["run_date"]) == ("passed", "2026-04-17")
    # When this run's execution reads it
    asl, execution = execute(moto_sfn, name, [stale])
    # Then it is not taken for this run's report
    assert_no_report(asl, execution, ["Preflight", *CHECK[:4]])
    assert RUN_DATE in (execution.cause or "")


@pytest.mark.parametrize("left_by", ["another-execution", "no-run-id", "schema-1"])
def test_report_of_another_run_is_no_report(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions, left_by: str
) -> None:
    # Given a passed report of this run date and target at the key, left by an earlier
    # execution of the same day, by a run given no run id, or by a plugin of schema 1
    # (no run_id field: that one is the no-run-id report with the field removed)
    earlier = (
        run_id(new_name("earlier"), "preflight", 1) if left_by == "another-execution" else None
    )
    left = checks(suite, monkeypatch, moto_sfn.endpoint, "preflight", earlier)
    report = json.loads(left)
    assert (report["status"], report["run_date"], report["run_id"]) == ("passed", RUN_DATE, earlier)
    if left_by == "schema-1":
        del report["run_id"]
        left = json.dumps(report)
    # When this execution reads it
    name = new_name("same-day")
    asl, execution = execute(moto_sfn, name, [left])
    # Then it is no report: the producer does not start on data nobody checked for this run
    assert_no_report(asl, execution, ["Preflight", *CHECK[:4]])
    assert run_id(name, "preflight", 1) in (execution.cause or "")


def test_report_an_earlier_attempt_left_is_no_report(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given attempt 1 found the store down, and attempt 2 wrote no report: the key still
    # holds attempt 1's
    name = new_name("earlier-attempt")
    with dead_live_target(monkeypatch):
        first = id_args(run_id(name, "preflight", 1))
        down = run_checks(suite, *PREFLIGHT, "--run-date", RUN_DATE, *first)
    assert json.loads(down)["status"] == "error"
    # When attempt 2 reads it
    asl, execution = execute(moto_sfn, name, [down, down])
    # Then it is not read as attempt 2's: no report, no third attempt
    assert_no_report(asl, execution, ["Preflight", *CHECK, *RETRY, *CHECK[:4]])
    assert execution.run_ids == [run_id(name, "preflight", n) for n in (1, 2)]


@pytest.fixture
def invoke_answers(moto_sfn: StepFunctions) -> Iterator[StepFunctions]:
    """Answers queued for the next Lambda invokes are not left to the next test."""
    yield moto_sfn
    moto_sfn.drain_invoke_answers()


def test_a_producer_that_does_not_start_alarms(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, invoke_answers: StepFunctions
) -> None:
    # Given a passed preflight, and a producer whose invoke fails (a function error)
    name = new_name("producer-fails")
    pre = checks(
        suite, monkeypatch, invoke_answers.endpoint, "preflight", run_id(name, "preflight", 1)
    )
    invoke_answers.answer_next_invokes([TOO_LARGE_RESPONSE])
    # When
    asl, execution = execute(invoke_answers, name, [pre])
    # Then the Catch alarms, naming the error, instead of the execution failing silently
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "ProducerNotStarted", *ALARM,
    ]  # fmt: skip
    assert (execution.status, execution.error) == ("FAILED", "DataflightProducerNotStarted")
    assert "Function.ResponseSizeTooLarge" in (execution.cause or "")
    assert execution.alarms == [execution.cause]


def test_a_consumer_that_does_not_start_alarms_and_the_others_start(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, invoke_answers: StepFunctions
) -> None:
    # Given passed reports, a producer that starts, and then one consumer start that fails
    name = new_name("consumer-fails")
    reports = passed_reports(suite, monkeypatch, invoke_answers.endpoint, name)
    invoke_answers.answer_next_invokes(['{"producer": "started"}', TOO_LARGE_RESPONSE])
    # When
    asl, execution = execute(invoke_answers, name, reports)
    # Then the branches all end, the failed one says so, and the alarm names it
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK, *CONSUMERS_RAN[:-1],
        "ConsumerNotStarted", *ALARM,
    ]  # fmt: skip
    not_started = {s for s in execution.branches(asl) if s.endswith("NotStarted")}
    assert len(not_started) == 1, execution.entered
    assert {f"Start{c.capitalize()}" for c in CONSUMERS} <= execution.branches(asl)
    assert (execution.status, execution.error) == ("FAILED", "DataflightConsumerNotStarted")
    failed = not_started.pop().removesuffix("NotStarted").lower()
    cause = execution.cause or ""
    assert "Function.ResponseSizeTooLarge" in cause
    assert f'"consumer":"{failed}","start":"failed"' in cause.replace("\\", "")
    assert json.loads(reports[1])["headline"] in cause
    assert execution.alarms == [cause]


def test_checks_that_outlive_their_timeout_alarm(moto_sfn: StepFunctions) -> None:
    # Given checks that never finish, and RunChecks' real Catch with a 1 s timeout
    asl = with_hanging_checks(load_asl())
    # When
    name = new_name("timeout")
    _, execution = execute(moto_sfn, name, ["unused"], asl)
    # Then the timeout alarms at once: no report is read, nothing starts
    assert execution.main_path(asl) == [
        "Preflight", "NameAttempt", "RunChecks", "ChecksTimedOut", *ALARM,
    ]  # fmt: skip
    assert (execution.status, execution.error) == ("FAILED", "DataflightChecksTimedOut")
    assert run_id(name, "preflight", 1) in (execution.cause or "")
    assert execution.alarms == [execution.cause]
    assert execution.invoked == [HANGING_CHECKS]


def test_a_report_of_200kb_stays_within_the_state_limit(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, invoke_answers: StepFunctions
) -> None:
    # Given a passed postflight report of about 200 KB, read from a store outside the state
    suite.makepyfile(test_large=LARGE_SUITE)
    name = new_name("large")
    pre, post = passed_reports(suite, monkeypatch, invoke_answers.endpoint, name)
    size, escaped = len(post.encode()), len(json.dumps(post).encode())
    assert 190_000 < size < escaped < STATE_LIMIT_BYTES, (size, escaped)
    assert size + escaped > STATE_LIMIT_BYTES  # the body and its parse together would not fit
    answers = [{"Body": pre}, {"producer": "started"}, {"Body": post}]
    invoke_answers.answer_next_invokes([json.dumps(answer) for answer in answers])
    # When
    asl, execution = execute(invoke_answers, name, [], with_report_store(load_asl()))
    # Then moto, which fails a state whose input or output exceeds 256 KB with
    # States.DataLimitExceeded, runs the passed path; after KeepVerdict the report is gone
    assert_every_consumer_started(asl, execution)
    assert execution.largest() < STATE_LIMIT_BYTES
    assert execution.largest_after("KeepVerdict") < 4096


def test_the_report_body_is_parsed_once_and_never_kept() -> None:
    # Given the example machine
    asl = load_asl()
    read = asl["States"]["ReadReport"]
    # Then the body is parsed only in ReadReport's ResultSelector, which keeps only the parse
    assert read["ResultSelector"] == {"report.$": "States.StringToJson($.Body)"}
    text = json.dumps({n: s for n, s, _ in every_state(asl) if n != "ReadReport"})
    assert "StringToJson" not in text
    assert "Body" not in text
    # And the full report is replaced by KeepVerdict before anything else reads it
    assert asl["States"]["IsThisRunsReport"]["Choices"][0]["Next"] == "KeepVerdict"
    assert asl["States"]["KeepVerdict"]["ResultPath"] == read["ResultPath"]


def test_the_checks_task_has_a_timeout_that_alarms() -> None:
    # Given the example's RunChecks
    states = load_asl()["States"]
    checks_task = states["RunChecks"]
    # Then it has a timeout, and the first matching catcher sends a timeout to an alarm;
    # every other error goes to ReadReport, where only this attempt's report is accepted
    assert 0 < checks_task["TimeoutSeconds"] <= 4 * 3600
    timeout, rest = checks_task["Catch"]
    assert timeout["ErrorEquals"] == ["States.Timeout"]
    assert leads_to(states, timeout["Next"], "Alarm")
    assert (rest["ErrorEquals"], rest["Next"]) == (["States.ALL"], "ReadReport")


def test_every_lambda_task_catches_into_an_alarm() -> None:
    # Given every Task of the example that invokes a Lambda function
    asl = load_asl()
    tasks = [(n, s, where) for n, s, where in every_state(asl) if invokes_lambda(s)]
    assert {n for n, _, _ in tasks} == {"StartProducer"} | {
        f"Start{c.capitalize()}" for c in CONSUMERS
    }
    inside = branch_states(asl)
    for name, task, where in tasks:
        # Then each catches every error
        (catcher,) = task["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"], name
        if name not in inside:
            assert leads_to(where, catcher["Next"], "Alarm"), name
            continue
        # inside a branch: it ends the branch with start "failed" (not cancelling the others)
        caught = where[catcher["Next"]]
        assert (caught["Parameters"]["start"], caught.get("End")) == ("failed", True), name
    # And after the branches, a failed start in any of them goes to an alarm
    states = asl["States"]
    parallel = states["StartConsumers"]
    assert parallel["ResultSelector"]["outcomes.$"] == "$[*].start"
    any_failed = states[parallel["Next"]]["Parameters"]["failed.$"]
    assert any_failed == "States.ArrayContains($.consumer_starts.outcomes, 'failed')"
    (rule,) = states[states[parallel["Next"]]["Next"]]["Choices"]
    assert (rule["Variable"], rule["BooleanEquals"]) == ("$.consumer_starts.failed", True)
    assert leads_to(states, rule["Next"], "Alarm")
    (parallel_catcher,) = parallel["Catch"]
    assert leads_to(states, parallel_catcher["Next"], "Alarm")


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_a_machine_testing_wrong_consumer_names_fails_the_path_assertion(
    passed_pair: list[str], moto_sfn: StepFunctions, consumer: str
) -> None:
    # Given the example with one consumer tested under a name this report never has
    # (the broken machine of issue 10 tested research_lambda)
    text = json.dumps(load_asl())
    mutant = json.loads(text.replace(f"$.consumers.{consumer}", f"$.consumers.{consumer}_lambda"))
    assert mutant != load_asl()
    # When it runs on reports that passed (its own state machine: the name is free there)
    asl, execution = execute(moto_sfn, PASSED_NAME, passed_pair, with_stand_ins(mutant))
    # Then the test of the passed path catches it
    with pytest.raises(AssertionError):
        assert_every_consumer_started(asl, execution)
    assert consumer not in execution.invoked


def test_moto_still_cannot_read_an_s3_body(moto_sfn: StepFunctions) -> None:
    """Why ReadReport has a stand-in. When this fails, moto reads bodies: drop the stand-in."""
    # Given the real ReadReport, and a report at the key it reads
    key = f"dataflight/{RUN_DATE}/preflight-phase1.json"
    moto_sfn.client("s3").put_object(Bucket="pipeline-reports", Key=key, Body=b'{"a": 1}')
    asl = with_stand_ins(load_asl())
    asl["States"]["ReadReport"] = load_asl()["States"]["ReadReport"]
    # When
    _, execution = execute(moto_sfn, new_name("s3-body"), ["unused"], asl)
    # Then the body reaches the interpreter as a stream object, and the state fails: with
    # States.StringToJson($.Body) in its ResultSelector "'StreamingChecksumBody' object
    # has no attribute 'strip'"
    assert execution.main_path(asl) == [
        "Preflight", "NameAttempt", "RunChecks", "ReadReport", "NoReport", *ALARM,
    ]  # fmt: skip
    assert len(execution.task_failures) == 1, execution.task_failures
