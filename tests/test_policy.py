"""The policy file: thresholds, severities and expiring waivers, validated before any run.

DESIGN.md, "Policy". A small suite declares thresholds and reads them from the
``thresholds`` fixture; a contract with subjects filters its findings through
``waivers``. Each test writes a policy file and runs the suite on the mock
target (a policy on S3 runs on a live moto of our own).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from plugin_helpers import NO_CACHE, assert_no_traceback, live_env, live_store, unique_bucket
from report_helpers import MOCK_ARGS, dead_live_target, run

pytestmark = pytest.mark.usefixtures("clean_env")

CONFTEST = """
def pytest_dataflight_seed(world):
    world.put_json("x.json", {})
"""
SUITE = """
import pytest
from pytest_dataflight import Threshold, contract, warn

LAGS = {"AAPL": 1, "BRK-B": 4, "BF-B": 5}


@contract(
    stage="postflight", phases=["phase1"], consumers=["predictor"],
    thresholds={"max_sessions_behind": Threshold(2, "count", "sessions")},
)
def test_fresh(thresholds, waivers, evidence):
    limit = thresholds["max_sessions_behind"]
    stale = [s for s, lag in LAGS.items() if lag > limit]
    stale, _ = waivers.split(stale, subject=lambda s: s)
    evidence["limit"] = limit
    assert not stale, f"{len(stale)} stale beyond {limit} sessions: {', '.join(stale)}"


@contract(
    stage="postflight", phases=["phase1"], consumers=["research"],
    thresholds={
        "min_ok_ratio": Threshold(0.4, "ratio"),
        "warn_at": Threshold(0.3, "ratio", at_most="min_ok_ratio"),
    },
)
def test_ratio(thresholds):
    assert 0.6 >= thresholds["min_ok_ratio"], f"0.6 < {thresholds['min_ok_ratio']}"


@contract(stage="postflight", phases=["phase1"], consumers=["dashboard"], severity="warn")
def test_quota():
    assert False, "3 API calls left today, expected more than 10"
"""


def write_policy(pytester: pytest.Pytester, text: str) -> Path:
    path = pytester.path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_with(pytester: pytest.Pytester, policy: str, *args: str) -> tuple[pytest.RunResult, dict]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    write_policy(pytester, policy)
    return run(pytester, *MOCK_ARGS, "--dataflight-policy", "policy.toml", *args)


def outcomes(report: dict) -> dict[str, str]:
    return {c["contract"]: c["outcome"] for c in report["contracts"]}


def test_without_a_policy_the_defaults_judge(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    result, report = run(pytester, *MOCK_ARGS)
    assert outcomes(report) == {"fresh": "failed", "ratio": "passed", "quota": "warned"}
    assert (report["policy"], report["waivers"]) == (None, [])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # Loosened past the worst lag: the stale contract now holds
        ("[contracts.fresh]\nmax_sessions_behind = 5\n", {"fresh": "passed", "ratio": "passed"}),
        # Tightened above what is measured: the ratio contract now fails
        ("[contracts.ratio]\nmin_ok_ratio = 0.7\n", {"fresh": "failed", "ratio": "failed"}),
    ],
)
def test_a_threshold_change_flips_the_verdict(
    pytester: pytest.Pytester, policy: str, expected: dict[str, str]
) -> None:
    result, report = run_with(pytester, policy)
    assert {k: v for k, v in outcomes(report).items() if k != "quota"} == expected
    # The report says which policy judged, and what it changed
    text = (pytester.path / "policy.toml").read_bytes()
    assert report["policy"]["path"] == "policy.toml"
    assert report["policy"]["sha256"] == hashlib.sha256(text).hexdigest()
    contract, values = next(iter(report["policy"]["overrides"].items()))
    assert contract in ("fresh", "ratio") and len(values) == 1


def test_a_value_equal_to_the_default_is_no_override(pytester: pytest.Pytester) -> None:
    _, report = run_with(pytester, "[contracts.fresh]\nmax_sessions_behind = 2\n")
    assert report["policy"]["overrides"] == {}


def test_demoted_to_warn_the_run_passes_and_blocks_nobody(pytester: pytest.Pytester) -> None:
    result, report = run_with(pytester, '[contracts.fresh]\nseverity = "warn"\n')
    assert outcomes(report)["fresh"] == "warned"
    assert result.ret == pytest.ExitCode.OK
    assert report["consumers"]["predictor"] == "ok" and report["blocked_consumers"] == []
    assert report["policy"]["overrides"] == {"fresh": {"severity": "warn"}}


def test_promoted_to_error_a_warn_contract_blocks(pytester: pytest.Pytester) -> None:
    policy = '[contracts.quota]\nseverity = "error"\n[contracts.fresh]\nmax_sessions_behind = 9\n'
    result, report = run_with(pytester, policy)
    assert outcomes(report)["quota"] == "failed"
    assert report["blocked_consumers"] == ["dashboard"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


WAIVER = """
[[waivers]]
contract = "fresh"
subjects = {subjects}
reason = "the fallback source serves these until the primary returns"
expires = {expires}
"""


def test_a_waiver_in_force_leaves_its_subjects_out_and_lists_them(
    pytester: pytest.Pytester,
) -> None:
    # Given a waiver of both stale symbols until after the run date
    result, report = run_with(
        pytester, WAIVER.format(subjects='["BRK-B", "BF-B"]', expires="2026-06-30")
    )
    # Then the contract holds, the waived findings stay in its evidence
    assert outcomes(report)["fresh"] == "passed"
    [entry] = [c for c in report["contracts"] if c["contract"] == "fresh"]
    assert [w.split(" (")[0] for w in entry["evidence"]["waived"]] == ["BRK-B", "BF-B"]
    # and the report and terminal say what the waiver did
    [waiver] = report["waivers"]
    assert (waiver["state"], waiver["waived"], waiver["expires"]) == ("applied", 2, "2026-06-30")
    result.stdout.fnmatch_lines(
        ["waiver applied: fresh BRK-B, BF-B (2 findings waived, until 2026-06-30)*"]
    )
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("expires", ["2026-04-18", "2026-01-31"])  # on the run date: expired
def test_an_expired_waiver_is_not_applied_and_says_so(
    pytester: pytest.Pytester, expires: str
) -> None:
    result, report = run_with(
        pytester, WAIVER.format(subjects='["BRK-B", "BF-B"]', expires=expires)
    )
    assert outcomes(report)["fresh"] == "failed"
    assert report["waivers"][0]["state"] == "expired"
    result.stdout.fnmatch_lines(
        [f"waiver expired: fresh BRK-B, BF-B (expired {expires}, not applied)*"]
    )


def test_a_waiver_that_matched_nothing_is_unused(pytester: pytest.Pytester) -> None:
    policy = WAIVER.format(subjects='["MOG-A"]', expires="2026-06-30")
    _, report = run_with(pytester, policy + "[contracts.fresh]\nmax_sessions_behind = 9\n")
    assert report["waivers"][0]["state"] == "unused"
    assert report["waivers"][0]["waived"] == 0


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ("[contracts.fresh\nmax_sessions_behind = 3\n", "not valid TOML: * (at line 1, column *)"),
        (
            "[contracts.stale]\nmax_sessions_behind = 3\n",
            "[[]contracts.stale[]]: no contract of this suite is named 'stale'",
        ),
        (
            "[contracts.fresh]\nmax_lag = 3\n",
            "[[]contracts.fresh[]] max_lag: unknown threshold "
            "(the contract declares: max_sessions_behind)",
        ),
        (
            '[contracts.fresh]\nmax_sessions_behind = "3"\n',
            "[[]contracts.fresh[]] max_sessions_behind = '3': "
            "expected a whole number from 0, got str",
        ),
        (
            "[contracts.fresh]\nmax_sessions_behind = -1\n",
            "*max_sessions_behind = -1: expected a whole number from 0, got -1",
        ),
        (
            "[contracts.fresh]\nmax_sessions_behind = 2.5\n",
            "*max_sessions_behind = 2.5: expected a whole number from 0, got 2.5",
        ),
        (
            "[contracts.ratio]\nmin_ok_ratio = 1.5\n",
            "*min_ok_ratio = 1.5: expected a ratio from 0 to 1, got 1.5",
        ),
        (
            '[contracts.fresh]\nseverity = "fatal"\n',
            "[[]contracts.fresh[]] severity = 'fatal': expected 'error' or 'warn'",
        ),
        (
            '[[waivers]]\ncontract = "fresh"\nsubjects = ["BRK-B"]\nexpires = 2026-06-30\n',
            "[[][[]waivers[]][]] #1 lacks reason (every waiver needs all four)",
        ),
        (
            '[[waivers]]\ncontract = "fresh"\nsubjects = ["BRK-B"]\nreason = "r"\n'
            'expires = "2026-06-30"\n',
            "[[][[]waivers[]][]] #1 expires = '2026-06-30': expected a TOML date*",
        ),
        (
            '[[waivers]]\ncontract = "gone"\nsubjects = ["BRK-B"]\nreason = "r"\n'
            "expires = 2026-06-30\n",
            "[[][[]waivers[]][]] #1 contract = 'gone': no contract of this suite has this name",
        ),
        (
            "[contracts.ratio]\nwarn_at = 0.5\n",
            "[[]contracts.ratio[]] warn_at = 0.5 is above min_ok_ratio = 0.4: "
            "the soft limit must not exceed the hard one",
        ),
        (
            "[thresholds]\nx = 1\n",
            "unknown key 'thresholds': expected [[]contracts.<name>[]] or [[][[]waivers[]][]]",
        ),
    ],
)
def test_each_bad_policy_is_a_usage_error_naming_the_file_and_key(
    pytester: pytest.Pytester, policy: str, problem: str
) -> None:
    result, report = run_with(pytester, policy)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([f"ERROR: policy policy.toml: {problem}"])
    # Nothing ran on the defaults: the report says the usage error
    assert report["status"] == "error" and report["exit_code"] == 4
    assert {c["outcome"] for c in report["contracts"]} <= {"not_run"}
    assert_no_traceback(result)


def test_a_policy_file_that_does_not_exist_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    result, report = run(pytester, *MOCK_ARGS, "--dataflight-policy", "nowhere.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: policy nowhere.toml: no such file (*nowhere.toml)"])
    assert report["exit_code"] == 4


def test_a_policy_from_the_environment_and_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    write_policy(pytester, "[contracts.fresh]\nmax_sessions_behind = 5\n")
    pytester.makeini("[pytest]\ndataflight_policy = nowhere.toml\n")
    monkeypatch.setenv("DATAFLIGHT_POLICY", "policy.toml")  # env before ini
    _, report = run(pytester, *MOCK_ARGS)
    assert report["policy"]["path"] == "policy.toml"
    assert outcomes(report)["fresh"] == "passed"


def test_the_policy_holds_on_xdist_workers(pytester: pytest.Pytester) -> None:
    result, report = run_with(
        pytester,
        '[contracts.fresh]\nmax_sessions_behind = 5\n[contracts.quota]\nseverity = "error"\n',
        "-n",
        "2",
    )
    assert outcomes(report) == {"fresh": "passed", "ratio": "passed", "quota": "failed"}
    assert report["policy"]["overrides"] == {
        "fresh": {"max_sessions_behind": 5},
        "quota": {"severity": "error"},
    }


LIVE_SUITE = """
from pytest_dataflight import Threshold, contract


@contract(
    stage="preflight", phases=[], consumers=["producer"],
    thresholds={"max_missing": Threshold(0, "count")},
)
def test_missing(thresholds):
    assert 1 <= thresholds["max_missing"], f"1 missing, at most {thresholds['max_missing']}"
"""


def test_a_policy_on_s3(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    with live_store() as store:
        # Given the policy in the pipeline's own bucket, and one key that holds none
        bucket = unique_bucket(request)
        store.create_bucket(bucket)
        store.client("s3").put_object(
            Bucket=bucket,
            Key="policy/dataflight.toml",
            Body=b"[contracts.missing]\nmax_missing = 1\n",
        )
        live_env(monkeypatch, store.endpoint, bucket)
        pytester.makepyfile(test_suite=LIVE_SUITE)
        live = (*NO_CACHE, "--run-date", "2026-04-18", "--target", "live")
        read = run(pytester, *live, "--dataflight-policy", f"s3://{bucket}/policy/dataflight.toml")
        absent = run(pytester, *live, "--dataflight-policy", f"s3://{bucket}/policy/none.toml")
    # Then the one found judges; the one absent is a usage error, not the defaults
    result, report = read
    assert outcomes(report) == {"missing": "passed"}
    assert report["policy"]["path"] == f"s3://{bucket}/policy/dataflight.toml"
    result, report = absent
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: policy s3://{bucket}/policy/none.toml: S3 answered NoSuchKey"]
    )


def test_a_policy_the_store_cannot_serve_is_an_error_to_retry(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=LIVE_SUITE)
    with dead_live_target(monkeypatch):
        result, report = run(
            pytester,
            *NO_CACHE,
            "--run-date",
            "2026-04-18",
            "--target",
            "live",
            "--dataflight-policy",
            "s3://pipeline-config/dataflight.toml",
        )
    # Then no contract runs on the defaults: each errors with the reason (retry)
    assert report["status"] == "error" and result.ret == pytest.ExitCode.TESTS_FAILED
    [entry] = report["contracts"]
    assert entry["outcome"] == "error"
    assert entry["message"].startswith(
        "StoreUnreachable: policy s3://pipeline-config/dataflight.toml could not be read"
    )
    assert_no_traceback(result)


def test_a_policy_on_s3_with_the_mock_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    result, _ = run(pytester, *MOCK_ARGS, "--dataflight-policy", "s3://b/p.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --dataflight-policy on S3 needs --target live*"])


def test_the_catalog_lists_each_threshold_with_its_default(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest(*NO_CACHE, "--collect-only", "--dataflight-catalog", "c.md")
    assert result.ret == 0
    text = (pytester.path / "c.md").read_text()
    assert "`max_sessions_behind` = 2 sessions (a whole number from 0)" in text
    assert "`min_ok_ratio` = 0.4 (a ratio from 0 to 1)" in text


def test_a_report_schema_carries_the_policy(pytester: pytest.Pytester) -> None:
    # run() validates every report against the shipped JSON Schema
    _, report = run_with(pytester, WAIVER.format(subjects='["BRK-B"]', expires="2026-06-30"))
    assert json.dumps(report["waivers"])  # validated, and serialisable
