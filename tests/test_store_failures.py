"""A store that fails is an error, data that is wrong is a failure (issue 9, DESIGN.md).

Given the black-box copy of the pipeline's layout (``live_world``) on a
moto_server, reached through a fault proxy of our own (``store_faults``)
with ``--target live``, when the store throttles, answers 5xx or dies in
the middle of a batch read, then the contracts it serves are ``error`` (the
orchestrator may retry), never ``failed``; and a 404 or 403 about the data
still fails its contract.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import live_world
import pytest
from datatests_helpers import describe, outcomes, runpytest_datatests
from report_helpers import by_name, load_report
from store_faults import Fault, FaultState, StoreFaults

from pytest_dataflight.mock.http_stub import HttpStub
from pytest_dataflight.mock.moto_server import MotoServer
from pytest_dataflight.stores.clients import arctic_env, is_store_failure, open_arctic

# One xdist worker builds this module's world once (``--dist loadgroup``, pyproject).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("store_failures_world")]
BUCKET = "blackbox-store-faults"
CREDS = {"aws_access_key_id": "bb-key", "aws_secret_access_key": "bb-secret"}
# Contracts that need only SSM (a secret) and the HTTP stub, not S3 or ArcticDB.
NOT_STORE = {"secrets_present", "fred_reachable", "polygon_reachable", "fmp_stable_reachable"}
# A failing store costs each contract at most its bounded retries; the breaker does the rest.
RUN_BOUND_S = 60.0


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = MotoServer().start()
        stub = HttpStub().start()
        proxy = StoreFaults(server.endpoint)
        try:
            proxy.start()
            s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", **CREDS)
            ssm = boto3.client(
                "ssm", endpoint_url=server.endpoint, region_name="us-east-1", **CREDS
            )
            s3.create_bucket(Bucket=BUCKET)
            for name, value in arctic_env().items():
                mp.setenv(name, value)
            arctic = open_arctic(
                f"s3://127.0.0.1:{BUCKET}?port={server.port}&path_prefix=arcticdb"
                "&access=bb-key&secret=bb-secret&region=us-east-1"
            )
            live_world.build(s3, ssm, arctic, BUCKET)
            # Compacts the symbol list now, so that no run's list_symbols reads the
            # symbols' versions: only universe_fresh's batch read asks for them.
            arctic.get_library("universe").list_symbols()
            live_world.http_routes(stub)
            yield {"server": server, "stub": stub, "proxy": proxy}
        finally:
            proxy.stop()
            stub.stop()
            server.stop()


def run_live(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    world: dict[str, Any],
    fault: Fault | None,
    *,
    ssm_through_proxy: bool = False,
) -> tuple[pytest.RunResult, dict[str, str], dict[str, Any], float]:
    """datatests on ``--target live``, S3 (and SSM if asked) behind the proxy doing ``fault``."""
    proxy, stub = world["proxy"], world["stub"]
    ssm = proxy.endpoint if ssm_through_proxy else world["server"].endpoint
    for name, value in {
        "AWS_ENDPOINT_URL_S3": proxy.endpoint,
        "AWS_ENDPOINT_URL_SSM": ssm,
        "AWS_ACCESS_KEY_ID": CREDS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDS["aws_secret_access_key"],
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DATAFLIGHT_BUCKET": BUCKET,
        "DATAFLIGHT_SSM_PREFIX": live_world.SSM_PREFIX,
        "FRED_API_URL": stub.base_url("fred"),
        "POLYGON_API_URL": stub.base_url("polygon"),
        "FMP_API_URL": stub.base_url("fmp"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in live_world.SECRETS:
        monkeypatch.delenv(name, raising=False)  # from SSM only
    proxy.inject(fault)
    path = pytester.path / "report.json"
    started = time.monotonic()
    try:
        result = runpytest_datatests(
            pytester,
            *("--run-date", live_world.RUN_DATE.isoformat(), "--target", "live"),
            *("--dataflight-report", str(path)),
        )
    finally:
        took = time.monotonic() - started
        print(f"{fault}: run took {took:.2f} s; proxy {proxy.counts()}")
        proxy.inject(None)
    return result, outcomes(result), load_report(path), took


def healthy(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any) -> Any:
    """Outcomes on the healthy store, run once per module: what a fault is compared with."""
    if "healthy" not in world:
        world["healthy"] = run_live(pytester, monkeypatch, world, None)[1]
    return world["healthy"]


def _assert_store_errors_only(
    observed: dict[str, str], report: dict[str, Any], result: pytest.RunResult
) -> None:
    """Nothing failed; the run is an error, exit 1."""
    assert "failed" not in observed.values(), describe(result)
    assert report["status"] == "error", report["headline"]
    assert not [e for e in report["contracts"] if e["outcome"] == "failed"], report["headline"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def changed(before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """contract -> outcome, for the contracts whose outcome differs from ``before``."""
    return {name: o for name, o in after.items() if before.get(name) != o}


WHOLE_STORE = {
    "every request throttled (503 SlowDown)": Fault("throttle"),
    "every request answered 500": Fault("server_error"),
}


@pytest.mark.parametrize("what", sorted(WHOLE_STORE))
def test_failing_store_is_error_never_failed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any, what: str
) -> None:
    # Given every S3 request answers 503 SlowDown (or 500), after the bounded retries
    # When the suite runs on the live target
    result, observed, report, took = run_live(pytester, monkeypatch, world, WHOLE_STORE[what])
    # Then every S3 and ArcticDB contract is an error, none failed; the run is an error
    store = {name for name in observed if name not in NOT_STORE}
    assert store and {observed[name] for name in store} == {"error"}, describe(result)
    _assert_store_errors_only(observed, report, result)
    # And each names the endpoint, and only the first one asked the store
    proxy = world["proxy"].endpoint
    for name in store:
        assert f"S3 endpoint {proxy}" in by_name(report)[name]["message"], name
    assert took < RUN_BOUND_S


PART_OF_STORE = {
    # (fault, the first contract to meet it, in the suite's order)
    "ArcticDB throttled": (Fault("throttle", match="/arcticdb/"), "daily_spy_fresh"),
    "JSON artifacts throttled": (Fault("throttle", match="/market_data/"), "latest_weekly_pointer"),
    "JSON artifacts answered 500": (
        Fault("server_error", match="/market_data/"),
        "latest_weekly_pointer",
    ),
}


@pytest.mark.parametrize("what", sorted(PART_OF_STORE))
def test_store_failing_mid_run_is_error_and_trips_the_breaker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any, what: str
) -> None:
    fault, first = PART_OF_STORE[what]
    # Given the store answers HEAD bucket, but throttles (or fails) some of its keys
    # When the suite runs on the live target
    result, observed, report, took = run_live(pytester, monkeypatch, world, fault)
    # Then the first contract to meet it is an error saying what the store answered
    assert observed[first] == "error", describe(result)
    message = by_name(report)[first]["message"]
    assert "503" in message or "SlowDown" in message or "500" in message or "Internal" in message
    # And nothing failed: every later contract that needs the store errors at once
    _assert_store_errors_only(observed, report, result)
    assert took < RUN_BOUND_S


def test_store_dying_in_universe_batch_read_is_error_not_stale(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any
) -> None:
    # Given the store stops answering at universe_fresh's batch read (the first request
    # for a universe stock's version), so ArcticDB hands back per-symbol errors
    fault = Fault("stop", match="/vref/*sUt*KO")
    # When the suite runs on the live target
    result, observed, report, took = run_live(pytester, monkeypatch, world, fault)
    # Then universe_fresh is an error, not "N tickers stale": the batch's per-symbol
    # store errors made it so
    entry = by_name(report)["universe_fresh"]
    assert entry["outcome"] == "error", describe(result)
    assert "could not be read because the store failed" in entry["message"]
    assert "behind" not in entry["message"] and "stale" not in entry["message"]
    # And every later contract that needs the store errors at once, naming the endpoint
    proxy = world["proxy"].endpoint
    names = [e["contract"] for e in report["contracts"]]
    later = [n for n in names[names.index("universe_fresh") + 1 :] if n not in NOT_STORE]
    assert later, names
    for name in later:
        assert observed[name] == "error", (name, describe(result))
        assert f"S3 endpoint {proxy}" in by_name(report)[name]["message"], name
    _assert_store_errors_only(observed, report, result)
    assert took < RUN_BOUND_S


ABOUT_DATA = {
    "404 NoSuchKey": (Fault("not_found", match="/macro.json"), "macro_json", "does not exist"),
    # short_interest.json: the one artifact a single contract reads (constituents.json
    # is also read by the coverage and churn contracts).
    "403 AccessDenied": (
        Fault("denied", match="/short_interest.json"),
        "short_interest_json",
        "AccessDenied",
    ),
}


@pytest.mark.parametrize("what", sorted(ABOUT_DATA))
def test_answer_about_the_data_is_still_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any, what: str
) -> None:
    fault, contract, says = ABOUT_DATA[what]
    before = healthy(pytester, monkeypatch, world)
    assert before[contract] == "passed"
    # Given the store answers 404 (or 403) for one artifact, and works otherwise
    # When the suite runs on the live target
    result, observed, report, _ = run_live(pytester, monkeypatch, world, fault)
    # Then that contract failed, naming the answer, and no other outcome changed
    assert changed(before, observed) == {contract: "failed"}, describe(result)
    assert says in by_name(report)[contract]["message"]
    assert report["status"] == "failed"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_throttled_ssm_is_error_not_missing_secrets(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, world: Any
) -> None:
    before = healthy(pytester, monkeypatch, world)
    # Given SSM Parameter Store answers every request ThrottlingException
    fault = Fault("throttle", match="ssm:")
    # When the suite runs on the live target, secrets only in SSM
    result, observed, report, _ = run_live(
        pytester, monkeypatch, world, fault, ssm_through_proxy=True
    )
    # Then the contracts that need a secret are errors, not "missing" failures, and
    # nothing else changed (S3 is not taken for down)
    assert changed(before, observed) == dict.fromkeys(NOT_STORE, "error"), describe(result)
    assert "SSM Parameter Store" in by_name(report)["secrets_present"]["message"]
    assert report["status"] == "error"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --- the classifier, with plain values -------------------------------------------------


def _client_error(status: int, code: str) -> Exception:
    from botocore.exceptions import ClientError

    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetObject")  # type: ignore[arg-type]


STORE_FAILED = [
    _client_error(503, "SlowDown"),
    _client_error(503, "503"),
    _client_error(500, "InternalError"),
    _client_error(400, "ThrottlingException"),
    _client_error(400, "Throttling"),
    _client_error(400, "RequestLimitExceeded"),
    "E_S3_RETRYABLE Retry-able error: Unexpected error: S3Error:100, HttpResponseCode:503",
    "Network error: S3Error:99, HttpResponseCode:-1, : curlCode: 52",
]
DATA_ANSWERS = [
    _client_error(404, "NoSuchKey"),
    _client_error(403, "AccessDenied"),
    _client_error(400, "ParameterNotFound"),
    _client_error(400, "AccessDeniedException"),
    "E_NO_SUCH_VERSION Version with specified version 'latest' of symbol 'X' not found",
    "E_KEY_NOT_FOUND S3Error:15, HttpResponseCode:404",
    ValueError("bad data"),
]


@pytest.mark.parametrize("answer", STORE_FAILED, ids=str)
def test_store_failures_are_classified_as_such(answer: Any) -> None:
    assert is_store_failure(answer)


@pytest.mark.parametrize("answer", DATA_ANSWERS, ids=str)
def test_answers_about_data_are_not_store_failures(answer: Any) -> None:
    assert not is_store_failure(answer)


# --- the proxy's own rules ---------------------------------------------------------------


def test_proxy_spreads_a_fraction_and_counts_after() -> None:
    state = FaultState()
    state.set(Fault("throttle", match="/bucket/", after=2, fraction=0.5))
    kinds = [state.decide(f"/bucket/key{i}") for i in range(8)] + [state.decide("ssm:Get")]
    assert kinds == [None, None, None, "throttle", None, "throttle", None, "throttle", None]
    assert state.counts() == {"requests": 9, "matched": 8, "faulted": 3}


def test_proxy_stop_kills_every_later_request() -> None:
    state = FaultState()
    state.set(Fault("stop", match="KO", after=1))
    kinds = [state.decide(label) for label in ("/a", "/KO", "/b", "/KO", "/c", "ssm:Get")]
    assert kinds == [None, None, None, "stop", "stop", "stop"]
