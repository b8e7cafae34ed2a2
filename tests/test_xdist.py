"""pytest-xdist: a -n 2 mock run passes, seeds the world once, and leaves no process behind."""

from __future__ import annotations

import pytest
from plugin_helpers import (
    MOCK_ARGS,
    RECORD_MOTO_PIDS,
    RUN_DATE,
    moto_alive,
    recorded_pids,
)

pytestmark = pytest.mark.usefixtures("clean_env")

CONFTEST = """
import os


def pytest_dataflight_seed(world):
    with open(os.environ["SEED_COUNTER"], "a") as counter:
        counter.write(f"{os.getpid()}\\n")
    world.put_json("market_data/latest_weekly.json", {"date": world.run_date.isoformat()})
    world.put_json("market_data/macro.json", {"fed_funds_rate": 4.33})
    world.put_secret("FRED_API_KEY", "xdist-secret-value")


def drop_macro(world):
    "macro.json was never written"
    world.delete("market_data/macro.json")


def pytest_dataflight_faults():
    return {"drop_macro": drop_macro}
"""

SUITE = """
import json
import os

import pytest
from moto_record import record_moto_pids

from pytest_dataflight import contract


@pytest.mark.parametrize("n", range(4))
@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer(s3, bucket, run_date, n):
    body = s3.get_object(Bucket=bucket, Key="market_data/latest_weekly.json")["Body"].read()
    assert json.loads(body) == {"date": run_date.isoformat()}
    record_moto_pids()


@contract(stage="postflight", phases=[], consumers=["research"])
def test_fault_was_applied_once_for_all_workers(s3, bucket):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert "market_data/macro.json" not in keys


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_secret(secret):
    assert secret("FRED_API_KEY") == "xdist-secret-value"


def test_ran_on_a_worker():
    assert os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw")
"""


def test_two_workers_seed_once(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a mock suite whose seed hook counts its calls, and a fault
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE, moto_record=RECORD_MOTO_PIDS)
    counter = pytester.path / "seed-counter.txt"
    pids_file = pytester.path / "moto-pids.json"
    monkeypatch.setenv("SEED_COUNTER", str(counter))
    monkeypatch.setenv("MOTO_PIDS_FILE", str(pids_file))
    # When it runs on two workers with the fault applied
    result = pytester.runpytest_subprocess(*MOCK_ARGS, "-n", "2", "--mock-fault", "drop_macro")
    # Then every test passes, on the workers
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*2 workers [[]7 items[]]*"])
    # And the world was seeded once, by the controller (not by each worker)
    seeders = counter.read_text().split()
    assert len(seeders) == 1
    # And the one moto_server that served both workers is gone
    served = recorded_pids(pids_file)
    assert len(served) == 1
    assert not moto_alive(served[0])


def test_two_workers_and_a_broken_seed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a seed hook that breaks (and counts its calls)
    pytester.makeconftest(
        """
import os


def pytest_dataflight_seed(world):
    with open(os.environ["SEED_COUNTER"], "a") as counter:
        counter.write("seed\\n")
    raise RuntimeError("seed broke")
"""
    )
    pytester.makepyfile(
        test_suite="""
import pytest


@pytest.mark.parametrize("n", range(3))
def test_needs_the_world(s3, n):
    pass


def test_needs_nothing():
    pass
"""
    )
    counter = pytester.path / "seed-counter.txt"
    monkeypatch.setenv("SEED_COUNTER", str(counter))
    # When the suite runs on two workers
    result = pytester.runpytest_subprocess(*MOCK_ARGS, "-n", "2")
    # Then, as in a serial run, each check that needs the world errors with the
    # reason, the others run, and the seed was tried once: no INTERNALERROR
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(["E * the mock target failed to start: RuntimeError: seed broke"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert counter.read_text().split() == ["seed"]


def test_two_workers_and_a_contract_without_target(pytester: pytest.Pytester) -> None:
    # Given a file with one @contract test and no conftest hook (only workers collect it)
    pytester.makepyfile(
        test_contract="""
from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_pointer():
    pass
"""
    )
    # When it runs on two workers without a target
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--run-date", RUN_DATE
    )
    # Then it is the same usage error as in a serial run, not an INTERNALERROR
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(["ERROR: a data suite needs a target: *"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
