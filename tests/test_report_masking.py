"""A canary secret appears nowhere: terminal, report, JUnit XML, log file, xdist included.

Given two canaries (one resolved through the ``secret`` fixture, one in an
environment variable the suite declares secret), contracts that leak them in
every way pytest shows text: assertion introspection, tracebacks, ``-l``
locals, captured stdout and logs, live logs, exception messages with the key
in a URL (requests' "Max retries exceeded with url: ...?api_key=..."),
fixture errors, collection errors, warn contracts and evidence.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from report_helpers import REPORT_NAME, closed_port, dead_live_target, run

CONFTEST = """
def pytest_dataflight_secret_names():
    return ["CANARY_ENV_TOKEN"]
"""

LEAKY_CONTRACTS = """
import logging
import os
import pytest
from pytest_dataflight import contract

log = logging.getLogger("canary")
DEAD_PORT = {port}


@pytest.fixture
def row_for_token():
    raise LookupError("no row for token " + os.environ["CANARY_ENV_TOKEN"])


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_key_compared(secret):
    key = secret("CANARY_API_KEY")
    raw = str(key)
    print("calling with", raw)
    log.warning("calling with key %s", raw)
    assert raw == "expected-other-value"


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_key_in_url_of_exception(http, secret):
    raw = str(secret("CANARY_API_KEY"))
    url = f"http://127.0.0.1:{{DEAD_PORT}}/fred/series?series_id=X&api_key={{raw}}"
    http.get(url, timeout=1)


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_env_secret_in_exception():
    token = os.environ["CANARY_ENV_TOKEN"]
    try:
        raise ValueError(f"inner {{token}}")
    except ValueError:
        log.exception("wrapped")
    raise RuntimeError(f"token {{token}} was rejected")


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_fixture_error(row_for_token):
    pass


@contract(stage="preflight", phases=["daily"], consumers=["dashboard"], severity="warn")
def test_warn_contract():
    assert os.environ["CANARY_ENV_TOKEN"] == "nope"


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_python_warning():
    import warnings
    warnings.warn("deprecated call with token " + os.environ["CANARY_ENV_TOKEN"])


@contract(stage="preflight", phases=["daily"], consumers=["producer"])
def test_evidence(evidence):
    evidence["token"] = os.environ["CANARY_ENV_TOKEN"]
    evidence["url"] = "http://host/x?apikey=" + os.environ["CANARY_ENV_TOKEN"]
"""

COLLECT_LEAK = """
import os
raise ImportError("cannot load with " + os.environ["CANARY_ENV_TOKEN"])
"""

OPTION_SETS = {
    "long-locals-junit-logs": [
        "-l",
        "--tb=long",
        "-rA",
        "--junitxml=junit.xml",
        "-o",
        "log_cli=true",
        "--log-cli-level=INFO",
        "--log-file=run.log",
    ],
    "short-vv": ["--tb=short", "-vv", "--showlocals", "-rA"],
    "native": ["--tb=native", "-rA", "--junitxml=junit.xml"],
    # -s: printed output goes straight to the terminal, past every test report.
    "capture-off": ["-s", "-rA"],
}


@pytest.fixture
def canaries(
    clean_env: None, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    api_key, env_token = f"cnry{secrets.token_hex(8)}", f"cnry{secrets.token_hex(8)}"
    monkeypatch.setenv("CANARY_API_KEY", api_key)
    monkeypatch.setenv("CANARY_ENV_TOKEN", env_token)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_canary=LEAKY_CONTRACTS.format(port=closed_port()))
    pytester.makepyfile(test_collect_leak=COLLECT_LEAK)
    return api_key, env_token


def outputs(pytester: pytest.Pytester, result: pytest.RunResult) -> dict[str, str]:
    texts = {
        "stdout": "\n".join(result.outlines),
        "stderr": "\n".join(result.errlines),
        "report": (pytester.path / REPORT_NAME).read_text(),
    }
    for name in ("junit.xml", "run.log"):
        path = Path(pytester.path / name)
        if path.exists():
            texts[name] = path.read_text()
    return texts


def assert_nowhere(texts: dict[str, str], *canaries: str) -> None:
    for canary in canaries:
        leaks = [name for name, text in texts.items() if canary in text]
        assert leaks == [], f"canary found in {leaks}"


def check_masked_run(
    pytester: pytest.Pytester, canaries: tuple[str, str], *args: str, subprocess: bool = False
) -> tuple[dict[str, str], dict[str, object]]:
    result, report = run(
        pytester,
        "-p",
        "no:cacheprovider",
        "--target",
        "live",
        "--run-date",
        "2026-04-18",
        "--continue-on-collection-errors",
        *args,
        subprocess=subprocess,
    )
    texts = outputs(pytester, result)
    assert_nowhere(texts, *canaries)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = {e["contract"]: e["outcome"] for e in report["contracts"]}  # type: ignore[index]
    assert outcomes == {
        "test_collect_leak.py": "error",
        "key_compared": "failed",
        "key_in_url_of_exception": "failed",
        "env_secret_in_exception": "failed",
        "fixture_error": "error",
        "warn_contract": "warned",
        "python_warning": "passed",
        "evidence": "passed",
    }
    # Masked, not dropped: the messages still say what happened.
    messages = {e["contract"]: e["message"] for e in report["contracts"]}  # type: ignore[index]
    assert "Max retries exceeded with url: /fred/series?series_id=X&api_key=***" in str(
        messages["key_in_url_of_exception"]
    )
    assert "token *** was rejected" in str(messages["env_secret_in_exception"])
    return texts, report


@pytest.mark.parametrize("options", sorted(OPTION_SETS))
def test_canary_appears_nowhere(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    canaries: tuple[str, str],
    options: str,
) -> None:
    with dead_live_target(monkeypatch):
        texts, report = check_masked_run(pytester, canaries, *OPTION_SETS[options])
    # The structure pytest prints survives masking: crash line, short summary.
    assert (
        "FAILED test_canary.py::test_key_compared - AssertionError: assert '***' == "
        in (texts["stdout"])
    )
    if "junit.xml" in texts:
        assert "token *** was rejected" in texts["junit.xml"]
    if "run.log" in texts:
        assert "calling with key ***" in texts["run.log"]
        assert "inner ***" in texts["run.log"]  # a logged traceback is masked too


def test_canary_appears_nowhere_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, canaries: tuple[str, str]
) -> None:
    # Secrets resolved on a worker are known only there: the worker masks before sending.
    with dead_live_target(monkeypatch):
        texts, _ = check_masked_run(
            pytester, canaries, "-n", "2", "-l", "-rA", "--junitxml=junit.xml", subprocess=True
        )
    assert "token *** was rejected" in texts["junit.xml"]


def test_runs_that_are_not_data_runs_keep_their_output(pytester: pytest.Pytester) -> None:
    # Given some other project's test that compares URLs with keys in them
    pytester.makepyfile(
        """
        def test_url():
            assert "https://h/x?api_key=abc123" == "https://h/x?api_key=def456"
        """
    )
    # When it runs without any dataflight setting
    result = pytester.runpytest("-p", "no:cacheprovider")
    # Then its diff is untouched
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*api_key=abc123*"])


def test_internal_error_traceback_is_masked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, canaries: tuple[str, str]
) -> None:
    # Given a plugin hook that breaks with the secret in its message
    pytester.makeconftest(
        CONFTEST
        + """
import os

def pytest_collection_modifyitems(items):
    raise RuntimeError("hook broke on " + os.environ["CANARY_ENV_TOKEN"])
"""
    )
    # When the run ends in INTERNALERROR
    with dead_live_target(monkeypatch):
        result, report = run(
            pytester, "-p", "no:cacheprovider", "--target", "live", "--run-date", "2026-04-18"
        )
    # Then pytest's INTERNALERROR traceback and the report say it, masked
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["INTERNALERROR>*hook broke on ****"])
    assert_nowhere(outputs(pytester, result), *canaries)
    assert "hook broke on ***" in str(report["reason"])
