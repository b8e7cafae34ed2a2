"""The machinery of tests/test_step_functions.py: moto's Step Functions, stand-ins, the ASL walk.

No pytest import: the fixtures and the tests stay in the test module. Only that
module uses this one.
"""

from __future__ import annotations

import copy
import io
import json
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

ASL = Path(__file__).parents[1] / "examples" / "step-functions" / "dataflight.asl.json"
CONSUMERS = ("research", "predictor", "backtester")
FUNCTIONS = ("producer", *CONSUMERS)
# The Lambda function the timing-out stand-in of RunChecks invokes (with_hanging_checks).
HANGING_CHECKS = "datatests"
# The Lambda function that stands in for S3 when a report must not ride in the state.
REPORT_STORE = "report-store"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
STORE_BUCKET = "pipeline-data"
REPORT_BUCKET = "pipeline-reports"
STATE_LIMIT_BYTES = 256 * 1024  # Step Functions' payload quota for a state's input or output
# moto's Lambda without docker turns a response above 6,000,000 bytes into a function
# error (Function.ResponseSizeTooLarge): the one way to make its Lambda fail for real.
TOO_LARGE_RESPONSE = "x" * 6_000_001
# Where the stand-in of ReadReport finds the text the real one reads from S3.
STAND_IN_BODY = "States.ArrayGetItem($.stand_in.reports, $.stand_in.index)"
STAND_IN_KEYS = {"stand_in"}  # test plumbing in the state, not the machine's own


def load_asl() -> dict[str, Any]:
    asl: dict[str, Any] = json.loads(ASL.read_text())
    return asl


def with_stand_ins(asl: dict[str, Any]) -> dict[str, Any]:
    """``asl`` with RunChecks and ReadReport fed from the input, and no wait.

    RunChecks' stand-in evaluates the real task's ``Command`` (so the test sees the
    run id it would pass) and steps to the next report. ReadReport's stand-in
    evaluates the real ``ResultSelector`` on that report's text, in place of the
    ``Body`` that moto cannot read (test_moto_still_cannot_read_an_s3_body).
    """
    asl = copy.deepcopy(asl)
    states = asl["States"]
    checks, read = states["RunChecks"], states["ReadReport"]
    assert checks["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert read["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    (container,) = checks["Parameters"]["Overrides"]["ContainerOverrides"]
    states["RunChecks"] = {
        "Type": "Pass",
        "Parameters": {
            "index.$": "States.MathAdd($.stand_in.index, 1)",
            "reports.$": "$.stand_in.reports",
            "command.$": container["Command.$"],
        },
        "ResultPath": "$.stand_in",
        "Next": checks["Next"],
    }
    selector = json.dumps(read["ResultSelector"])
    assert "$.Body" in selector
    states["ReadReport"] = {
        "Type": "Pass",
        "Parameters": json.loads(selector.replace("$.Body", STAND_IN_BODY)),
        "ResultPath": read["ResultPath"],
        "Next": read["Next"],
    }
    states["WaitBeforeRetry"]["Seconds"] = 0
    return asl


def with_hanging_checks(asl: dict[str, Any], timeout_s: int = 1) -> dict[str, Any]:
    """``asl`` whose RunChecks waits for a task token nobody sends, with its real Catch.

    ``lambda:invoke.waitForTaskToken`` is a Task moto runs that never finishes on
    its own, so the real ``TimeoutSeconds`` (shortened) and ``Catch`` decide.
    """
    asl = with_stand_ins(asl)
    real = load_asl()["States"]["RunChecks"]
    assert real["TimeoutSeconds"] > timeout_s
    asl["States"]["RunChecks"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": HANGING_CHECKS, "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": timeout_s,
        "ResultPath": real["ResultPath"],
        "Catch": real["Catch"],
        "Next": real["Next"],
    }
    return asl


def with_report_store(asl: dict[str, Any]) -> dict[str, Any]:
    """``asl`` whose ReadReport is a Task that gets ``{"Body": <text>}`` from a Lambda function.

    For a report too large to ride in the execution input: the function answers
    from moto's queue (StepFunctions.answer_next_invokes). A plain Lambda ARN as
    the Resource returns the function's answer itself, the shape getObject
    returns, so the real ResultSelector, ResultPath and Catch run unchanged, and
    moto checks the raw result against the 256 KB quota as the service does.
    """
    asl = with_stand_ins(asl)
    real = load_asl()["States"]["ReadReport"]
    asl["States"]["ReadReport"] = {
        **real,
        "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{REPORT_STORE}",
        "Parameters": {"Key.$": real["Parameters"]["Key.$"]},
    }
    return asl


def branch_states(asl: dict[str, Any]) -> set[str]:
    return {
        name
        for state in asl["States"].values()
        for branch in state.get("Branches", [])
        for name in branch["States"]
    }


def every_state(asl: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, state, the States it lives in): top level and inside Parallel branches."""
    for name, state in asl["States"].items():
        yield name, state, asl["States"]
        for branch in state.get("Branches", []):
            yield from every_state(branch)


def invokes_lambda(state: dict[str, Any]) -> bool:
    resource = str(state.get("Resource", ""))
    return state["Type"] == "Task" and (":lambda:" in resource or ":::lambda:" in resource)


def leads_to(states: dict[str, Any], start: str, goal: str) -> bool:
    """``start`` reaches ``goal`` by Next alone (no Choice in between: no data can divert it)."""
    seen: set[str] = set()
    name: str | None = start
    while name and name not in seen:
        if name == goal:
            return True
        seen.add(name)
        name = states[name].get("Next")
    return False


def state_bytes(text: str | None) -> int:
    """The size Step Functions counts for a state's input or output, test plumbing left out.

    Compact JSON, as the service measures the UTF-8 payload; the ``stand_in`` key
    (every report of the execution, carried for the stand-ins) is not the machine's.
    """
    if text is None:
        return 0
    value = json.loads(text)
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if key not in STAND_IN_KEYS}
    return len(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class Execution:
    name: str
    status: str
    error: str | None
    cause: str | None
    entered: list[str]  # every state entered, in event order
    invoked: list[str]  # FunctionName of every lambda:invoke, sorted
    task_failures: list[str]  # the cause of every failed Task
    alarms: list[str]  # messages the alarm topic delivered
    run_ids: list[str]  # the run id NameAttempt made for each attempt, in order
    commands: list[list[str]]  # the checks command RunChecks would run, each attempt
    sizes: list[tuple[str, int]] = field(default_factory=list)  # (state, largest payload)

    def main_path(self, asl: dict[str, Any]) -> list[str]:
        """The states outside Parallel branches, whose threads interleave in any order."""
        inside = branch_states(asl)
        return [name for name in self.entered if name not in inside]

    def branches(self, asl: dict[str, Any]) -> set[str]:
        return set(self.entered) & branch_states(asl)

    def largest(self) -> int:
        return max(size for _, size in self.sizes)

    def largest_after(self, state: str) -> int:
        """The largest payload from ``state``'s last output on."""
        last = max(i for i, (name, _) in enumerate(self.sizes) if name == state)
        return max(size for _, size in self.sizes[last:])


def _post_json(url: str, body: Any) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


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
        _post_json(f"{self.endpoint}/moto-api/config", config)
        self.role = self.client("iam").create_role(
            RoleName="dataflight-sfn", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        self._create_functions()
        self._create_alarm_topic()
        self.client("s3").create_bucket(Bucket=STORE_BUCKET)
        self.client("s3").create_bucket(Bucket=REPORT_BUCKET)

    def _create_functions(self) -> None:
        # With use_docker off, moto answers an invoke with its payload: enough to see who started.
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
        for name in (*FUNCTIONS, HANGING_CHECKS, REPORT_STORE):
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

    def answer_next_invokes(self, results: list[str]) -> None:
        """The next ``len(results)`` Lambda invokes, of any function, answer these, in order.

        moto's own queue (``/moto-api/static/lambda-simple/response``).
        """
        url = f"{self.endpoint}/moto-api/static/lambda-simple/response"
        _post_json(url, {"results": results, "region": REGION})

    def drain_invoke_answers(self, most: int = 5) -> None:
        """Empty that queue, so a test that left answers in it does not fail the next one."""
        marker = b'{"drained": true}'
        for _ in range(most):
            answer = self.client("lambda").invoke(FunctionName="producer", Payload=marker)
            if answer["Payload"].read() == marker:
                return
        raise AssertionError(f"more than {most} queued Lambda answers left")

    def machine(self, asl: dict[str, Any]) -> str:
        definition = json.dumps(asl).replace("${AlarmTopicArn}", self.topic)
        if definition not in self._machines:
            self._machines[definition] = self.client("stepfunctions").create_state_machine(
                name=f"dataflight-{len(self._machines)}", definition=definition, roleArn=self.role
            )["stateMachineArn"]
        return self._machines[definition]

    def execute(self, asl: dict[str, Any], name: str, execution_input: dict[str, Any]) -> Execution:
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.machine(asl), name=name, input=json.dumps(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"execution still running: {arn}"
            time.sleep(0.02)
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return Execution(
            name=name,
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
            run_ids=[output["flight"]["run_id"] for output in _outputs(events, "NameAttempt")],
            commands=[output["stand_in"]["command"] for output in _outputs(events, "RunChecks")],
            sizes=list(_sizes(events)),
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


def _outputs(events: list[dict[str, Any]], state: str) -> Iterator[dict[str, Any]]:
    """The output of every exit from ``state``, parsed; none when it is not a Pass stand-in."""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == state:
            output = json.loads(details["output"])
            if state != "RunChecks" or "command" in output.get("stand_in", {}):
                yield output


def _sizes(events: list[dict[str, Any]]) -> Iterator[tuple[str, int]]:
    """(state, bytes) for every state entered (its input) and exited (its output)."""
    for event in events:
        for key, text in (
            ("stateEnteredEventDetails", "input"),
            ("stateExitedEventDetails", "output"),
        ):
            details = event.get(key)
            if details:
                yield details["name"], state_bytes(details.get(text))
