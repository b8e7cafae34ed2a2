"""An external API's outage is retried, then reported as an error (retry), never a failure.

DESIGN.md, "Failed or error?": after the ``http`` fixture's bounded retries, no
answer, a timeout, a 5xx or a 429 make a probe *error*; a blip that the retries
ride out passes. The API is the mock world's real HTTP stub on 127.0.0.1.
"""

from __future__ import annotations

import pytest
from report_helpers import MOCK_ARGS, run

pytestmark = pytest.mark.usefixtures("clean_env")

CONFTEST = """
def pytest_dataflight_apis():
    return {{"quotes": "https://quotes.invalid"}}


def pytest_dataflight_seed(world):
    world.http.route("quotes", "/v1/ping", body={{"ok": True}}, fail_first={fail_first})
"""
PROBE = """
from pytest_dataflight import ApiUnavailable, contract


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_quotes_reachable(http, api_urls):
    answer = http.get(api_urls["quotes"] + "/v1/ping")
    if answer.status_code >= 500:
        raise ApiUnavailable(f"quotes answered {answer.status_code} after the retries")
    assert answer.json() == {"ok": True}
"""


def test_a_blip_the_retries_ride_out_passes(pytester: pytest.Pytester) -> None:
    # Given an API that answers 503 twice, then as itself
    pytester.makeconftest(CONFTEST.format(fail_first=2))
    pytester.makepyfile(test_probe=PROBE)
    # When its probe runs
    result, report = run(pytester, *MOCK_ARGS)
    # Then the third attempt holds: the probe passes
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert report["contracts"][0]["outcome"] == "passed"


def test_an_outage_past_the_retries_is_an_error_to_retry(pytester: pytest.Pytester) -> None:
    # Given an API that answers 503 three times in a row (every attempt of the probe)
    pytester.makeconftest(CONFTEST.format(fail_first=3))
    pytester.makepyfile(test_probe=PROBE)
    # When its probe runs
    result, report = run(pytester, *MOCK_ARGS)
    # Then it errors with one line (the orchestrator retries), it does not fail
    entry = report["contracts"][0]
    assert (entry["outcome"], report["status"]) == ("error", "error")
    assert entry["message"] == "ApiUnavailable: quotes answered 503 after the retries"
    assert report["consumers"] == {"producer": "blocked"}
    assert "Traceback" not in result.stdout.str()
