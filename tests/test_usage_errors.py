"""Each usage error: exit 4, one clear line on stderr saying how to fix it, no traceback."""

from __future__ import annotations

import json

import pytest
from plugin_helpers import (
    NO_CACHE,
    assert_no_traceback,
    stderr_problems,
)

pytestmark = pytest.mark.usefixtures("clean_env")

# A data suite: its conftest implements the plugin's seed hook.
SEEDED_CONFTEST = """
def pytest_dataflight_seed(world):
    world.put_json("x.json", {})
"""
FAULTS_CONFTEST = """
def pytest_dataflight_seed(world):
    world.put_json("x.json", {})


def _stale(world):
    "make it stale"


def _gone(world):
    "remove it"


def pytest_dataflight_faults():
    return {"stale_pointer": _stale, "missing_macro": _gone}
"""
# A data suite without any hook: one contract is enough.
CONTRACT_ONLY = """
from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer():
    pass
"""
PLAIN = """
def test_plain():
    assert 1 + 1 == 2
"""


def assert_usage_error(result: pytest.RunResult, *lines: str) -> None:
    """Exit 4; stderr holds exactly ``lines`` (fnmatch patterns), the first after "ERROR: "."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    problems = stderr_problems(result)
    assert len(problems) == len(lines), problems
    result.stderr.fnmatch_lines([f"ERROR: {lines[0]}", *lines[1:]], consecutive=True)
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "value", ["2026-02-30", "tomorrow", "2026-W16-6", "2026-108", "２０２６-04-18"]
)
def test_invalid_run_date(pytester: pytest.Pytester, value: str) -> None:
    # Given a data suite
    pytester.makeconftest(SEEDED_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    # When the run date is not a real calendar date
    result = pytester.runpytest(*NO_CACHE, "--target", "mock", "--run-date", value)
    # Then it is a usage error naming the value and the expected form
    assert_usage_error(
        result,
        f"invalid run date '{value}': expected a real calendar date as YYYY-MM-DD, "
        "e.g. --run-date 2026-04-18",
    )


def test_invalid_run_date_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    monkeypatch.setenv("DATAFLIGHT_RUN_DATE", "tomorrow")
    result = pytester.runpytest(*NO_CACHE)
    assert_usage_error(result, "invalid run date 'tomorrow'*")


def test_data_suite_with_hooks_needs_a_target(pytester: pytest.Pytester) -> None:
    # Given a suite whose conftest seeds a mock world
    pytester.makeconftest(SEEDED_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    # When it runs with a run date but no target
    result = pytester.runpytest(*NO_CACHE, "--run-date", "2026-04-18")
    # Then it says how to choose one, rather than silently picking one
    assert_usage_error(
        result,
        "a data suite needs a target: add --target mock * or --target live *"
        "or set DATAFLIGHT_TARGET",
    )


def test_a_contract_alone_makes_a_data_suite(pytester: pytest.Pytester) -> None:
    # Given a file with one @contract test and no conftest hook at all
    pytester.makepyfile(test_contract=CONTRACT_ONLY)
    # When it runs with a run date but no target
    result = pytester.runpytest(*NO_CACHE, "--run-date", "2026-04-18")
    # Then it is the same usage error, and the contract did not run
    assert_usage_error(result, "a data suite needs a target: *")
    assert "1 passed" not in result.stdout.str()


def test_unknown_target(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest(*NO_CACHE, "--target", "mars", "--run-date", "2026-04-18")
    assert_usage_error(
        result,
        "unknown target 'mars': choose --target live or --target mock (or set DATAFLIGHT_TARGET)",
    )


def test_live_target_needs_a_bucket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_contract=CONTRACT_ONLY)
    result = pytester.runpytest(*NO_CACHE, "--target", "live", "--run-date", "2026-04-18")
    assert_usage_error(
        result,
        "--target live needs a bucket: set DATAFLIGHT_BUCKET to the bucket the pipeline writes",
    )


def test_every_missing_setting_is_listed_at_once(pytester: pytest.Pytester) -> None:
    # Given a data suite run with neither a target nor a run date
    pytester.makeconftest(SEEDED_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    result = pytester.runpytest(*NO_CACHE)
    # Then both are named, one line each
    assert_usage_error(
        result,
        "a data suite needs a target: *",
        "a data suite needs a run date: add --run-date YYYY-MM-DD or set DATAFLIGHT_RUN_DATE",
    )


def test_every_invalid_setting_is_listed_at_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest(
        *NO_CACHE, "--target", "mars", "--run-date", "x", "--mock-fault", "f"
    )
    assert_usage_error(
        result,
        "invalid run date 'x'*",
        "unknown target 'mars'*",
        "--mock-fault applies to the mock world only: add --target mock (got target unset)",
    )


def test_unknown_mock_fault_lists_the_known_ones(pytester: pytest.Pytester) -> None:
    # Given a suite that defines two faults
    pytester.makeconftest(FAULTS_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    # When a fault it does not define is asked for
    result = pytester.runpytest(
        *NO_CACHE, "--target", "mock", "--run-date", "2026-04-18", "--mock-fault", "nope"
    )
    # Then the error names it and lists the known ones (no mock world was started)
    assert_usage_error(
        result, "unknown --mock-fault nope; known faults: missing_macro, stale_pointer"
    )


def test_mock_fault_in_a_suite_without_faults(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SEEDED_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    result = pytester.runpytest(
        *NO_CACHE, "--target", "mock", "--run-date", "2026-04-18", "--mock-fault", "nope"
    )
    assert_usage_error(
        result, "unknown --mock-fault nope; known faults: none: the suite defines no faults"
    )


@pytest.mark.parametrize("target", [None, "live"])
def test_mock_fault_needs_the_mock_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, target: str | None
) -> None:
    pytester.makeconftest(FAULTS_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "prod-bucket")
    args = [*NO_CACHE, "--run-date", "2026-04-18", "--mock-fault", "stale_pointer"]
    if target:
        args += ["--target", target]
    result = pytester.runpytest(*args)
    expected = [
        "--mock-fault applies to the mock world only: add --target mock "
        f"(got target {target or 'unset'})"
    ]
    if target is None:
        # Every problem at once: the missing target is named too.
        expected.append("a data suite needs a target: *")
    assert_usage_error(result, *expected)


def test_a_plain_run_needs_no_target(pytester: pytest.Pytester) -> None:
    # Given tests that are not data contracts, and no conftest hook
    pytester.makepyfile(test_plain=PLAIN)
    # When they run without any dataflight option
    result = pytester.runpytest(*NO_CACHE)
    # Then they just run
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert stderr_problems(result) == []


def test_every_missing_setting_is_listed_with_the_bad_ones(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a data suite, a bad run date and no target, when it runs, then both in one go.
    pytester.makeconftest(FAULTS_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    result = pytester.runpytest(*NO_CACHE, "--run-date", "tomorrow")
    assert_usage_error(result, "invalid run date 'tomorrow'*", "a data suite needs a target: *")


@pytest.mark.parametrize("run_date", ["1990-01-05", "1991-12-31"])
def test_run_date_without_the_history_a_run_reads_is_a_usage_error(
    pytester: pytest.Pytester, run_date: str
) -> None:
    # Given a data suite; when the run date leaves the calendar no two years to read back
    pytester.makeconftest(FAULTS_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    result = pytester.runpytest(*NO_CACHE, "--run-date", run_date, "--target", "mock")
    # Then it is a usage error naming the first run date that works, not a retryable error
    assert_usage_error(
        result,
        f"run date {run_date} is out of range: a run reads up to 2 years of sessions before "
        "its run date and the XNYS calendar starts on 1990-01-01; "
        "choose a run date from 1992-01-01",
    )


# A mock world that seeds more history than the calendar can answer for.
DEEP_HISTORY_CONFTEST = """
import datetime as dt


def pytest_dataflight_seed(world):
    world.calendar.previous_sessions(dt.date(1992, 1, 3), 2000)
"""
DEEP_HISTORY_CONTRACT = """
from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer(s3):
    pass
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_run_date_the_mock_world_cannot_seed_is_a_usage_error(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    # Given a mock world whose history for this run date reaches before the calendar
    pytester.makeconftest(DEEP_HISTORY_CONFTEST)
    pytester.makepyfile(test_data=DEEP_HISTORY_CONTRACT)
    # When the suite runs, serially or on workers
    args = (*NO_CACHE, "--run-date", "1992-01-03", "--target", "mock", *workers)
    # (xdist workers are processes of their own: so is the run.)
    result = pytester.runpytest_subprocess(*args) if workers else pytester.runpytest(*args)
    # Then it is a usage error (exit 4) saying why, not an error to retry
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(
        ["ERROR: the mock target cannot serve run date 1992-01-03: XNYS calendar cannot answer*"]
    )
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    assert (report["status"], report["exit_code"]) == ("error", 4)


@pytest.mark.parametrize("run_date", ["1985-01-05", "2080-01-06"])
def test_run_date_the_calendar_cannot_know_is_a_usage_error(
    pytester: pytest.Pytester, run_date: str
) -> None:
    pytester.makeconftest(FAULTS_CONFTEST)
    pytester.makepyfile(test_data=PLAIN)
    result = pytester.runpytest(*NO_CACHE, "--run-date", run_date, "--target", "mock")
    assert_usage_error(result, f"run date {run_date} is out of range: XNYS calendar cannot*")
