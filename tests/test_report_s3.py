"""``--dataflight-report-s3``: the live report uploaded where the orchestrator reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from report_helpers import MOCK_ARGS, REPORT_NAME, load_report, run

from pytest_dataflight.mock.moto_server import MotoServer

CONTRACT = """
from pytest_dataflight import contract

@contract(stage="postflight", phases=["daily"], consumers=["research_lambda"])
def test_daily_spy_fresh(evidence):
    evidence["last_row"] = "2026-04-17"
"""
REPORTS_BUCKET = "pipeline-reports"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    """One real moto_server subprocess for this module (stopped by PID)."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def live_on_moto(
    moto: MotoServer, clean_env: None, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A live target whose standard AWS settings point at moto; returns an S3 client."""
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-east-1",
        "DATAFLIGHT_BUCKET": "pipeline-data",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    if REPORTS_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=REPORTS_BUCKET)
    pytester.makepyfile(test_contracts=CONTRACT)
    return s3


LIVE_ARGS = ("-p", "no:cacheprovider", "--target", "live", "--run-date", "2026-04-18")


def test_live_report_is_uploaded_to_s3(pytester: pytest.Pytester, live_on_moto: Any) -> None:
    # When a live run is told where the orchestrator reads its report
    url = f"s3://{REPORTS_BUCKET}/dataflight/{{run_date}}/postflight-daily.json"
    result, report = run(pytester, *LIVE_ARGS, "--dataflight-report-s3", url)
    # Then the object there is byte for byte the local report
    assert result.ret == pytest.ExitCode.OK
    obj = live_on_moto.get_object(
        Bucket=REPORTS_BUCKET, Key="dataflight/2026-04-18/postflight-daily.json"
    )
    body = obj["Body"].read()
    assert body == (pytester.path / REPORT_NAME).read_bytes()
    assert obj["ContentType"] == "application/json"
    assert json.loads(body)["status"] == "passed"


def test_failed_upload_fails_the_run_rather_than_leave_a_stale_report(
    pytester: pytest.Pytester, live_on_moto: Any
) -> None:
    # When the report bucket does not exist
    result, report = run(
        pytester, *LIVE_ARGS, "--dataflight-report-s3", "s3://no-such-bucket/r.json"
    )
    # Then the run is an internal error (exit 3) and the local report says why
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert (report["status"], report["exit_code"]) == ("error", 3)
    assert report["reason"].startswith(
        "internal error: report upload to s3://no-such-bucket/r.json"
    )
    assert "NoSuchBucket" in report["reason"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (MOCK_ARGS, "uploads reports of the live target only (got target mock)"),
        (LIVE_ARGS, "expected s3://BUCKET/KEY"),
    ],
    ids=["mock-target", "not-an-s3-url"],
)
@pytest.mark.usefixtures("clean_env")
def test_upload_misuse_is_a_usage_error_with_a_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], problem: str
) -> None:
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "pipeline-data")
    pytester.makepyfile(test_contracts=CONTRACT)
    url = "s3://reports/r.json" if "mock" in args else "https://reports/r.json"
    result = pytester.runpytest(*args, "--dataflight-report-s3", url)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    report = load_report(pytester.path / REPORT_NAME)
    assert problem in report["reason"]
    result.stderr.fnmatch_lines([f"ERROR: *{problem}*"])
