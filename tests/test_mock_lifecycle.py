"""The mock world's processes end with the run: after a pass, a broken seed, SIGINT, SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request

# Loaded once: in-process pytester runs restore sys.modules afterwards.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pytest
from plugin_helpers import (
    MOCK_ARGS,
    RECORD_MOTO_PIDS,
    moto_alive,
    moto_pids,
    recorded_pids,
)

from pytest_dataflight.mock.moto_server import MotoServer

pytestmark = pytest.mark.usefixtures("clean_env")

SEED = """
def pytest_dataflight_seed(world):
    world.put_json("pointer.json", {"date": world.run_date.isoformat()})
"""

PASSING = """
from moto_record import record_moto_pids


def test_reads(s3, bucket):
    record_moto_pids()
    s3.get_object(Bucket=bucket, Key="pointer.json")
"""

BROKEN_SEED = """
from moto_record import record_moto_pids


def pytest_dataflight_seed(world):
    record_moto_pids()
    raise RuntimeError("seed broke")
"""

SLEEPING = """
import os
import time
from pathlib import Path

from moto_record import record_moto_pids

from pytest_dataflight import contract


@contract(stage="postflight", phases=[], consumers=["research"])
def test_slow(s3, bucket):
    s3.get_object(Bucket=bucket, Key="pointer.json")
    record_moto_pids()
    Path(os.environ["STARTED_MARKER"]).touch()
    time.sleep(60)


@contract(stage="postflight", phases=[], consumers=["research"])
def test_never_reached(s3):
    pass
"""


def test_moto_server_starts_answers_and_stops() -> None:
    # Given a moto_server started the way the mock target starts it
    server = MotoServer()
    try:
        server.start()
        pid = server.pid
        assert pid is not None and moto_alive(pid)
        assert server.startup_s is not None
        print(f"moto_server start-up: {server.startup_s:.2f} s")
        # Then it answers on its loopback port
        assert server.endpoint.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.endpoint}/moto-api/data.json", timeout=5) as r:
            assert r.status == 200
    finally:
        server.stop()
    # And after stop() its process is gone (reaped, not a zombie)
    assert not moto_alive(pid)
    assert server.pid is None
    server.stop()  # idempotent


def test_no_moto_server_left_after_a_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a seeded suite that records the moto_server it runs against
    pytester.makeconftest(SEED)
    pytester.makepyfile(test_reads=PASSING, moto_record=RECORD_MOTO_PIDS)
    pids_file = pytester.path / "moto-pids.json"
    monkeypatch.setenv("MOTO_PIDS_FILE", str(pids_file))
    mine_before = moto_pids(parent=os.getpid())
    # When it runs on the mock target
    result = pytester.runpytest(*MOCK_ARGS)
    result.assert_outcomes(passed=1)
    # Then exactly one moto_server served it, and it is gone
    served = recorded_pids(pids_file)
    assert len(served) == 1
    assert not moto_alive(served[0])
    assert moto_pids(parent=os.getpid()) == mine_before


def test_a_broken_seed_stops_the_mock_world(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a seed hook that records its moto_server and then breaks
    pytester.makeconftest(BROKEN_SEED)
    pytester.makepyfile(
        test_data="def test_a(s3):\n    pass\n\n\ndef test_b(bucket):\n    pass\n",
        moto_record=RECORD_MOTO_PIDS,
    )
    pids_file = pytester.path / "moto-pids.json"
    monkeypatch.setenv("MOTO_PIDS_FILE", str(pids_file))
    mine_before = moto_pids(parent=os.getpid())
    # When the suite runs
    result = pytester.runpytest(*MOCK_ARGS)
    # Then the checks that needed the world error with the seed's exception
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["E * RuntimeError: seed broke"])
    # And the moto_server started for it was stopped at once
    served = recorded_pids(pids_file)
    assert len(served) == 1 and not moto_alive(served[0])
    assert moto_pids(parent=os.getpid()) == mine_before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_leaves_no_moto_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    # Given a mock run whose contract is busy (sleeping) when the signal comes
    pytester.makeconftest(SEED)
    pytester.makepyfile(test_slow=SLEEPING, moto_record=RECORD_MOTO_PIDS)
    marker = pytester.path / "started"
    pids_file = pytester.path / "moto-pids.json"
    monkeypatch.setenv("STARTED_MARKER", str(marker))
    monkeypatch.setenv("MOTO_PIDS_FILE", str(pids_file))
    served: list[int] = []
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *MOCK_ARGS, "test_slow.py"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # A shell's background job inherits SIGINT ignored; Python then never
        # raises KeyboardInterrupt. Give the child the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "the contract never started"
            time.sleep(0.05)
        served = recorded_pids(pids_file)
        assert len(served) == 1 and moto_alive(served[0])
        # When pytest receives the signal
        proc.send_signal(signum)
        output = proc.communicate(timeout=60)[0].decode()
        # Then it exits 2 (interrupted), and the moto_server that was running is gone
        assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
        assert "KeyboardInterrupt" in output
        assert not moto_alive(served[0]), output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in served:
            if moto_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
