"""The Step Functions example runs in moto's interpreter, on reports of real runs.

Given reports written by real pytest runs of a tiny suite with this pipeline's
consumers (``producer`` for preflight; ``research``, ``predictor``,
``backtester`` for postflight), when ``examples/step-functions/dataflight.asl.json``
executes in moto's Step Functions interpreter (a ``moto_server`` subprocess,
execution switched on through ``POST /moto-api/config``), then the execution
history shows the path each report calls for.

Two Task states do not run as written, and a Pass state stands in for each:

- ``RunChecks`` (``ecs:runTask.sync``): the checks already ran, here, as
  pytester runs. The stand-in steps to the next report of the execution input.
- ``ReadReport`` (``aws-sdk:s3:getObject``): moto 5.2 hands its interpreter the
  body as a botocore ``StreamingChecksumBody``, which it can neither parse nor
  copy into the state (``test_moto_still_cannot_read_an_s3_body`` pins this).
  The stand-in returns ``{"Body": <the report's text>}``, what the real state's
  ``ResultSelector`` returns, so ``ParseReport``'s ``States.StringToJson``
  parses the real text.

``WaitBeforeRetry`` waits 0 s instead of 900. Everything else runs as written:
the Choice rules, the attempt counter (``States.MathAdd``), the Parallel
branches, ``lambda:invoke`` of each consumer, ``sns:publish`` of the alarm
(delivered to an SQS queue the test reads) and the ``Fail`` state's
``ErrorPath``/``CausePath``.
"""

from __future__ import annotations

import copy
import io
import json
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from plugin_helpers import live_env
from report_helpers import REPORT_NAME, RUN_DATE, dead_live_target, run

from pytest_dataflight.mock.moto_server import MotoServer

ASL = Path(__file__).parents[1] / "examples" / "step-functions" / "dataflight.asl.json"
CONSUMERS = ("research", "predictor", "backtester")
FUNCTIONS = ("producer", *CONSUMERS)
REGION = "us-east-1"
STORE_BUCKET = "pipeline-data"

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

PREFLIGHT = ("-p", "no:cacheprovider", "--target", "live", "-m", "preflight and phase1")
POSTFLIGHT = ("-p", "no:cacheprovider", "--target", "live", "-m", "postflight and phase1")
# The states of one check: run it, read and parse its report, route on it.
CHECK = ["RunChecks", "ReadReport", "ParseReport", "IsThisRunsReport", "RouteOnReport"]
RETRY = ["CountAttempt", "AttemptsLeft", "WaitBeforeRetry"]
ALARM = ["Alarm", "Stop"]

pytestmark = pytest.mark.usefixtures("clean_env")


def load_asl() -> dict[str, Any]:
    asl: dict[str, Any] = json.loads(ASL.read_text())
    return asl


def with_stand_ins(asl: dict[str, Any]) -> dict[str, Any]:
    """``asl`` with RunChecks and ReadReport fed from the input, and no wait (module docstring)."""
    asl = copy.deepcopy(asl)
    states = asl["States"]
    assert states["RunChecks"]["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert states["ReadReport"]["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    states["RunChecks"] = {
        "Type": "Pass",
        "Parameters": {
            "index.$": "States.MathAdd($.stand_in.index, 1)",
            "reports.$": "$.stand_in.reports",
        },
        "ResultPath": "$.stand_in",
        "Next": states["RunChecks"]["Next"],
    }
    states["ReadReport"] = {
        "Type": "Pass",
        "Parameters": {"Body.$": "States.ArrayGetItem($.stand_in.reports, $.stand_in.index)"},
        "ResultPath": states["ReadReport"]["ResultPath"],
        "Next": states["ReadReport"]["Next"],
    }
    states["WaitBeforeRetry"]["Seconds"] = 0
    return asl


def branch_states(asl: dict[str, Any]) -> set[str]:
    return {
        name
        for state in asl["States"].values()
        for branch in state.get("Branches", [])
        for name in branch["States"]
    }


@dataclass
class Execution:
    status: str
    error: str | None
    cause: str | None
    entered: list[str]  # every state entered, in event order
    invoked: list[str]  # FunctionName of every lambda:invoke, sorted
    task_failures: list[str]  # the cause of every failed Task
    alarms: list[str]  # messages the alarm topic delivered

    def main_path(self, asl: dict[str, Any]) -> list[str]:
        """The states outside Parallel branches, whose threads interleave in any order."""
        inside = branch_states(asl)
        return [name for name in self.entered if name not in inside]

    def branches(self, asl: dict[str, Any]) -> set[str]:
        return set(self.entered) & branch_states(asl)


class StepFunctions:
    """One moto_server with execution switched on, the consumers and the alarm topic."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._clients: dict[str, Any] = {}
        self._machines: dict[str, str] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="sfn-test-key",
                aws_secret_access_key="sfn-test-secret",
            )
        return self._clients[service]

    def set_up(self) -> None:
        # moto >= 5.1: without this switch, executions succeed at once and run nothing.
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps(config).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
        self.role = self.client("iam").create_role(
            RoleName="dataflight-sfn", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        self._create_consumers()
        self._create_alarm_topic()
        self.client("s3").create_bucket(Bucket=STORE_BUCKET)
        self.client("s3").create_bucket(Bucket="pipeline-reports")

    def _create_consumers(self) -> None:
        # With use_docker off, moto answers an invoke with its payload: enough to see who started.
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
        for name in FUNCTIONS:
            self.client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=self.role,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
            )

    def _create_alarm_topic(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        self.topic = sns.create_topic(Name="dataflight-alarms")["TopicArn"]
        self.queue = sqs.create_queue(QueueName="dataflight-alarms")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )

    def machine(self, asl: dict[str, Any]) -> str:
        definition = json.dumps(asl).replace("${AlarmTopicArn}", self.topic)
        if definition not in self._machines:
            self._machines[definition] = self.client("stepfunctions").create_state_machine(
                name=f"dataflight-{len(self._machines)}", definition=definition, roleArn=self.role
            )["stateMachineArn"]
        return self._machines[definition]

    def execute(self, asl: dict[str, Any], execution_input: dict[str, Any]) -> Execution:
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.machine(asl),
            name=uuid.uuid4().hex,
            input=json.dumps(execution_input),
        )["executionArn"]
        deadline = time.monotonic() + 20
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"execution still running: {arn}"
            time.sleep(0.02)
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return Execution(
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            entered=[e["stateEnteredEventDetails"]["name"] for e in events if _entered(e)],
            invoked=sorted(_function_names(events)),
            task_failures=[
                e["taskFailedEventDetails"]["cause"]
                for e in events
                if "taskFailedEventDetails" in e
            ],
            alarms=self._drain_alarms(),
        )

    def _drain_alarms(self) -> list[str]:
        sqs = self.client("sqs")
        answer = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        return [message["Body"] for message in messages]


def _entered(event: dict[str, Any]) -> bool:
    return "stateEnteredEventDetails" in event


def _function_names(events: list[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details and details["resourceType"] == "lambda":
            yield json.loads(details["parameters"])["FunctionName"]


@pytest.fixture(scope="module")
def moto_sfn() -> Iterator[StepFunctions]:
    """A moto_server subprocess whose Step Functions execute, with consumers and an alarm."""
    with MotoServer() as server:
        sfn = StepFunctions(server.endpoint)
        sfn.set_up()
        yield sfn


def run_checks(pytester: pytest.Pytester, *args: str) -> str:
    """Run the tiny suite; the report's text as the checks task would upload it."""
    run(pytester, *args)
    return (pytester.path / REPORT_NAME).read_text()


def store_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, endpoint: str, *args: str
) -> str:
    with monkeypatch.context() as mp:
        live_env(mp, endpoint, STORE_BUCKET)
        return run_checks(pytester, *args)


def execute(
    moto_sfn: StepFunctions, reports: list[str], asl: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Execution]:
    """Run ``asl`` (default: the example, stand-ins in place) on ``reports``, one per RunChecks."""
    definition = with_stand_ins(load_asl()) if asl is None else asl
    execution_input = {"run_date": RUN_DATE, "stand_in": {"index": -1, "reports": reports}}
    return definition, moto_sfn.execute(definition, execution_input)


EVERY_CONSUMER = {
    "ResearchAllowed", "StartResearch", "PredictorAllowed", "StartPredictor",
    "BacktesterAllowed", "StartBacktester",
}  # fmt: skip


def assert_every_consumer_started(asl: dict[str, Any], execution: Execution) -> None:
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK,
        "StartConsumers", "AlarmIfDataFailed", "Done",
    ]  # fmt: skip
    assert execution.branches(asl) == EVERY_CONSUMER
    assert execution.invoked == sorted(FUNCTIONS)
    assert (execution.status, execution.alarms) == ("SUCCEEDED", [])


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_contracts=SUITE)
    return pytester


def preflight_passed(suite: pytest.Pytester, mp: pytest.MonkeyPatch, endpoint: str) -> str:
    return store_up(suite, mp, endpoint, *PREFLIGHT, "--run-date", RUN_DATE)


def postflight(suite: pytest.Pytester, mp: pytest.MonkeyPatch, endpoint: str) -> str:
    return store_up(suite, mp, endpoint, *POSTFLIGHT, "--run-date", RUN_DATE)


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
    """A passed preflight report and a passed postflight report of RUN_DATE.

    Written by the first test that asks, then shared: the machine only reads them.
    """
    if "pair" not in passed_cache:
        endpoint = moto_sfn.endpoint
        pair = [
            preflight_passed(suite, monkeypatch, endpoint),
            postflight(suite, monkeypatch, endpoint),
        ]
        assert [json.loads(r)["status"] for r in pair] == ["passed", "passed"]
        passed_cache["pair"] = pair
    return list(passed_cache["pair"])


def test_passed_starts_producer_then_every_consumer(
    passed_pair: list[str], moto_sfn: StepFunctions
) -> None:
    # Given preflight and postflight reports that passed
    # When the state machine reads them
    asl, execution = execute(moto_sfn, passed_pair)
    # Then the producer runs, and after postflight every consumer starts
    assert_every_consumer_started(asl, execution)


def test_failed_starts_only_unblocked_consumers_then_alarms(
    suite: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    moto_sfn: StepFunctions,
    passed_pair: list[str],
) -> None:
    # Given a passed preflight, and a postflight that failed on the predictor's data
    pre = passed_pair[0]
    monkeypatch.setenv("SFN_TEST_MISSING_FEATURES", "3")
    post = postflight(suite, monkeypatch, moto_sfn.endpoint)
    report = json.loads(post)
    assert (report["status"], report["blocked_consumers"]) == ("failed", ["predictor"])
    # When
    asl, execution = execute(moto_sfn, [pre, post])
    # Then research and backtester start, predictor does not, and the alarm says why
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK,
        "StartConsumers", "AlarmIfDataFailed", "DataFailed", *ALARM,
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


def test_store_unreachable_retries_three_times_then_alarms(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a preflight whose store refuses connections (status error, exit 1)
    with dead_live_target(monkeypatch):
        down = run_checks(suite, *PREFLIGHT, "--run-date", RUN_DATE)
    report = json.loads(down)
    assert (report["status"], report["exit_code"]) == ("error", 1)
    # When every attempt finds the store down
    asl, execution = execute(moto_sfn, [down, down, down, down])
    # Then three attempts, two waits, and the alarm; the producer never starts
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, *RETRY, *CHECK, *RETRY, *CHECK,
        "CountAttempt", "AttemptsLeft", "RetriesExhausted", *ALARM,
    ]  # fmt: skip
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightRetriesExhausted")
    assert execution.cause == f"3 attempts of preflight: {report['headline']}"
    assert execution.alarms == [execution.cause]


def test_interrupted_postflight_is_retried_and_then_goes_on(
    suite: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    moto_sfn: StepFunctions,
    passed_pair: list[str],
) -> None:
    # Given a postflight stopped by SIGTERM (status error, exit 2), then one that passed
    pre, post = passed_pair
    with monkeypatch.context() as mp:
        mp.setenv("SFN_TEST_SIGTERM", "1")
        live_env(mp, moto_sfn.endpoint, STORE_BUCKET)
        # A subprocess: the signal must not reach the pytest running this test.
        result, report = run(suite, *POSTFLIGHT, "--run-date", RUN_DATE, subprocess=True)
        interrupted = (suite.path / REPORT_NAME).read_text()
    assert (report["status"], report["exit_code"]) == ("error", 2)
    assert report["reason"] == "interrupted (SIGTERM)"
    # When
    asl, execution = execute(moto_sfn, [pre, interrupted, post])
    # Then postflight runs again after a wait, and every consumer starts
    assert execution.main_path(asl) == [
        "Preflight", *CHECK, "StartProducer", "Postflight", *CHECK, *RETRY, *CHECK,
        "StartConsumers", "AlarmIfDataFailed", "Done",
    ]  # fmt: skip
    assert execution.branches(asl) == EVERY_CONSUMER
    assert execution.invoked == sorted(FUNCTIONS)
    assert (execution.status, execution.alarms) == ("SUCCEEDED", [])


def test_usage_error_stops_and_alarms_without_retry(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a run with a broken upload URL (exit 4); run date and target still resolved
    with monkeypatch.context() as mp:
        live_env(mp, moto_sfn.endpoint, STORE_BUCKET)
        usage = run_checks(
            suite, *PREFLIGHT, "--run-date", RUN_DATE, "--dataflight-report-s3", "s3://reports"
        )
    report = json.loads(usage)
    assert (report["status"], report["exit_code"], report["run_date"]) == ("error", 4, RUN_DATE)
    # When
    asl, execution = execute(moto_sfn, [usage, usage])
    # Then it stops at once
    assert execution.main_path(asl) == ["Preflight", *CHECK, "StopOnReport", *ALARM]
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightStop")
    assert execution.cause == report["headline"]
    assert execution.alarms == [report["headline"]]


def test_report_of_another_run_date_is_no_report(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, moto_sfn: StepFunctions
) -> None:
    # Given a passed report, but of the day before
    stale = store_up(suite, monkeypatch, moto_sfn.endpoint, *PREFLIGHT, "--run-date", "2026-04-17")
    assert (json.loads(stale)["status"], json.loads(stale)["run_date"]) == ("passed", "2026-04-17")
    # When this run's execution reads it
    asl, execution = execute(moto_sfn, [stale])
    # Then it is not taken for this run's report
    assert execution.main_path(asl) == ["Preflight", *CHECK[:4], "NoReport", *ALARM]
    assert execution.invoked == []
    assert (execution.status, execution.error) == ("FAILED", "DataflightNoReport")
    assert RUN_DATE in (execution.cause or "")


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_a_machine_testing_wrong_consumer_names_fails_the_path_assertion(
    passed_pair: list[str], moto_sfn: StepFunctions, consumer: str
) -> None:
    # Given the example with one consumer tested under a name this report never has
    # (the broken machine of issue 10 tested research_lambda)
    text = ASL.read_text()
    wrong = f"$.dataflight.report.consumers.{consumer}_lambda"
    mutant = json.loads(text.replace(f"$.dataflight.report.consumers.{consumer}", wrong))
    assert mutant != load_asl()
    # When it runs on reports that passed
    asl, execution = execute(moto_sfn, passed_pair, with_stand_ins(mutant))
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
    _, execution = execute(moto_sfn, ["unused"], asl)
    # Then the body reaches the interpreter as a stream object, and the state fails: with
    # this ResultSelector "cannot pickle '_io.BufferedReader' object", with
    # States.StringToJson($.Body) in it "'StreamingChecksumBody' object has no attribute 'strip'"
    assert execution.main_path(asl) == ["Preflight", "RunChecks", "ReadReport", "NoReport", *ALARM]
    assert len(execution.task_failures) == 1, execution.task_failures
