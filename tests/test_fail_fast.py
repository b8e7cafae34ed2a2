"""A check never hangs: a dead or silent S3 endpoint makes each check an error, fast."""

from __future__ import annotations

import time

# Loaded once: in-process pytester runs restore sys.modules afterwards.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pytest
from plugin_helpers import (
    LIVE_ARGS,
    assert_no_traceback,
    closed_port,
    live_env,
    live_store,
    silent_listener,
    unique_bucket,
)

pytestmark = pytest.mark.usefixtures("clean_env")

# The whole run's bound (issue 2's acceptance), not a performance goal.
RUN_BOUND_S = 60.0

CONTRACTS = """
from pytest_dataflight import contract


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_bucket_reachable(s3, bucket):
    s3.head_bucket(Bucket=bucket)


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer(s3, bucket):
    s3.get_object(Bucket=bucket, Key="market_data/latest_weekly.json")


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_libraries(arctic):
    assert "macro" in arctic.list_libraries()


@contract(stage="postflight", phases=[], consumers=["predictor"])
def test_spy(arctic_library):
    arctic_library("macro").read("SPY")


@contract(stage="postflight", phases=[], consumers=["predictor"])
def test_universe(arctic_library):
    arctic_library("universe").list_symbols()
"""
N_CONTRACTS = 5
AFTER_ARCTIC = """
from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer_again(s3, bucket):
    s3.get_object(Bucket=bucket, Key="market_data/latest_weekly.json")
"""


def _run_against(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, endpoint: str, what: str
) -> pytest.RunResult:
    live_env(monkeypatch, endpoint, "pipeline-bucket")
    pytester.makepyfile(test_contracts=CONTRACTS)
    started = time.monotonic()
    result = pytester.runpytest(*LIVE_ARGS)
    took = time.monotonic() - started
    print(f"{what} endpoint: whole run of {N_CONTRACTS} contracts took {took:.2f} s")
    assert took < RUN_BOUND_S
    return result


def _assert_each_contract_errors_naming(result: pytest.RunResult, endpoint: str) -> None:
    result.assert_outcomes(errors=N_CONTRACTS)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    reports = [
        r
        for r in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if r.failed
    ]
    assert len(reports) == N_CONTRACTS
    for report in reports:
        assert report.when == "setup"  # an error, not a failure
        assert str(report.longrepr).startswith(f"StoreUnreachable: S3 endpoint {endpoint} ")
    assert_no_traceback(result)


def test_dead_endpoint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the S3 endpoint is a loopback port nobody listens on
    endpoint = f"http://127.0.0.1:{closed_port()}"
    # When contracts that need S3 and ArcticDB run against it
    result = _run_against(pytester, monkeypatch, endpoint, "dead")
    # Then each is an error naming the endpoint, with no traceback, well within the bound
    _assert_each_contract_errors_naming(result, endpoint)
    result.stdout.fnmatch_lines(
        [f"StoreUnreachable: S3 endpoint {endpoint} did not answer: EndpointConnectionError*"]
    )


def test_silent_endpoint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the S3 endpoint accepts connections and never answers
    with silent_listener() as endpoint:
        # When the contracts run against it
        result = _run_against(pytester, monkeypatch, endpoint, "silent")
    # Then each is an error naming the endpoint; only the first one waited
    _assert_each_contract_errors_naming(result, endpoint)
    result.stdout.fnmatch_lines(
        [f"StoreUnreachable: S3 endpoint {endpoint} did not answer: ReadTimeoutError*"]
    )


def test_missing_bucket(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    with live_store() as store:
        # Given an S3 endpoint that answers, but the bucket does not exist there
        bucket = unique_bucket(request)
        live_env(monkeypatch, store.endpoint, bucket)
        pytester.makepyfile(test_contracts=CONTRACTS, test_zz_after=AFTER_ARCTIC)
        # When the contracts run
        result = pytester.runpytest(*LIVE_ARGS)
    # Then the ArcticDB ones error saying the bucket does not exist (ArcticDB itself
    # would show an empty store), and the S3 ones fail on the 404 (a finding),
    # also after the ArcticDB errors: the endpoint is not taken for dead
    result.assert_outcomes(failed=3, errors=3)
    by_test = {
        r.nodeid.split("::")[-1]: r
        for r in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if r.failed
    }
    for name in ("test_libraries", "test_spy", "test_universe"):
        assert by_test[name].when == "setup"
        assert str(by_test[name].longrepr).startswith(
            f"StoreUnreachable: bucket '{bucket}' does not exist at {store.endpoint}"
        )
    for name in ("test_bucket_reachable", "test_pointer", "test_pointer_again"):
        assert by_test[name].when == "call"
    assert "stopped answering" not in result.stdout.str()
