"""Shared helpers of the report tests (tests/test_report_*.py): run pytest, read the report.

Every report read through :func:`load_report` is validated against the JSON
Schema shipped in the package, and checked for the invariants an
orchestrator relies on, the way pytest validates every JUnit XML it writes in
its own tests.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# arcticdb, boto3, requests: in-process pytester runs restore sys.modules
# afterwards, and a native extension (arcticdb_ext) cannot be imported twice.
# Loading the heavy stack once, here, keeps it loaded across the mock-target runs.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pytest
import requests  # noqa: F401

from pytest_dataflight.report.build import MAX_HEADLINE_CHARS, MAX_REPORT_BYTES, validate

REPORT_NAME = "dataflight-report.json"
RUN_DATE = "2026-04-18"
MOCK_ARGS = ("-p", "no:cacheprovider", "--target", "mock", "--run-date", RUN_DATE)


def check_report(report: Mapping[str, Any]) -> None:
    """Schema-valid, and consistent the way an orchestrator reading it assumes."""
    validate(report)
    assert report["exit_code"] == report["exitcode"]
    assert len(report["headline"]) <= MAX_HEADLINE_CHARS
    blocked = sorted(name for name, state in report["consumers"].items() if state == "blocked")
    assert report["blocked_consumers"] == blocked
    assert report["failures"] == [
        e for e in report["contracts"] if e["outcome"] in ("failed", "error")
    ]
    # The report never disagrees with the exit code about success.
    assert (report["status"] == "passed") == (report["exit_code"] == 0), report["headline"]


def load_report(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    assert len(data) <= MAX_REPORT_BYTES, f"report is {len(data)} bytes"
    report: dict[str, Any] = json.loads(data)
    check_report(report)
    return report


def run(
    pytester: pytest.Pytester, *args: str, subprocess: bool = False
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run pytest in the pytester directory; return its result and the validated report."""
    path = pytester.path / REPORT_NAME
    if path.exists():
        path.unlink()
    runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    result = runner(*args)
    assert path.exists(), "no report written:\n" + "\n".join(result.outlines + result.errlines)
    return result, load_report(path)


def by_name(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["contract"]: entry for entry in report["contracts"]}


def outcomes(report: Mapping[str, Any]) -> dict[str, str]:
    return {entry["contract"]: entry["outcome"] for entry in report["contracts"]}


def last_line(result: pytest.RunResult) -> str:
    lines = [line for line in result.outlines if line.strip()]
    return lines[-1] if lines else ""


def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def dead_live_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``--target live`` pointed at a closed loopback port: the store never answers."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with monkeypatch.context() as mp:
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "DATAFLIGHT_BUCKET": "dataflight-test",
            "AWS_ACCESS_KEY_ID": "test-key",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
        }.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SSM"):
            mp.delenv(name, raising=False)
        yield endpoint
