"""--target live as a black box: any S3-compatible endpoint and HTTP stub, from the environment."""

from __future__ import annotations

import contextlib
import os

# Loaded once: in-process pytester runs restore sys.modules afterwards.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pandas  # noqa: F401
import pytest
import requests  # noqa: F401
from plugin_helpers import (
    LIVE_ARGS,
    live_env,
    live_store,
    moto_pids,
    unique_bucket,
)

from pytest_dataflight.mock.http_stub import HttpStub

pytestmark = pytest.mark.usefixtures("clean_env")

SSM_SECRET = "ssm-fred-key-7e2a"
ENV_SECRET = "env-polygon-key-91c4"

CONFTEST = """
def pytest_dataflight_apis():
    return {"fred": "https://api.stlouisfed.org", "polygon": "https://api.polygon.io"}
"""

SUITE = """
import datetime as dt
import json
import os

from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer(s3, bucket, run_date):
    assert bucket == os.environ["DATAFLIGHT_BUCKET"]
    body = s3.get_object(Bucket=bucket, Key="market_data/latest_weekly.json")["Body"].read()
    assert json.loads(body)["date"] == run_date.isoformat()


@contract(stage="postflight", phases=[], consumers=["predictor"])
def test_spy_fresh(arctic_library, trading_calendar, run_date, evidence):
    last = arctic_library("macro").read("SPY").data.index[-1].date()
    evidence["last_row"] = last
    assert last.isoformat() == os.environ["EXPECTED_LAST_ROW"]
    assert trading_calendar.sessions_behind(last, run_date) == int(os.environ["EXPECTED_BEHIND"])


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_secrets(secret):
    fred = secret("FRED_API_KEY")
    polygon = secret("POLYGON_API_KEY")
    assert fred == "SSM_SECRET" and fred.source == "ssm:/dataflight/FRED_API_KEY"
    assert polygon == "ENV_SECRET" and polygon.source == "env:POLYGON_API_KEY"
    assert "SSM_SECRET" not in repr(fred) and "ENV_SECRET" not in repr(polygon)
    assert secret("FMP_API_KEY") is None


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_fred_reachable(http, api_urls, secret):
    assert api_urls["fred"] == os.environ["FRED_API_URL"]
    response = http.get(
        api_urls["fred"] + "/fred/series/observations",
        params={"series_id": "DFF", "api_key": secret("FRED_API_KEY"), "limit": 1},
    )
    assert response.status_code == 200, response.text
    assert response.json()["observations"][0]["value"] == "4.33"


def test_target_and_defaults(target, api_urls):
    assert target == "live"
    # An API whose <NAME>_API_URL is not set keeps its real host (never contacted here).
    assert api_urls["polygon"] == "https://api.polygon.io"
""".replace("SSM_SECRET", SSM_SECRET).replace("ENV_SECRET", ENV_SECRET)


@pytest.mark.parametrize("arctic_uri", ["built", "explicit"])
def test_live_target_against_our_own_endpoints(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    arctic_uri: str,
) -> None:
    with live_store() as store, contextlib.ExitStack() as stack:
        stub = HttpStub().start()
        stack.callback(stub.stop)
        # Given a bucket we wrote ourselves: the pointer, an SSM secret, and macro.SPY
        # under the default arcticdb/ prefix (2026-04-17) and under another (2026-04-16)
        bucket = unique_bucket(request)
        store.create_bucket(
            bucket,
            {"market_data/latest_weekly.json": {"date": "2026-04-18", "s3_prefix": "x/"}},
        )
        store.client("ssm").put_parameter(
            Name="/dataflight/FRED_API_KEY", Value=SSM_SECRET, Type="SecureString", Overwrite=True
        )
        store.write_symbol(bucket, "macro", "SPY", {"2026-04-16": 1.0, "2026-04-17": 2.0})
        store.write_symbol(bucket, "macro", "SPY", {"2026-04-16": 1.0}, path_prefix="other")
        # And an HTTP stub standing in for FRED
        stub.route("fred", "fred/series/observations", body={"observations": [{"value": "4.33"}]})
        # And the environment a pipeline step would have
        live_env(
            monkeypatch,
            store.endpoint,
            bucket,
            FRED_API_URL=stub.base_url("fred"),
            POLYGON_API_KEY=ENV_SECRET,
            EXPECTED_LAST_ROW="2026-04-17",
            EXPECTED_BEHIND="0",
        )
        if arctic_uri == "explicit":
            host, port = store.endpoint.removeprefix("http://").rsplit(":", 1)
            monkeypatch.setenv(
                "DATAFLIGHT_ARCTIC_URI",
                f"s3://{host}:{bucket}?port={port}&path_prefix=other&aws_auth=true"
                "&region=us-east-1",
            )
            monkeypatch.setenv("EXPECTED_LAST_ROW", "2026-04-16")
            monkeypatch.setenv("EXPECTED_BEHIND", "1")
        pytester.makeconftest(CONFTEST)
        pytester.makepyfile(test_suite=SUITE)
        mine_before = moto_pids(parent=os.getpid())
        # When the suite runs with --target live
        result = pytester.runpytest(*LIVE_ARGS)
        # Then it read our store, our SSM, our environment and our stub
        result.assert_outcomes(passed=5)
        result.stdout.fnmatch_lines(
            [f"dataflight: target=live run-date=2026-04-18 calendar=XNYS bucket={bucket}"]
        )
        assert stub.requests == ["/fred/fred/series/observations"]
        # And it started no mock world of its own
        assert moto_pids(parent=os.getpid()) == mine_before
    # And no secret reached the output
    output = result.stdout.str() + result.stderr.str()
    assert SSM_SECRET not in output and ENV_SECRET not in output
