"""Option resolution: CLI > env > ini > default for every option, and the header line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from plugin_helpers import NO_CACHE

from pytest_dataflight.run.settings import (
    DEFAULT_REPORT,
    DEFAULT_SSM_PREFIX,
    MOCK_BUCKET,
    Settings,
    SettingsError,
    missing_for_data_suite,
    parse_run_date,
    resolve,
)

pytestmark = pytest.mark.usefixtures("clean_env")


def resolve_from(
    cli: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    ini: Mapping[str, str] | None = None,
    faults: tuple[str, ...] = (),
) -> Settings:
    cli_values: dict[str, Any] = {**dict(cli or {}), "faults": list(faults)}
    ini_values: dict[str, Any] = dict(ini or {})
    return resolve(cli=cli_values.get, ini=ini_values.get, environ=dict(env or {}))


# (dest, env variable, value at CLI, env, ini, the default's resolved value)
OPTION_LEVELS = [
    ("run_date", "DATAFLIGHT_RUN_DATE", "2026-04-18", "2026-04-17", "2026-04-16", None),
    ("target", "DATAFLIGHT_TARGET", "live", "mock", "live", None),
    ("report", "DATAFLIGHT_REPORT", "cli.json", "env.json", "ini.json", DEFAULT_REPORT),
    ("run_id", "DATAFLIGHT_RUN_ID", "exec-cli/1", "exec-env/2", "exec-ini/3", None),
    (
        "ssm_prefix",
        "DATAFLIGHT_SSM_PREFIX",
        "/cli/",
        "/env/",
        "/ini/",
        DEFAULT_SSM_PREFIX,
    ),
]
# Which sources are given, and which one must win.
LEVELS = [
    (("cli", "env", "ini"), "cli"),
    (("env", "ini"), "env"),
    (("ini",), "ini"),
    ((), "default"),
]


def _value(dest: str, raw: str | None) -> Any:
    if dest == "run_date" and raw is not None:
        return dt.date.fromisoformat(raw)
    return raw


@pytest.mark.parametrize(("given", "winner"), LEVELS, ids=[w for _, w in LEVELS])
@pytest.mark.parametrize(
    ("dest", "env_name", "at_cli", "at_env", "at_ini", "default"),
    OPTION_LEVELS,
    ids=[o[0] for o in OPTION_LEVELS],
)
def test_resolve_precedence_cli_env_ini_default(
    dest: str,
    env_name: str,
    at_cli: str,
    at_env: str,
    at_ini: str,
    default: str | None,
    given: tuple[str, ...],
    winner: str,
) -> None:
    # Given the option set at some of the levels (live needs a bucket to be valid)
    env = {"DATAFLIGHT_BUCKET": "b"}
    if "env" in given:
        env[env_name] = at_env
    cli = {dest: at_cli} if "cli" in given else {}
    ini = {dest: at_ini} if "ini" in given else {}
    # When resolving
    settings = resolve_from(cli=cli, env=env, ini=ini)
    # Then the highest level given wins, and the source is recorded
    expected = {"cli": at_cli, "env": at_env, "ini": at_ini, "default": default}[winner]
    assert getattr(settings, dest) == _value(dest, expected)
    if expected is not None:
        assert settings.sources[dest] == winner
    else:
        assert dest not in settings.sources


def test_resolve_defaults() -> None:
    settings = resolve_from()
    assert settings.run_date is None
    assert settings.target is None
    assert settings.report == DEFAULT_REPORT == "dataflight-report.json"
    assert settings.ssm_prefix == "/dataflight/"
    assert settings.faults == ()
    assert settings.region == "us-east-1"


def test_an_empty_environment_variable_counts_as_unset() -> None:
    settings = resolve_from(env={"DATAFLIGHT_RUN_DATE": ""}, ini={"run_date": "2026-04-16"})
    assert settings.run_date == dt.date(2026, 4, 16)
    assert settings.sources["run_date"] == "ini"


def test_target_is_case_and_space_insensitive() -> None:
    assert resolve_from(cli={"target": " MOCK "}, env={}).target == "mock"


def test_mock_target_uses_its_own_bucket_whatever_the_environment_says() -> None:
    settings = resolve_from(
        cli={"target": "mock"},
        env={"DATAFLIGHT_BUCKET": "prod-bucket", "DATAFLIGHT_ARCTIC_URI": "s3s://prod:x"},
    )
    assert settings.bucket == MOCK_BUCKET
    assert settings.arctic_uri is None


def test_live_target_reads_bucket_arctic_uri_and_region_from_the_environment() -> None:
    settings = resolve_from(
        cli={"target": "live"},
        env={
            "DATAFLIGHT_BUCKET": "prod-bucket",
            "DATAFLIGHT_ARCTIC_URI": "s3s://s3.eu-west-1.amazonaws.com:prod-bucket",
            "AWS_DEFAULT_REGION": "eu-west-1",
        },
    )
    assert settings.bucket == "prod-bucket"
    assert settings.arctic_uri == "s3s://s3.eu-west-1.amazonaws.com:prod-bucket"
    assert settings.region == "eu-west-1"
    both = resolve_from(env={"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert both.region == "eu-central-1"


def test_ssm_prefix_gets_a_leading_slash() -> None:
    assert resolve_from(cli={"ssm_prefix": "team/secrets/"}).ssm_prefix == "/team/secrets/"


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve_from(cli={"run_date": "2026-02-30", "target": "mars"}, faults=("stale",))
    problems = excinfo.value.problems
    assert len(problems) == 3
    assert "invalid run date '2026-02-30'" in problems[0]
    assert "unknown target 'mars'" in problems[1]
    assert "--mock-fault applies to the mock world only" in problems[2]
    assert str(excinfo.value) == "\n".join(problems)


def test_live_without_bucket_is_a_problem() -> None:
    with pytest.raises(SettingsError, match="DATAFLIGHT_BUCKET"):
        resolve_from(cli={"target": "live"})


@pytest.mark.parametrize(
    "value", ["2026-02-30", "tomorrow", "2026-4-18", "20260418", "2026-04-18T00:00", ""]
)
def test_parse_run_date_refuses_anything_but_a_real_iso_date(value: str) -> None:
    with pytest.raises(ValueError, match="expected a real calendar date as YYYY-MM-DD"):
        parse_run_date(value)


def test_parse_run_date_accepts_a_leap_day() -> None:
    assert parse_run_date("2028-02-29") == dt.date(2028, 2, 29)


def test_missing_for_data_suite_lists_everything() -> None:
    missing = missing_for_data_suite(resolve_from())
    assert len(missing) == 2
    assert "--target mock" in missing[0] and "--target live" in missing[0]
    assert "--run-date" in missing[1]
    full = resolve_from(cli={"target": "mock", "run_date": "2026-04-18"})
    assert missing_for_data_suite(full) == []


def test_settings_survive_the_trip_to_an_xdist_worker() -> None:
    settings = resolve_from(
        cli={"target": "mock", "run_date": "2026-04-18"}, faults=("a", "b", "a")
    )
    assert settings.faults == ("a", "b")
    assert Settings.from_json(settings.to_json()) == settings


def test_header_line() -> None:
    settings = resolve_from(cli={"target": "mock", "run_date": "2026-04-18"})
    assert settings.header().startswith("dataflight: target=mock run-date=2026-04-18 calendar=XNYS")
    assert resolve_from().header() == "dataflight: target=unset run-date=unset calendar=XNYS"


# --- through a real pytest run --------------------------------------------------

SHOW_SETTINGS = """
from pytest_dataflight.run.state import settings_key


def test_show(request):
    s = request.config.stash[settings_key]
    print(f"RESOLVED run_date={s.run_date} target={s.target} report={s.report}")
"""

# flag, env variable, ini key, values at (CLI, env, ini), shown (CLI, env, ini, default)
RUN_OPTIONS = [
    (
        "--run-date",
        "DATAFLIGHT_RUN_DATE",
        "dataflight_run_date",
        ("2026-04-18", "2026-04-17", "2026-04-16"),
        ("run_date=2026-04-18", "run_date=2026-04-17", "run_date=2026-04-16", "run_date=None"),
    ),
    (
        "--target",
        "DATAFLIGHT_TARGET",
        "dataflight_target",
        ("live", "mock", "live"),
        ("target=live", "target=mock", "target=live", "target=None"),
    ),
    (
        "--dataflight-report",
        "DATAFLIGHT_REPORT",
        "dataflight_report",
        ("cli.json", "env.json", "ini.json"),
        ("report=cli.json", "report=env.json", "report=ini.json", "report=dataflight-report.json"),
    ),
]


@pytest.mark.parametrize(("given", "winner"), LEVELS, ids=[w for _, w in LEVELS])
@pytest.mark.parametrize(
    ("flag", "env_name", "ini_key", "values", "shown"),
    RUN_OPTIONS,
    ids=[o[0].lstrip("-") for o in RUN_OPTIONS],
)
def test_a_run_resolves_cli_over_env_over_ini_over_default(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    env_name: str,
    ini_key: str,
    values: tuple[str, str, str],
    shown: tuple[str, str, str, str],
    given: tuple[str, ...],
    winner: str,
) -> None:
    # Given a plain suite, and the option at some of the levels
    pytester.makepyfile(test_show=SHOW_SETTINGS)
    at_cli, at_env, at_ini = values
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "some-bucket")  # lets target=live resolve
    args: list[str] = [*NO_CACHE, "-s"]
    if flag == "--target":
        args += ["--run-date", "2026-04-18"]  # a mock target needs one
    if "cli" in given:
        args += [flag, at_cli]
    if "env" in given:
        monkeypatch.setenv(env_name, at_env)
    if "ini" in given:
        pytester.makeini(f"[pytest]\n{ini_key} = {at_ini}\n")
    # When it runs
    result = pytester.runpytest(*args)
    # Then the highest level wins
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    expected = dict(zip(("cli", "env", "ini", "default"), shown, strict=True))[winner]
    result.stdout.fnmatch_lines([f"*RESOLVED *{expected}*"])


def test_report_header_shows_the_resolved_settings(pytester: pytest.Pytester) -> None:
    # Given a plain suite run with a mock target and a run date (no data fixture: no moto)
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    # When it runs
    result = pytester.runpytest(*NO_CACHE, "--target", "mock", "--run-date", "2026-04-18")
    # Then the session header carries one line with the resolved settings
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["dataflight: target=mock run-date=2026-04-18 calendar=XNYS*"])
    assert len([line for line in result.stdout.lines if line.startswith("dataflight:")]) == 1


def test_report_header_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    monkeypatch.setenv("DATAFLIGHT_TARGET", "live")
    monkeypatch.setenv("DATAFLIGHT_RUN_DATE", "2026-05-25")
    monkeypatch.setenv("DATAFLIGHT_BUCKET", "prod-bucket")
    result = pytester.runpytest(*NO_CACHE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["dataflight: target=live run-date=2026-05-25 calendar=XNYS bucket=prod-bucket"]
    )


@pytest.mark.parametrize("run_id", ["", "   ", "x" * 129, "exec\n1"])
def test_an_unusable_run_id_is_a_usage_problem(run_id: str) -> None:
    # An orchestrator matches the report by this id: one it cannot match is refused
    with pytest.raises(SettingsError, match=r"invalid --dataflight-run-id .*printable"):
        resolve_from(cli={"run_date": "2026-04-18", "target": "mock", "run_id": run_id})
