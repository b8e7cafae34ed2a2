"""secret(): SSM first, then the environment; an SSM that does not answer is an error."""

from __future__ import annotations

import pytest
from plugin_helpers import closed_port, live_env

SUITE = """
from pytest_dataflight import contract

@contract(stage="preflight", phases=["weekly"], consumers=["producer"])
def test_key_present(secret):
    assert secret("API_KEY") is not None, "API_KEY missing"
"""


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("in_env, outcome", [(False, "errors"), (True, "passed")])
def test_ssm_not_answering(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, in_env: bool, outcome: str
) -> None:
    # Given SSM at a port nobody listens on
    live_env(monkeypatch, f"http://127.0.0.1:{closed_port()}", "some-bucket")
    if in_env:
        monkeypatch.setenv("API_KEY", "from-the-environment")
    pytester.makepyfile(test_contracts=SUITE)
    # When a contract asks for a secret
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--run-date", "2026-04-18", "--target", "live"
    )
    # Then the environment answers if it can; otherwise the check could not be evaluated
    if outcome == "passed":
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*StoreUnreachable: SSM Parameter Store did not answer*"])
