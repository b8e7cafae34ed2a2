"""Every way a run can end leaves a valid report, and the headline is pytest's last line.

Given / When / Then: each test sets up a tiny suite in the pytester directory,
runs pytest on it and reads the report through ``report_helpers.run``, which
validates it against the shipped JSON Schema.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from report_helpers import (
    MOCK_ARGS,
    REPORT_NAME,
    by_name,
    dead_live_target,
    last_line,
    load_report,
    outcomes,
    run,
)

# A small world for the one run that needs a real store: the weekly pointer is stale.
MOCK_CONFTEST = """
def pytest_dataflight_seed(world):
    world.put_json("weekly/latest.json", {"run_date": "2026-04-10"})
    world.put_json(f"macro/{world.run_date}/macro.json", {"rows": 12})
"""

MOCK_CONTRACTS = """
import json
import pytest
from pytest_dataflight import contract

def read_json(s3, bucket, key):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

@contract(stage="preflight", phases=["phase1"], consumers=["producer"])
def test_s3_bucket_reachable(s3, bucket):
    s3.head_bucket(Bucket=bucket)

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda", "spot_phase1"])
def test_latest_weekly_pointer(s3, bucket, run_date, evidence):
    pointer = read_json(s3, bucket, "weekly/latest.json")["run_date"]
    evidence["pointer"] = pointer
    evidence["expected"] = run_date
    assert pointer == run_date.isoformat(), (
        f"weekly/latest.json points at {pointer}, expected {run_date}"
    )

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda"])
def test_macro_json(s3, bucket, run_date, evidence):
    macro = read_json(s3, bucket, f"macro/{run_date}/macro.json")
    evidence["rows"] = macro["rows"]
    assert macro["rows"] >= 10

@contract(stage="postflight", phases=["phase2"], consumers=["dashboard"], severity="warn")
def test_short_interest_present(s3, bucket):
    found = s3.list_objects_v2(Bucket=bucket, Prefix="short_interest/").get("KeyCount", 0)
    assert found > 0, f"no files under short_interest/ (found {found}, expected at least 1)"

@contract(stage="postflight", phases=["phase2"], consumers=["spot_phase2"])
def test_alternative_manifest():
    pytest.skip("optional artifact alternative/manifest.json is absent")
"""

# Contracts that need no store: the run costs no moto server.
PLAIN_CONTRACTS = """
import pytest
from pytest_dataflight import contract

@contract(stage="postflight", phases=["daily"], consumers=["research_lambda"])
def test_daily_spy_fresh(evidence):
    evidence["last_row"] = "2026-04-17"

@contract(stage="postflight", phases=["daily"], consumers=["dashboard"], severity="warn")
def test_fmp_quota(evidence):
    evidence["calls_left"] = 3
    assert 3 > 10, "3 API calls left today, expected more than 10"
"""


pytestmark = pytest.mark.usefixtures("clean_env")


def test_all_pass_exit_0_and_warn_contracts_do_not_change_it(pytester: pytest.Pytester) -> None:
    # Given contracts that hold, one warn contract that does not
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When
    result, report = run(pytester, *MOCK_ARGS)
    # Then the warn contract is listed as warned and the run passes
    assert result.ret == pytest.ExitCode.OK
    assert (report["status"], report["exit_code"]) == ("passed", 0)
    assert outcomes(report) == {"daily_spy_fresh": "passed", "fmp_quota": "warned"}
    warned = by_name(report)["fmp_quota"]
    assert warned["message"].startswith("AssertionError: 3 API calls left today")
    assert warned["evidence"] == {"calls_left": 3}
    assert report["consumers"] == {"dashboard": "ok", "research_lambda": "ok"}
    result.stdout.fnmatch_lines(["*1 passed, 1 warned in *"])
    assert last_line(result) == report["headline"]
    assert report["headline"] == (
        "dataflight PASSED run-date=2026-04-18 target=mock: 1 of 2 contracts held, 1 warned"
    )


def test_data_failure_exit_1_failed_names_contracts_and_blocked_consumers(
    pytester: pytest.Pytester,
) -> None:
    # Given a mock world whose weekly pointer is a week old
    pytester.makeconftest(MOCK_CONFTEST)
    pytester.makepyfile(test_contracts=MOCK_CONTRACTS)
    # When the suite runs against it
    result, report = run(pytester, *MOCK_ARGS)
    # Then the run failed on data, and says who must not start
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (report["status"], report["exit_code"]) == ("failed", 1)
    assert outcomes(report) == {
        "s3_bucket_reachable": "passed",
        "latest_weekly_pointer": "failed",
        "macro_json": "passed",
        "short_interest_present": "warned",
        "alternative_manifest": "skipped",
    }
    pointer = by_name(report)["latest_weekly_pointer"]
    assert "weekly/latest.json points at 2026-04-10, expected 2026-04-18" in pointer["message"]
    assert pointer["evidence"] == {"pointer": "2026-04-10", "expected": "2026-04-18"}
    assert (pointer["stage"], pointer["phases"], pointer["severity"]) == (
        "postflight",
        ["phase1"],
        "error",
    )
    assert report["consumers"] == {
        "dashboard": "ok",
        "producer": "ok",
        "research_lambda": "blocked",
        "spot_phase1": "blocked",
        # Its only contract skipped: nobody vouched, so it must not start either
        "spot_phase2": "unchecked",
    }
    assert report["blocked_consumers"] == ["research_lambda", "spot_phase1"]
    assert [f["contract"] for f in report["failures"]] == ["latest_weekly_pointer"]
    assert by_name(report)["alternative_manifest"]["message"] == (
        "optional artifact alternative/manifest.json is absent"
    )
    # pytest-json-report's readers find their keys.
    assert report["summary"]["failed"] == 1 and report["summary"]["total"] == 5
    assert {t["nodeid"] for t in report["tests"]} == {e["nodeid"] for e in report["contracts"]}
    # The terminal: a table above, the headline as the very last line.
    result.stdout.fnmatch_lines(
        [
            "*dataflight: 5 contracts, status failed*",
            "contract * outcome * duration  consumers",
            "latest_weekly_pointer * failed * research_lambda, spot_phase1",
            "short_interest_present * warned * dashboard",
            f"dataflight report: {pytester.path / REPORT_NAME}",
        ]
    )
    assert last_line(result) == report["headline"]
    assert report["headline"].startswith(
        "dataflight FAILED run-date=2026-04-18 target=mock: 1 of 5 failed - "
        "latest_weekly_pointer [failed] -> research_lambda, spot_phase1 ("
    )
    assert report["headline"].endswith("| blocked: research_lambda, spot_phase1")


def test_infrastructure_errors_only_exit_1_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live target whose S3 endpoint refuses connections
    pytester.makepyfile(
        test_contracts="""
        from pytest_dataflight import contract

        @contract(stage="preflight", phases=["phase1"], consumers=["producer"])
        def test_s3_bucket_reachable(s3, bucket):
            s3.head_bucket(Bucket=bucket)

        @contract(stage="postflight", phases=["phase1"], consumers=["research_lambda"])
        def test_macro_json(s3, bucket):
            s3.get_object(Bucket=bucket, Key="macro.json")

        @contract(stage="postflight", phases=["phase1"], consumers=["dashboard"])
        def test_needs_no_store():
            pass
        """
    )
    with dead_live_target(monkeypatch) as endpoint:
        # When
        result, report = run(
            pytester, "-p", "no:cacheprovider", "--target", "live", "--run-date", "2026-04-18"
        )
    # Then nothing is "failed": the store could not be asked (the orchestrator may retry)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (report["status"], report["exit_code"], report["target"]) == ("error", 1, "live")
    assert outcomes(report) == {
        "s3_bucket_reachable": "error",
        "macro_json": "error",
        "needs_no_store": "passed",
    }
    assert endpoint in by_name(report)["s3_bucket_reachable"]["message"]
    assert report["blocked_consumers"] == ["producer", "research_lambda"]
    assert report["consumers"]["dashboard"] == "ok"
    assert "2 of 3 could not be evaluated" in report["headline"]
    assert last_line(result) == report["headline"]


def test_usage_error_in_configure_exit_4_report_at_env_path(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an impossible run date, and the report path set in the environment
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    monkeypatch.setenv("DATAFLIGHT_REPORT", "reports/from-env.json")
    # When pytest refuses to start
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--target", "mock", "--run-date", "2026-02-30"
    )
    # Then the report still says why, at the configured path
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    report = load_report(pytester.path / "reports" / "from-env.json")
    assert (report["status"], report["exit_code"]) == ("error", 4)
    assert report["reason"].startswith("usage error: invalid run date '2026-02-30'")
    assert (report["run_date"], report["target"]) == (None, "mock")
    assert report["contracts"] == []
    result.stderr.fnmatch_lines(["ERROR: invalid run date '2026-02-30'*"])
    assert last_line(result) == report["headline"]
    assert "usage error: invalid run date '2026-02-30'" in report["headline"]


def test_usage_error_from_ini_values_uses_the_ini_report_path(pytester: pytest.Pytester) -> None:
    # Given an unknown target and the report path, both from the ini file
    pytester.makeini(
        """
        [pytest]
        dataflight_target = moon
        dataflight_report = ini-report.json
        """
    )
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When
    result = pytester.runpytest("-p", "no:cacheprovider", "--run-date", "2026-04-18")
    # Then
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    report = load_report(pytester.path / "ini-report.json")
    assert "unknown target 'moon'" in report["reason"]
    assert (report["run_date"], report["target"]) == ("2026-04-18", None)


def test_data_suite_without_target_exit_4_lists_what_is_missing(pytester: pytest.Pytester) -> None:
    # Given contracts, but neither --target nor --run-date (found only after collection)
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When
    result, report = run(pytester, "-p", "no:cacheprovider")
    # Then
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (report["status"], report["exit_code"]) == ("error", 4)
    assert "a data suite needs a target" in report["reason"]
    assert "a data suite needs a run date" in report["reason"]
    assert set(outcomes(report).values()) == {"not_run"}
    assert by_name(report)["daily_spy_fresh"]["message"] == "not run: usage error"
    assert last_line(result) == report["headline"]


def test_collection_error_leaves_a_valid_report(pytester: pytest.Pytester) -> None:
    # Given one contract file that does not even parse
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    pytester.makepyfile(test_broken="from pytest_dataflight import contract\ndef test_x(:\n")
    # When
    result, report = run(pytester, *MOCK_ARGS)
    # Then pytest stops (exit 2) and the report names the file and what did not run
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (report["status"], report["exit_code"]) == ("error", 2)
    broken = by_name(report)["test_broken.py"]
    assert (broken["outcome"], broken["nodeid"]) == ("error", "test_broken.py")
    assert broken["message"].startswith("SyntaxError: invalid syntax")
    assert (
        "test_broken.py [error] -> no consumers (SyntaxError: invalid syntax)"
        in (report["headline"])
    )
    assert by_name(report)["daily_spy_fresh"] == {
        **by_name(report)["daily_spy_fresh"],
        "outcome": "not_run",
        "message": "not run: 1 error during collection",
    }
    assert report["reason"] == "stopped: 1 error during collection"
    assert last_line(result) == report["headline"]


def test_exception_in_a_plugin_hook_exit_3(pytester: pytest.Pytester) -> None:
    # Given a conftest hook that breaks after the first contract
    pytester.makeconftest(
        """
        def pytest_runtest_logfinish(nodeid, location):
            raise RuntimeError("hook exploded")
        """
    )
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When
    result, report = run(pytester, *MOCK_ARGS)
    # Then
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert (report["status"], report["exit_code"]) == ("error", 3)
    assert report["reason"] == "internal error: RuntimeError: hook exploded"
    assert outcomes(report) == {"daily_spy_fresh": "passed", "fmp_quota": "not_run"}
    assert by_name(report)["fmp_quota"]["message"] == "not run: internal error"
    assert last_line(result) == report["headline"]


def test_report_that_cannot_be_written_is_a_usage_error_before_any_check(
    pytester: pytest.Pytester,
) -> None:
    # Given a report path whose parent is a file
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    (pytester.path / "not-a-dir").write_text("")
    # When
    result = pytester.runpytest(*MOCK_ARGS, "--dataflight-report", "not-a-dir/report.json")
    # Then the run stops before any contract, saying why; the orchestrator finds no
    # report, and the exit code says not to go on
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: cannot write the report to *not-a-dir/report.json: a file stands where*"]
    )
    assert not any("::test_" in line for line in result.outlines)


def test_report_path_on_procfs_is_a_usage_error_before_any_check(
    pytester: pytest.Pytester,
) -> None:
    # Given a report path where nobody can create a file, root included (os.access says yes)
    pytester.makepyfile(
        test_contracts=PLAIN_CONTRACTS
        + """
import pathlib
pathlib.Path("ran").touch()
"""
    )
    # When
    result = pytester.runpytest(*MOCK_ARGS, "--dataflight-report", "/proc/dataflight-report.json")
    # Then the run stops before any contract, saying why
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: cannot write the report to /proc/dataflight-report.json*"])
    assert not any("::test_" in line for line in result.outlines)


def test_an_option_pytest_does_not_know_still_leaves_a_report(pytester: pytest.Pytester) -> None:
    # Given a data run with a mistyped option
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When pytest refuses it (argparse, before any configure)
    result, report = run(pytester, *MOCK_ARGS, "--run-dates", "2026-04-18", subprocess=True)
    # Then the orchestrator still finds a report for its run date, saying why
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --run-dates*"])
    assert (report["status"], report["exit_code"]) == ("error", 4)
    assert (report["run_date"], report["target"]) == ("2026-04-18", "mock")
    assert report["reason"] == "usage error: unrecognized arguments: --run-dates"


def test_nothing_collected_exit_5_is_an_error(pytester: pytest.Pytester) -> None:
    # Given a selection that matches no contract (a typo in -m, say)
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    # When
    result, report = run(pytester, *MOCK_ARGS, "-m", "phase3")
    # Then a run that checked nothing does not pass
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert (report["status"], report["exit_code"]) == ("error", 5)
    assert report["reason"].startswith("no contracts were collected")
    assert report["summary"] == {"total": 0, "collected": 2, "deselected": 2}
    # And nobody vouched for any consumer: unchecked, none ok (issue 16)
    assert report["consumers"] == {"dashboard": "unchecked", "research_lambda": "unchecked"}
    assert report["blocked_consumers"] == []
    result.stdout.fnmatch_lines(["consumers: dashboard unchecked, research_lambda unchecked"])


def test_consumers_of_deselected_contracts_are_unchecked(pytester: pytest.Pytester) -> None:
    # Given a preflight contract for the producer and a postflight one for research
    pytester.makepyfile(
        test_contracts="""
from pytest_dataflight import contract

@contract(stage="preflight", phases=["phase1"], consumers=["producer"])
def test_secrets_present():
    pass

@contract(stage="postflight", phases=["phase1"], consumers=["research"])
def test_pointer():
    pass
"""
    )
    # When only the postflight contracts run, with the orchestrator's run id
    result, report = run(pytester, *MOCK_ARGS, "-m", "postflight", "--dataflight-run-id", "ex-7/2")
    # Then research is ok, and the producer, whose contract nobody ran, is unchecked
    assert result.ret == pytest.ExitCode.OK
    assert report["consumers"] == {"producer": "unchecked", "research": "ok"}
    assert report["run_id"] == "ex-7/2"


def test_runs_that_are_not_data_runs_write_no_report(pytester: pytest.Pytester) -> None:
    # Given a plain test suite of some project that has the plugin installed
    pytester.makepyfile("def test_plain():\n    assert True\n")
    # When it runs without any dataflight setting, or only lists the contracts
    plain = pytester.runpytest("-p", "no:cacheprovider")
    pytester.makepyfile(test_contracts=PLAIN_CONTRACTS)
    listing = pytester.runpytest(*MOCK_ARGS, "--collect-only")
    # Then no report file appears
    assert plain.ret == 0 and listing.ret == 0
    assert not (pytester.path / REPORT_NAME).exists()


INFO_SUITE_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--universe-sample", type=int, help="check a sample of the universe")


def pytest_dataflight_seed(world):
    world.put_json("x.json", {})
"""


@pytest.mark.parametrize(
    "shows", [("--help",), ("--version",), ("--fixtures",), ("--markers",), ("--collect-only",)]
)
@pytest.mark.parametrize("target", ["mock", "live"])
def test_informational_runs_never_write_or_replace_a_report(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    shows: tuple[str, ...],
    target: str,
) -> None:
    # Given a data suite in its own folder, and the last real report beside it and inside it
    suite = pytester.mkdir("datatests")
    (suite / "conftest.py").write_text(INFO_SUITE_CONFTEST)
    (suite / "test_contracts.py").write_text(PLAIN_CONTRACTS)
    last_real = '{"status": "passed", "run_id": "earlier"}'
    for folder in (pytester.path, suite):
        (folder / REPORT_NAME).write_text(last_real)
    args = ("-p", "no:cacheprovider", "--run-date", "2026-04-18", "--target", target)
    # When it only shows information, with the data options (live: without a bucket),
    # from the repository and from inside the suite's folder
    outer = pytester.runpytest("datatests", *args, *shows)
    monkeypatch.chdir(suite)
    inner = pytester.runpytest(".", *args, *shows)
    # Then each succeeds and leaves every report as it was, and writes no other one
    for result in (outer, inner):
        assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    for folder in (pytester.path, suite):
        assert (folder / REPORT_NAME).read_text() == last_real
    assert sorted(p.name for p in suite.iterdir() if p.suffix == ".json") == [REPORT_NAME]
    if shows == ("--help",):
        # and the help names the suite's own options
        outer.stdout.fnmatch_lines(["*--universe-sample*"])
        inner.stdout.fnmatch_lines(["*--universe-sample*"])


SIGNAL_CONTRACTS = """
import pathlib
import time
from pytest_dataflight import contract

@contract(stage="postflight", phases=["phase1"], consumers=["research_lambda"])
def test_first():
    pass

@contract(stage="postflight", phases=["phase1"], consumers=["spot_phase1"])
def test_slow_scan():
    pathlib.Path("started").touch()
    time.sleep(60)

@contract(stage="postflight", phases=["phase1"], consumers=["dashboard"])
def test_never_reached():
    pass
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_exit_2_partial_report(
    pytester: pytest.Pytester, signum: signal.Signals
) -> None:
    # Given a previous report at the path, and a run stuck in its second contract
    pytester.makepyfile(test_contracts=SIGNAL_CONTRACTS)
    previous = pytester.path / REPORT_NAME
    previous.write_text('{"previous": true}')
    started = pytester.path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *MOCK_ARGS],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job inherits SIGINT ignored; Python then never
        # raises KeyboardInterrupt. Give the child the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the slow contract never started"
            time.sleep(0.05)
        # While it runs, the previous report is still whole.
        assert previous.read_text() == '{"previous": true}'
        # When the orchestrator (SIGTERM) or a person (SIGINT) stops it
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Then: what ran, what did not, exit 2
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out + err
    report = load_report(previous)
    assert (report["status"], report["exit_code"]) == ("error", 2)
    assert outcomes(report) == {
        "first": "passed",
        "slow_scan": "not_run",
        "never_reached": "not_run",
    }
    assert by_name(report)["slow_scan"]["message"] == "interrupted"
    assert by_name(report)["never_reached"]["message"] == "interrupted"
    assert report["reason"] == f"interrupted ({signum.name})"
    # Nobody vouched for the consumers of what never ran: unchecked, never ok
    unchecked = {c for c, state in report["consumers"].items() if state == "unchecked"}
    assert unchecked == {"dashboard", "spot_phase1"}
    assert report["blocked_consumers"] == []
    assert [ln for ln in out.splitlines() if ln.strip()][-1] == report["headline"]
    assert [p.name for p in pytester.path.glob(f".{REPORT_NAME}.*")] == []  # no temp files
