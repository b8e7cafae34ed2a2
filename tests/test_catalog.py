"""The contract catalog is written from the contracts' own declarations.

Given a suite with contracts (docstrings, consumers, a schema) and faults
that declare what they break, when it runs with ``--collect-only
--dataflight-catalog``, then the catalog lists each contract with its rule,
stage, phases, severity, consumers, schema link and proving faults, and no
check ran (no store was started, no report replaced).
"""

from __future__ import annotations

import json
import shutil
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


def test_the_committed_catalog_and_schemas_are_fresh(tmp_path: Path) -> None:
    # Given a scratch copy of this repository's suite (generating in place would
    # overwrite the very files under test), with no schemas in it
    scratch = tmp_path / "repo"
    shutil.copytree(
        REPO / "datatests",
        scratch / "datatests",
        ignore=shutil.ignore_patterns("__pycache__", "schemas"),
    )
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(REPO / name, scratch / name)
    # When its catalog is generated anew, as the docs say
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "datatests", "--collect-only", "-q"]
        + ["-p", "no:cacheprovider", "--dataflight-catalog", "docs/contracts.md"],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # Then catalog and schemas are the committed ones, file for file; to regenerate:
    #   pytest datatests --collect-only -q --dataflight-catalog docs/contracts.md
    fresh = scratch / "docs" / "contracts.md"
    assert fresh.read_text() == (REPO / "docs" / "contracts.md").read_text()
    committed = sorted(p.name for p in (REPO / "datatests" / "schemas").iterdir())
    generated = sorted(p.name for p in (scratch / "datatests" / "schemas").iterdir())
    assert generated == committed
    for name in generated:
        assert (scratch / "datatests" / "schemas" / name).read_text() == (
            REPO / "datatests" / "schemas" / name
        ).read_text(), name


SCHEMA_SUITE = '''
from pytest_dataflight import ArtifactSchema, contract

POINTER = ArtifactSchema("schemas/pointer.schema.json", {"type": "object", "required": ["date"]})


@contract(stage="postflight", phases=["phase1"], consumers=["research"], schema=POINTER)
def test_pointer():
    """The pointer has a date."""


@contract(stage="postflight", phases=["phase1"], consumers=["research"], schema=POINTER)
def test_pointer_again():
    """Two contracts may check one artifact: its schema is written once."""
'''


def test_the_catalog_writes_each_declared_schema_to_its_path(pytester: pytest.Pytester) -> None:
    # Given two contracts that declare one ArtifactSchema
    pytester.makepyfile(test_contracts=SCHEMA_SUITE)
    # When the catalog is generated from another directory than the rootdir
    (pytester.path / "sub").mkdir()
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "-q",
        "--rootdir",
        str(pytester.path),
        "--dataflight-catalog",
        "c.md",
        str(pytester.path),
    )
    # Then the schema lands at its path under the rootdir, with its draft, and is linked
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    written = json.loads((pytester.path / "schemas" / "pointer.schema.json").read_text())
    assert written == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["date"],
    }
    assert (
        "[`schemas/pointer.schema.json`](schemas/pointer.schema.json)"
        in (pytester.path / "c.md").read_text()
    )


@pytest.mark.parametrize(
    ("second", "error"),
    [
        (
            'ArtifactSchema("schemas/pointer.schema.json", {"type": "array"})',
            "two different schemas declare the path 'schemas/pointer.schema.json' "
            "(contract 'other'): give each artifact one definition",
        ),
        (
            'ArtifactSchema("schemas/other.schema.json", {"type": "list"})',
            "contract 'other': schemas/other.schema.json is not a valid JSON Schema "
            "(draft 2020-12): at type, 'list' is not valid under any of the given schemas",
        ),
    ],
    ids=["two-definitions", "invalid-schema"],
)
def test_a_bad_schema_declaration_is_a_usage_error(
    pytester: pytest.Pytester, second: str, error: str
) -> None:
    # Given a second contract whose schema conflicts with the first or is no JSON Schema
    pytester.makepyfile(
        test_contracts=SCHEMA_SUITE.rsplit("\n\n\n@contract", 1)[0]
        + f"""


@contract(stage="postflight", phases=["phase1"], consumers=["research"], schema={second})
def test_other():
    "Another artifact."
""",
    )
    # When the catalog is generated, then the run stops with a sentence, not a traceback
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--collect-only", "-q", "--dataflight-catalog", "c.md"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {error}" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_broken_schema_stops_a_data_run_before_any_contract(pytester: pytest.Pytester) -> None:
    # Given a contract whose declared schema is no JSON Schema
    pytester.makepyfile(
        test_contracts=SCHEMA_SUITE.replace(
            '{"type": "object", "required": ["date"]}', '{"type": 3}'
        )
    )
    # When the data run starts
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--run-date", "2026-04-18", "--target", "mock"
    )
    # Then it is a usage error with its report, not each contract "failed" (bad data)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    report = json.loads((pytester.path / "dataflight-report.json").read_text())
    assert report["exit_code"] == 4 and report["status"] == "error"
    assert "contract 'pointer': schemas/pointer.schema.json is not a valid JSON Schema" in (
        report["headline"] + json.dumps(report)
    )
