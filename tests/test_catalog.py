"""The contract catalog is written from the contracts' own declarations.

Given a suite with contracts (docstrings, consumers, a schema) and faults
that declare what they break, when it runs with ``--collect-only
--dataflight-catalog``, then the catalog lists each contract with its rule,
stage, phases, severity, consumers, schema link and proving faults, and no
check ran (no store was started, no report replaced).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.usefixtures("clean_env")

CONFTEST = """
def _stale(world):
    "pointer of last week"

_stale.breaks = {"pointer": "failed"}


def _gone(world):
    "no macro.json"

_gone.breaks = {"macro": "failed", "pointer": "failed"}


def pytest_dataflight_faults():
    return {"stale_pointer": _stale, "macro_gone": _gone}
"""

CONTRACTS = '''
from pytest_dataflight import contract


@contract(stage="postflight", phases=["phase1"], consumers=["research", "predictor"],
          schema="schemas/pointer.schema.json")
def test_pointer(s3):
    """The pointer names this run's date and prefix."""


@contract(stage="preflight", phases=["daily"], consumers=["producer"], severity="warn")
def test_macro():
    """macro.json exists and parses."""
'''


def test_catalog_from_declarations(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_contracts=CONTRACTS)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--collect-only", "-q", "--dataflight-catalog", "docs/c.md"
    )
    assert result.ret == pytest.ExitCode.OK
    text = (pytester.path / "docs" / "c.md").read_text()
    assert "| [`pointer`](#pointer) | postflight | phase1 | error | research, predictor |" in text
    assert "| [`macro`](#macro) | preflight | daily | warn | producer |" in text
    assert "The pointer names this run's date and prefix." in text
    assert "- proven by the faults: `macro_gone` (failed), `stale_pointer` (failed)" in text
    assert "- checks the artifact schema [`schemas/pointer.schema.json`]" in text
    assert "(../schemas/pointer.schema.json)" in text
    # Listing checks nothing: no report written.
    assert not (pytester.path / "dataflight-report.json").exists()


def test_the_committed_catalog_is_fresh(tmp_path: Path) -> None:
    # Given this repository's suite, when its catalog is generated anew
    fresh = tmp_path / "contracts.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "datatests",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--dataflight-catalog",
            str(fresh),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # Then it is the committed one: regenerate docs/contracts.md with
    #   pytest datatests --collect-only -q --dataflight-catalog docs/contracts.md
    assert fresh.read_text() == (REPO / "docs" / "contracts.md").read_text()
