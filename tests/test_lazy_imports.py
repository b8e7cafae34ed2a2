"""Import cost is paid once: pytest --help and a run without data fixtures load no heavy module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plugin_helpers import NO_CACHE

pytestmark = pytest.mark.usefixtures("clean_env")

HEAVY = ("arcticdb", "pandas", "boto3", "botocore", "numpy", "exchange_calendars")

# Records, at the very end of the run, which heavy modules the process loaded.
SPY_CONFTEST = f"""
import json
import os
import sys

HEAVY = {HEAVY!r}


def pytest_unconfigure(config):
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    with open(os.environ["LOADED_MODULES_FILE"], "w") as out:
        json.dump(loaded, out)
"""

NO_DATA_FIXTURES = """
import datetime as dt


def test_plain():
    assert True


def test_settings_only(run_date, target):
    assert run_date == dt.date(2026, 4, 18)
    assert target == "mock"
"""


def _loaded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[pytest.RunResult, list[str]]:
    pytester.makeconftest(SPY_CONFTEST)
    out = pytester.path / "loaded.json"
    monkeypatch.setenv("LOADED_MODULES_FILE", str(out))
    # A fresh interpreter: this one has long imported everything.
    result = pytester.runpytest_subprocess(*NO_CACHE, *args)
    return result, json.loads(Path(out).read_text())


def test_help_loads_no_heavy_module(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When pytest --help runs with the plugin installed
    result, loaded = _loaded(pytester, monkeypatch, "--help")
    # Then our options are there, and none of the heavy modules was imported
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--run-date*", "*--target*", "*--mock-fault*"])
    assert loaded == []


def test_plain_run_loads_no_heavy_module(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given tests that use no data fixture (run_date and target are settings only)
    pytester.makepyfile(test_plain=NO_DATA_FIXTURES)
    # When they run with a target and a run date
    result, loaded = _loaded(pytester, monkeypatch, "--target", "mock", "--run-date", "2026-04-18")
    # Then no heavy module was imported (and no mock world was started)
    result.assert_outcomes(passed=2)
    assert loaded == []
