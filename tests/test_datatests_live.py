"""datatests as a black box on the live target: any S3-compatible endpoint and HTTP stub.

Given an independently built copy of the layout on a moto_server (S3 + SSM)
and a loopback HTTP stub, reached only through DESIGN.md's endpoint
variables, when the suite runs with --target live, then it passes on the
healthy copy and names exactly the violated contract for faults it has
never seen (none of them is in datatests/faults.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import live_world
import pytest
from datatests_helpers import describe, expect_only, outcomes, runpytest_datatests

from pytest_dataflight.mock.http_stub import HttpStub
from pytest_dataflight.mock.moto_server import MotoServer
from pytest_dataflight.stores.clients import open_arctic

# One xdist worker builds this module's world once (``--dist loadgroup``, pyproject).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_world")]
BUCKET = "blackbox-pipeline"


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    creds = {"aws_access_key_id": "bb-key", "aws_secret_access_key": "bb-secret"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = MotoServer().start()
        stub = HttpStub().start()
        try:
            s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="eu-west-1", **creds)
            ssm = boto3.client(
                "ssm", endpoint_url=server.endpoint, region_name="eu-west-1", **creds
            )
            s3.create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
            arctic = open_arctic(
                f"s3://127.0.0.1:{BUCKET}?port={server.port}&path_prefix=arcticdb"
                f"&access=bb-key&secret=bb-secret&region=eu-west-1"
            )
            live_world.build(s3, ssm, arctic, BUCKET)
            live_world.http_routes(stub)
            yield {"server": server, "stub": stub, "s3": s3, "arctic": arctic}
        finally:
            stub.stop()
            server.stop()


# The universe contracts read every universe stock (2 to 5 requests per symbol, 850
# symbols, at moto's ~200 requests a second). A fault of another contract leaves
# them out (``-k``) to keep its run short; the healthy run and the universe
# contracts' own faults run everything.
VALUE_CONTRACTS = (
    "universe_covers_constituents",
    "universe_prices_sane",
    "universe_session_gaps",
    "constituents_churn",
)
UNIVERSE_READERS = (*VALUE_CONTRACTS, "universe_fresh")


def without(contracts: tuple[str, ...]) -> tuple[str, str]:
    return ("-k", " and ".join(f"not {c}" for c in contracts))


def run_live(pytester: pytest.Pytester, world: dict[str, Any], monkeypatch: Any, *args: str) -> Any:
    server, stub = world["server"], world["stub"]
    for name, value in {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "bb-key",
        "AWS_SECRET_ACCESS_KEY": "bb-secret",
        "AWS_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DATAFLIGHT_BUCKET": BUCKET,
        "DATAFLIGHT_SSM_PREFIX": live_world.SSM_PREFIX,
        "FRED_API_URL": stub.base_url("fred"),
        "POLYGON_API_URL": stub.base_url("polygon"),
        "FMP_API_URL": stub.base_url("fmp"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in live_world.SECRETS:
        monkeypatch.delenv(name, raising=False)  # from SSM only
    result = runpytest_datatests(
        pytester,
        *("--run-date", live_world.RUN_DATE.isoformat(), "--target", "live"),
        *("--dataflight-report", str(pytester.path / "report.json")),
        *args,
    )
    return result, outcomes(result)


def test_healthy_copy_passes(pytester: pytest.Pytester, world: Any, monkeypatch: Any) -> None:
    result, observed = run_live(pytester, world, monkeypatch)
    assert expect_only(observed, {}) == [], describe(result)
    assert result.ret == pytest.ExitCode.OK


def _edit_json(key: str, change: Callable[[Any], Any]) -> Callable[[dict[str, Any]], Any]:
    def apply(world: dict[str, Any]) -> Callable[[], None]:
        s3 = world["s3"]
        original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        changed = change(json.loads(original))
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(changed).encode())
        return lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=original)

    return apply


def _put_raw(key: str, body: bytes) -> Callable[[dict[str, Any]], Any]:
    """Replace the object at ``key`` with ``body`` as it is (not JSON-encoded)."""

    def apply(world: dict[str, Any]) -> Callable[[], None]:
        s3 = world["s3"]
        original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=original)

    return apply


def _pointer_prefix_wrong(doc: Any) -> Any:
    return {**doc, "s3_prefix": "market_data/weekly/latest/"}


def _rate_as_text(doc: Any) -> Any:
    return {**doc, "fed_funds_rate": "4.08"}


def _tickers_as_object(doc: Any) -> Any:
    return {**doc, "tickers": {t: 1 for t in doc["tickers"]}}


def _no_tickers_counted(doc: Any) -> Any:
    return {**doc, "ticker_count": 0}


def _floor_without_ratio(doc: Any) -> Any:
    return {**doc, "source_min_ok_ratios": {**doc["source_min_ok_ratios"], "options_flow": 0.5}}


def _empty_stock(world: dict[str, Any]) -> Callable[[], None]:
    lib = world["arctic"].get_library("universe")
    original = lib.read("KO").data
    lib.write("KO", original.iloc[:0])
    return lambda: lib.write("KO", original)


def _stub_route(api: str, path: str, **answer: Any) -> Callable[[dict[str, Any]], Any]:
    def apply(world: dict[str, Any]) -> Callable[[], None]:
        world["stub"].route(api, path, **answer)
        return lambda: live_world.http_routes(world["stub"])

    return apply


def _set(**changes: Any) -> Callable[[Any], Any]:
    return lambda doc: {**doc, **changes}


def _ratios(**changes: Any) -> Callable[[Any], Any]:
    return lambda doc: {**doc, "source_ok_ratios": {**doc["source_ok_ratios"], **changes}}


def _floors(**changes: Any) -> Callable[[Any], Any]:
    return lambda doc: {**doc, "source_min_ok_ratios": {**doc["source_min_ok_ratios"], **changes}}


def _ticker_not_text(doc: Any) -> Any:
    return {**doc, "tickers": [*doc["tickers"][:-1], 12345]}


P = live_world.PREFIX
UNSEEN = {
    "pointer_prefix_wrong": (
        _edit_json("market_data/latest_weekly.json", _pointer_prefix_wrong),
        "latest_weekly_pointer",
    ),
    "fed_funds_as_text": (_edit_json(P + "macro.json", _rate_as_text), "macro_json"),
    "tickers_as_object": (
        _edit_json(P + "constituents.json", _tickers_as_object),
        "constituents_json",
    ),
    "short_interest_zero_count": (
        _edit_json(P + "short_interest.json", _no_tickers_counted),
        "short_interest_json",
    ),
    "floor_without_ratio": (
        _edit_json(P + "alternative/manifest.json", _floor_without_ratio),
        "alternative_manifest",
    ),
    "stock_with_no_rows": (_empty_stock, "universe_fresh"),
    # Values that compare False either way: NaN, Infinity, numbers out of range, text.
    "ok_count_nan": (
        _edit_json(P + "short_interest.json", _set(ok_count=float("nan"))),
        "short_interest_json",
    ),
    "ok_count_above_count": (
        _edit_json(P + "short_interest.json", _set(ok_count=5000)),
        "short_interest_json",
    ),
    "fed_funds_infinite": (
        _edit_json(P + "macro.json", _set(fed_funds_rate=float("inf"))),
        "macro_json",
    ),
    "ratio_nan": (
        _edit_json(P + "alternative/manifest.json", _ratios(news=float("nan"))),
        "alternative_manifest",
    ),
    "floor_as_text": (
        _edit_json(P + "alternative/manifest.json", _floors(news="0.9")),
        "alternative_manifest",
    ),
    "ticker_not_text": (
        _edit_json(P + "constituents.json", _ticker_not_text),
        "constituents_json",
    ),
    "polygon_forbidden": (
        _stub_route("polygon", "/v3/reference/tickers/AAPL", status=403, body={"status": "NO"}),
        "polygon_reachable",
    ),
    # Bodies that are not what they claim: unreadable artifacts, APIs impersonated.
    "macro_nested_deep": (
        _put_raw(P + "macro.json", b'{"vix": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        "macro_json",
    ),
    "manifest_in_cp1252": (
        _put_raw(
            P + "alternative/manifest.json", b'{"note": "\x93news\x94", "tickers_requested": 6}'
        ),
        "alternative_manifest",
    ),
    "pointer_as_text": (
        _put_raw("market_data/latest_weekly.json", b'"2026-05-23"'),
        "latest_weekly_pointer",
    ),
    "fred_proxy_login": (
        _stub_route(
            "fred", "/fred/series/observations", body="<html><body>Proxy login</body></html>"
        ),
        "fred_reachable",
    ),
    "fred_error_object": (
        _stub_route(
            "fred", "/fred/series/observations", body={"error_code": 500, "error_message": "x"}
        ),
        "fred_reachable",
    ),
    "polygon_results_list": (
        _stub_route("polygon", "/v3/reference/tickers/AAPL", body={"status": "OK", "results": []}),
        "polygon_reachable",
    ),
}


@pytest.mark.parametrize("fault", sorted(UNSEEN))
def test_unseen_fault_names_exactly_its_contract(
    pytester: pytest.Pytester, world: Any, monkeypatch: Any, fault: str
) -> None:
    apply, contract = UNSEEN[fault]
    left_out = tuple(c for c in UNIVERSE_READERS if c != contract)
    undo = apply(world)
    try:
        result, observed = run_live(pytester, world, monkeypatch, *without(left_out))
    finally:
        undo()
    observed.update({c: "passed" for c in left_out})  # not run: see above
    assert expect_only(observed, {contract: "failed"}) == [], describe(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# --- the value, coverage and drift contracts, on faults the mock world never uses ----


def _edit_stock(symbol: str, change: Callable[[Any], Any]) -> Callable[[dict[str, Any]], Any]:
    def apply(world: dict[str, Any]) -> Callable[[], None]:
        lib = world["arctic"].get_library("universe")
        original = lib.read(symbol).data
        lib.write(symbol, change(original.copy()))
        return lambda: lib.write(symbol, original)

    return apply


def _close_above_high(frame: Any) -> Any:
    frame.iloc[-2, frame.columns.get_loc("Close")] = frame["High"].iloc[-2] + 1.0
    return frame


def _feature_inf(frame: Any) -> Any:
    frame.iloc[-1, frame.columns.get_loc("mom_5d")] = float("inf")
    return frame


def _gap_three_back(frame: Any) -> Any:
    return frame.drop(frame.index[-4])  # the session 3 before the last row


def _drop_members(world: dict[str, Any]) -> Callable[[], None]:
    lib = world["arctic"].get_library("universe")
    gone = ["Z100", "Z200", "Z300"]
    frames = {s: lib.read(s).data for s in gone}
    lib.delete_batch(gone)
    return lambda: [lib.write(s, f) for s, f in frames.items()]


def _previous_run(names: list[str], day: Any) -> Callable[[dict[str, Any]], Any]:
    key = f"market_data/weekly/{day.isoformat()}/constituents.json"

    def apply(world: dict[str, Any]) -> Callable[[], None]:
        s3 = world["s3"]
        body = json.dumps(live_world.constituents(names, day)).encode()
        try:
            original: bytes | None = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            original = None
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        if original is None:
            return lambda: s3.delete_object(Bucket=BUCKET, Key=key)
        return lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=original)

    return apply


_NOW = live_world.NAMES
UNSEEN_VALUES: dict[str, tuple[Callable[[dict[str, Any]], Any], dict[str, str]]] = {
    "close_above_high": (
        _edit_stock("MSFT", _close_above_high),
        {"universe_prices_sane": "failed"},
    ),
    "feature_plus_inf": (_edit_stock("KO", _feature_inf), {"universe_prices_sane": "failed"}),
    "gap_three_sessions_back": (
        _edit_stock("CAT", _gap_three_back),
        {"universe_session_gaps": "failed"},
    ),
    "three_members_missing": (_drop_members, {"universe_covers_constituents": "failed"}),
    # 30 % churn: 255 of last week's 850 names are not this week's (and vice versa).
    "churn_30_percent": (
        _previous_run([f"W{i:03d}" for i in range(128)] + _NOW[128:], live_world.PREVIOUS_DATE),
        {"constituents_churn": "failed"},
    ),
    # A run dated after run_date (a later week's backfill) is not "the previous run".
    "later_run_ignored": (
        _previous_run(
            [f"V{i:03d}" for i in range(850)], live_world.RUN_DATE + dt.timedelta(days=2)
        ),
        {},
    ),
}


@pytest.mark.parametrize("fault", sorted(UNSEEN_VALUES))
def test_unseen_value_fault_names_exactly_its_contract(
    pytester: pytest.Pytester, world: Any, monkeypatch: Any, fault: str
) -> None:
    apply, broken = UNSEEN_VALUES[fault]
    undo = apply(world)
    try:
        result, observed = run_live(pytester, world, monkeypatch)
    finally:
        undo()
    assert expect_only(observed, broken) == [], describe(result)
    expected = pytest.ExitCode.TESTS_FAILED if broken else pytest.ExitCode.OK
    assert result.ret == expected
