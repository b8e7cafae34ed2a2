"""The reports of a fixed set of runs stay what they were: a refactoring guard.

The golden files under ``tests/golden/`` were recorded before the plugin's
report pipeline was reshaped (issue 7) and must keep matching, apart from
what differs between any two runs: times, ports, paths and versions.

Given a run (healthy, two faults, a usage error, SIGTERM, ``-n 2``), when it
is repeated in a subprocess, then its normalised report equals the recorded
one. To re-record after an intended change to the report (a new contract, a
new field), run this module with ``DATAFLIGHT_RECORD_GOLDEN=1`` and review
the diff of ``tests/golden/`` like any other change.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
RECORD = os.environ.get("DATAFLIGHT_RECORD_GOLDEN") == "1"
MOCK = ("--run-date", "2026-04-18", "--target", "mock")

# A suite that is stopped by SIGTERM in its second contract, deterministically:
# the contract sends the signal to its own process, as an orchestrator would.
SIGTERM_SUITE = """
import os, signal
from pytest_dataflight import contract

@contract(stage="postflight", phases=["daily"], consumers=["research"])
def test_first(evidence):
    evidence["rows"] = 3

@contract(stage="postflight", phases=["daily"], consumers=["predictor"])
def test_stopped_here():
    os.kill(os.getpid(), signal.SIGTERM)

@contract(stage="postflight", phases=["daily"], consumers=["backtester"])
def test_never_reached():
    pass
"""

RUNS: dict[str, tuple[str, ...]] = {
    "healthy": ("datatests", *MOCK),
    "fault_pointer": ("datatests", *MOCK, "--mock-fault", "pointer_not_rolled"),
    "fault_spy_and_fred": (
        "datatests",
        *MOCK,
        "--mock-fault",
        "spy_one_session_behind",
        "--mock-fault",
        "fred_outage",
    ),
    "usage_error": ("datatests", "--run-date", "2026-02-30", "--target", "mars"),
    "sigterm": ("SUITE", "--run-date", "2026-04-18", "--target", "mock"),
    "xdist": ("datatests", *MOCK, "-n", "2", "--mock-fault", "pointer_not_rolled"),
}

# Keys whose values differ between any two runs of the same data.
_VOLATILE = {"started_at", "duration_s", "created", "duration", "environment", "root"}
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_LINENO = re.compile(r"(\.py):\d+")
_UUID = re.compile(r"[0-9a-f]{32}")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATAFLIGHT_", "AWS_", "PYTEST_"))
        and not name.endswith("_API_URL")
        and not name.endswith("_API_KEY")
    }
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        PYTHONPATH=str(REPO),
    )
    return env


def normalise(value: Any, paths: dict[str, str]) -> Any:
    """``value`` with times, ports, paths, versions and line numbers made constant."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _VOLATILE:
                continue
            if key == "tool":
                item = {**item, "version": "<version>"}
            elif key == "lineno":
                item = 0 if item is not None else None
            out[key] = normalise(item, paths)
        return out
    if isinstance(value, list):
        return [normalise(item, paths) for item in value]
    if isinstance(value, str):
        for path, name in paths.items():
            value = value.replace(path, name)
        value = _PORT.sub(r"\1:<port>", value)
        value = _UUID.sub("<uuid>", value)
        return _LINENO.sub(r"\1:<line>", value)
    return value


def run_recorded(name: str, tmp_path: Path) -> dict[str, Any]:
    args = list(RUNS[name])
    cwd = REPO
    if args[0] == "SUITE":
        (tmp_path / "test_sigterm_suite.py").write_text(SIGTERM_SUITE)
        args[0] = str(tmp_path / "test_sigterm_suite.py")
        cwd = tmp_path
    else:
        args[0] = str(REPO / args[0])
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(cwd),
            *args,
            "--dataflight-report",
            str(report),
        ],
        cwd=cwd,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    assert data["exit_code"] == proc.returncode
    paths = {str(tmp_path): "<tmp>", str(REPO): "<repo>"}
    result: dict[str, Any] = normalise(data, paths)
    # Under -n 2 the run order is the workers'; what ran and how is what counts.
    for key in ("contracts", "failures", "tests"):
        result[key] = sorted(result.get(key) or [], key=lambda e: e["nodeid"])
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_report_matches_the_recorded_one(name: str, tmp_path: Path) -> None:
    # Given the recorded report of this run
    golden = GOLDEN / f"{name}.json"
    # When the run is repeated
    observed = run_recorded(name, tmp_path)
    if RECORD:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(observed, indent=1, sort_keys=True) + "\n")
    # Then its report is the same, field for field
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert observed == expected
