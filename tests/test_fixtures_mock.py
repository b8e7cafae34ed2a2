"""Every fixture a contract receives, on the mock target, through one real pytest run."""

from __future__ import annotations

import os
from typing import Any

# In-process pytester runs restore sys.modules afterwards, and a native
# extension (arcticdb_ext) cannot be imported twice: load the stack once, here.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pandas  # noqa: F401
import pytest
import requests  # noqa: F401
from plugin_helpers import MOCK_ARGS, NO_CACHE, moto_pids

pytestmark = pytest.mark.usefixtures("clean_env")

CANARY = "canary-fred-key-5f1d9c"

SEED = """
import pandas as pd

CANARY = "THE_CANARY"


def pytest_dataflight_seed(world):
    world.put_json("data/hello.json", {"hello": "world", "run_date": world.run_date.isoformat()})
    spy = pd.DataFrame(
        {"Close": [701.5, 702.25]}, index=pd.DatetimeIndex(["2026-04-16", "2026-04-17"])
    )
    world.library("macro").write("SPY", spy)
    world.put_secret("FRED_API_KEY", CANARY)
    world.http.route("fred", "fred/series/observations", body={"observations": [{"value": "4.33"}]})
    world.http.route("fred", "fred/slow", hang=True)


def pytest_dataflight_apis():
    return {"fred": "https://api.stlouisfed.org"}
""".replace("THE_CANARY", CANARY)

FIXTURE_TESTS = """
import datetime as dt
import json

import pytest
import requests


def test_run_date(run_date):
    assert type(run_date) is dt.date
    assert run_date == dt.date(2026, 4, 18)


def test_target(target):
    assert target == "mock"


def test_bucket(bucket):
    assert bucket == "dataflight-mock"


def test_s3_reads_what_the_seed_wrote(s3, bucket):
    body = s3.get_object(Bucket=bucket, Key="data/hello.json")["Body"].read()
    assert json.loads(body) == {"hello": "world", "run_date": "2026-04-18"}


def test_arctic(arctic):
    assert "macro" in arctic.list_libraries()


def test_arctic_library_reads_a_symbol(arctic_library):
    frame = arctic_library("macro").read("SPY").data
    assert frame.index[-1].date() == dt.date(2026, 4, 17)
    assert list(frame["Close"]) == [701.5, 702.25]


def test_arctic_library_missing(arctic_library):
    arctic_library("universe")


def test_trading_calendar(trading_calendar, run_date):
    assert trading_calendar.last_session_on_or_before(run_date) == dt.date(2026, 4, 17)
    assert trading_calendar.sessions_behind(dt.date(2026, 4, 16), run_date) == 1


def test_secret(secret):
    value = secret("FRED_API_KEY")
    assert value == "THE_CANARY"
    assert "THE_CANARY" not in repr(value)
    assert repr(value) == "<secret FRED_API_KEY from ssm:/dataflight/FRED_API_KEY>"
    assert secret("NEVER_SET") is None


def test_secret_on_mock_ignores_the_environment(secret):
    # The developer's real key in the environment must not make a mock run pass.
    assert secret("POLYGON_API_KEY") is None


def test_api_urls(api_urls):
    assert set(api_urls) == {"fred"}
    assert api_urls["fred"].startswith("http://127.0.0.1:")
    assert api_urls["fred"].endswith("/fred")


def test_http_reaches_the_stub(http, api_urls):
    response = http.get(api_urls["fred"] + "/fred/series/observations", params={"limit": 1})
    assert response.status_code == 200
    assert response.json() == {"observations": [{"value": "4.33"}]}
    assert http.get(api_urls["fred"] + "/fred/undeclared").status_code == 404


def test_http_times_out_on_a_hanging_route(http, api_urls, monkeypatch):
    # One retry of the read, then the timeout (wrapped by urllib3's retry budget).
    monkeypatch.setattr("pytest_dataflight.fixtures.HTTP_READ_TIMEOUT_S", 0.5)
    with pytest.raises(requests.exceptions.ConnectionError, match="read timeout=0.5"):
        http.get(api_urls["fred"] + "/fred/slow")


def test_evidence(evidence):
    evidence["last_row"] = dt.date(2026, 4, 17)
    evidence["tickers"] = [f"T{i}" for i in range(60)]
""".replace("THE_CANARY", CANARY)


def _evidence(result: pytest.RunResult, name: str) -> Any:
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        if report.nodeid.endswith(name) and report.when == "teardown":
            return dict(report.user_properties).get("dataflight_evidence")
    raise AssertionError(f"no teardown report for {name}")


def test_every_fixture_on_the_mock_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a suite whose seed hook writes JSON, an ArcticDB symbol, a secret and
    # HTTP routes, and a developer shell that holds a real-looking API key
    pytester.makeconftest(SEED)
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    monkeypatch.setenv("POLYGON_API_KEY", "developer-real-key")
    mine_before = moto_pids(parent=os.getpid())
    # When it runs on the mock target
    result = pytester.runpytest(*MOCK_ARGS)
    # Then every fixture works, and a missing library fails the test that asked, by name
    result.assert_outcomes(passed=13, failed=1)
    failed = [r.nodeid for r in result.reprec.getfailures()]  # type: ignore[attr-defined]
    assert failed == ["test_fixtures.py::test_arctic_library_missing"]
    # in one line, without a traceback: a missing library is a known failure
    result.stdout.fnmatch_lines(
        ["ArcticDB library 'universe' does not exist (libraries present: macro)"]
    )
    assert "LookupError" not in result.stdout.str()
    # And the evidence was recorded as plain JSON, long lists cut with a count
    evidence = _evidence(result, "test_evidence")
    assert evidence["last_row"] == "2026-04-17"
    assert evidence["tickers"]["total"] == 60
    assert evidence["tickers"]["truncated"] == 10
    # And the secret's value reached no output
    assert CANARY not in result.stdout.str() + result.stderr.str()
    # And the mock world's moto_server ended with the run
    assert moto_pids(parent=os.getpid()) == mine_before


FIXTURES_AND_DOCS = {
    "run_date": "The pipeline's logical date*",
    "target": "The resolved target*",
    "bucket": "The bucket under check*",
    "s3": "A boto3 S3 client with timeouts and bounded retries*",
    "arctic": "An ``arcticdb.Arctic`` on the bucket's ``arcticdb/`` prefix*",
    "arctic_library": "``arctic_library(name)`` -> the ArcticDB library*",
    "trading_calendar": "NYSE (XNYS) sessions from ``exchange_calendars``*",
    "secret": "``secret(name)`` -> its value from SSM*",
    "api_urls": "Base URL of each external API the suite declares*",
    "http": "A ``requests.Session`` whose every call has connect/read timeouts*",
    "evidence": "Record JSON facts for the report*",
}


def test_pytest_fixtures_lists_each_fixture_with_its_docstring(pytester: pytest.Pytester) -> None:
    # Given any directory; when pytest --fixtures runs
    result = pytester.runpytest(*NO_CACHE, "--fixtures")
    # Then each of the plugin's fixtures is listed with the first line of its docstring
    assert result.ret == pytest.ExitCode.OK
    for name, doc in FIXTURES_AND_DOCS.items():
        result.stdout.fnmatch_lines([f"{name} *pytest_dataflight*", f"    {doc}"], consecutive=True)
