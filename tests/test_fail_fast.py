"""A check never hangs: a dead or silent S3 endpoint makes each check an error, fast."""

from __future__ import annotations

import json
import time
from pathlib import Path

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


def _assert_each_contract_errors_naming(
    result: pytest.RunResult, endpoint: str, where: Path
) -> None:
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
    # One root cause, named once in the headline, with every contract it took down
    written = json.loads((where / "dataflight-report.json").read_text())
    [cause] = written["causes"]
    assert cause["cause"].startswith(f"S3 endpoint {endpoint} ") and cause["outcome"] == "error"
    assert len(cause["contracts"]) == N_CONTRACTS
    assert written["headline"].count(f"S3 endpoint {endpoint}") == 1
    assert f"[error: {N_CONTRACTS} contracts]" in written["headline"]


def test_dead_endpoint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the S3 endpoint is a loopback port nobody listens on
    endpoint = f"http://127.0.0.1:{closed_port()}"
    # When contracts that need S3 and ArcticDB run against it
    result = _run_against(pytester, monkeypatch, endpoint, "dead")
    # Then each is an error naming the endpoint, with no traceback, well within the bound
    _assert_each_contract_errors_naming(result, endpoint, pytester.path)
    result.stdout.fnmatch_lines(
        [f"StoreUnreachable: S3 endpoint {endpoint} did not answer: EndpointConnectionError*"]
    )


def test_silent_endpoint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the S3 endpoint accepts connections and never answers
    with silent_listener() as endpoint:
        # When the contracts run against it
        result = _run_against(pytester, monkeypatch, endpoint, "silent")
    # Then each is an error naming the endpoint; only the first one waited
    _assert_each_contract_errors_naming(result, endpoint, pytester.path)
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
    # Then every contract that needs the bucket fails (a fact: retrying cannot help),
    # the ArcticDB ones before ArcticDB could show an empty store, each in one line
    cause = f"bucket '{bucket}' does not exist at {store.endpoint} (HEAD bucket answered 404"
    result.assert_outcomes(errors=6)
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    assert report["status"] == "failed"
    assert {c["contract"]: c["outcome"] for c in report["contracts"]} == dict.fromkeys(
        ["bucket_reachable", "pointer", "libraries", "spy", "universe", "pointer_again"],
        "failed",
    )
    assert all(c["message"].startswith(cause) for c in report["contracts"])
    # and the report names that one cause once, with the six contracts it took down
    [grouped] = report["causes"]
    assert grouped["cause"].startswith(cause) and grouped["outcome"] == "failed"
    assert len(grouped["contracts"]) == 6
    assert report["headline"].count("does not exist") == 1
    assert "[failed: 6 contracts]" in report["headline"]
    assert "Traceback" not in result.stdout.str()
    assert "stopped answering" not in result.stdout.str()


def test_wrong_arctic_uri_is_named_and_s3_checks_still_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    with live_store() as store:
        # Given an S3 endpoint that answers, and DATAFLIGHT_ARCTIC_URI pointing where
        # nothing listens (a typo in the port)
        bucket = unique_bucket(request)
        store.create_bucket(bucket, {"market_data/latest_weekly.json": {"date": "2026-04-18"}})
        wrong = f"s3://127.0.0.1:{bucket}?port={closed_port()}&path_prefix=arcticdb"
        live_env(monkeypatch, store.endpoint, bucket, DATAFLIGHT_ARCTIC_URI=wrong + "&secret=x1")
        pytester.makepyfile(test_contracts=CONTRACTS, test_zz_after=AFTER_ARCTIC)
        # When the contracts run
        result = pytester.runpytest(*LIVE_ARGS)
    # Then the ArcticDB ones error naming the URI (not the S3 endpoint), in one line,
    # and the S3 ones still run and hold: the S3 endpoint's breaker is not tripped
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    outcomes = {c["contract"]: c["outcome"] for c in report["contracts"]}
    assert outcomes == {
        "bucket_reachable": "passed",
        "pointer": "passed",
        "libraries": "error",
        "spy": "error",
        "universe": "error",
        "pointer_again": "passed",
    }
    named = f"ArcticUnreachable: ArcticDB at s3://127.0.0.1:{bucket} (DATAFLIGHT_ARCTIC_URI) "
    for entry in report["contracts"]:
        if entry["outcome"] == "error":
            assert entry["message"].startswith(named), entry["message"]
            assert f"while the S3 endpoint {store.endpoint} answers" in entry["message"]
    [cause] = report["causes"]
    assert cause["contracts"] == ["libraries", "spy", "universe"]
    assert "x1" not in json.dumps(report)  # the URI's query (keys) is never shown
    assert_no_traceback(result)


def test_refused_credentials_are_one_cause(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # Given an S3 endpoint that checks credentials (moto's own auth) and keys it does not know
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")
    with live_store() as store:
        live_env(monkeypatch, store.endpoint, unique_bucket(request))
        pytester.makepyfile(test_contracts=CONTRACTS, test_zz_after=AFTER_ARCTIC)
        # When the contracts run
        result = pytester.runpytest(*LIVE_ARGS)
    # Then every contract fails (fix the keys; retrying cannot help), under one cause
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    assert report["status"] == "failed"
    assert {c["outcome"] for c in report["contracts"]} == {"failed"}
    [cause] = report["causes"]
    assert cause["cause"] == (
        f"S3 endpoint {store.endpoint} refused the credentials (InvalidAccessKeyId): "
        "check the access key, secret and session token the run is given"
    )
    assert len(cause["contracts"]) == N_CONTRACTS + 1
    assert report["headline"].count("refused the credentials") == 1
    assert_no_traceback(result)


MISSING_UNIVERSE = """
from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["predictor"])
def test_spy(arctic_library):
    assert len(arctic_library("macro").read("SPY").data) == 2


@contract(stage="postflight", phases=[], consumers=["research"])
def test_universe_listed(arctic_library):
    arctic_library("universe").list_symbols()


@contract(stage="postflight", phases=[], consumers=["backtester"])
def test_universe_recent(recent_rows):
    recent_rows("universe", ["AAPL"]).raise_for_store_errors()
"""


def test_missing_library_fails_its_readers_under_one_cause(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    with live_store() as store:
        # Given a store with the macro library and no universe library
        bucket = unique_bucket(request)
        store.create_bucket(bucket)
        store.write_symbol(bucket, "macro", "SPY", {"2026-04-16": 1.0, "2026-04-17": 2.0})
        live_env(monkeypatch, store.endpoint, bucket)
        pytester.makepyfile(test_contracts=MISSING_UNIVERSE)
        # When contracts that read it run
        result = pytester.runpytest(*LIVE_ARGS)
    # Then each reader fails (a fact, not an outage) in one line, with no traceback
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    outcomes = {c["contract"]: c["outcome"] for c in report["contracts"]}
    assert outcomes == {"spy": "passed", "universe_listed": "failed", "universe_recent": "failed"}
    assert report["causes"] == [
        {
            "cause": "ArcticDB library 'universe' does not exist",
            "outcome": "failed",
            "contracts": ["universe_listed", "universe_recent"],
        }
    ]
    assert "[failed: 2 contracts]" in report["headline"]
    assert_no_traceback(result)
