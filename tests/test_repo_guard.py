"""The repository's top-level conftest.py: loopback only, unless ``--target live``.

Given / When / Then: each test copies the top-level conftest into a pytester
directory and runs a small suite against it in a subprocess, so the guard is
installed (or not) exactly as in a run of this repository. No test sends a
packet off this machine: before trying 192.0.2.1 (TEST-NET-1) a suite checks
that the guard is installed and replaces the real connect behind it with a
tripwire.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

TOP_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"
RUN_DATE = "2026-04-18"
# The tests of SUITE each kind of run is asked to pass.
GUARDED = (
    "test_guard.py::test_off_machine_refused_before_any_packet",
    "test_guard.py::test_developer_aws_settings_scrubbed",
    "test_guard.py::test_loopback_connects",
)
LIVE = (
    "test_guard.py::test_live_unguarded_with_its_endpoint",
    "test_guard.py::test_loopback_connects",
)

SUITE = """
import os
import socket

import boto3
import pytest
from botocore.exceptions import HTTPClientError

import conftest as guard  # the repository's top-level conftest, copied here


@pytest.fixture
def tripwire(monkeypatch):
    # Never risk real traffic: without the guard in place, stop before any connect.
    assert guard.guard_installed(), "the guard is not installed"
    reached = []
    monkeypatch.setattr(guard, "_real_connect", lambda sock, address: reached.append(address))
    monkeypatch.setattr(guard, "_real_connect_ex", lambda sock, address: reached.append(address))
    return reached


def test_off_machine_refused_before_any_packet(tripwire):
    with pytest.raises(guard.NonLoopbackConnectRefused, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 9), timeout=1)
    with socket.socket() as sock, pytest.raises(guard.NonLoopbackConnectRefused):
        sock.connect_ex(("192.0.2.1", 9))
    s3 = boto3.client(
        "s3", endpoint_url="http://192.0.2.1:9", region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    # botocore wraps what it does not know; the reason stays in the message.
    with pytest.raises(HTTPClientError, match="refused a connect to .+192.0.2.1"):
        s3.list_buckets()
    assert tripwire == []


def test_developer_aws_settings_scrubbed():
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        assert name not in os.environ, name
    assert os.environ["AWS_CONFIG_FILE"] == os.devnull
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"


def test_loopback_connects():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_live_unguarded_with_its_endpoint():
    assert not guard.guard_installed()
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
"""


def load_top_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("top_conftest", TOP_CONFTEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("192.0.2.1", False),
        ("169.254.169.254", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("2001:db8::1", False),
        ("s3.us-east-1.amazonaws.com", False),
        (None, False),
    ],
)
def test_what_counts_as_loopback(host: str | None, loopback: bool) -> None:
    assert load_top_conftest().is_loopback(host) is loopback


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The top-level conftest and SUITE, with a developer's AWS settings in the environment."""
    pytester.makeconftest(TOP_CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_guard=SUITE)
    monkeypatch.delenv("DATAFLIGHT_TARGET", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://192.0.2.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://192.0.2.1:9")
    monkeypatch.setenv("AWS_PROFILE", "developer")
    return pytester


@pytest.mark.parametrize(
    "target", [(), ("--target", "mock", "--run-date", RUN_DATE)], ids=["no-target", "mock"]
)
def test_runs_without_target_live_refuse_non_loopback(
    suite: pytest.Pytester, target: tuple[str, ...]
) -> None:
    # Given a developer's real endpoint and profile in the environment
    # When a run without --target live tries to leave the machine, and loopback
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", *target, *GUARDED)
    # Then the guard refused before any packet, the AWS settings never arrived,
    # and loopback stayed open
    result.assert_outcomes(passed=len(GUARDED))


def test_target_live_is_unguarded_and_loopback_works(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live target on a loopback endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "dataflight-test")
    # When the run says --target live explicitly
    result = suite.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--target",
        "live",
        "--run-date",
        RUN_DATE,
        *LIVE,
    )
    # Then nothing is guarded or scrubbed, and loopback connects
    result.assert_outcomes(passed=len(LIVE))


def test_live_from_the_environment_alone_is_a_usage_error(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DATAFLIGHT_TARGET=live (and a bucket) in the environment
    monkeypatch.setenv("DATAFLIGHT_TARGET", "live")
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "prod-bucket")
    # When the run does not say --target live
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--run-date", RUN_DATE)
    # Then it stops before anything runs, says how to go on, and still reports it
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*DATAFLIGHT_TARGET=live*--target live on the command line*"])
    report = json.loads((suite.path / "dataflight-report.json").read_text())
    assert (report["status"], report["exit_code"], report["target"]) == ("error", 4, "live")
    assert "--target live on the command line" in report["reason"]
