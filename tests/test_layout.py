"""The package's folders are its architecture: imports between its sides run one way.

Read from the source (``ast``), not from a run: a module-level import that
breaks the direction fails here even if no test happens to execute it.
Imports under ``if TYPE_CHECKING:`` are annotations only and do not count;
imports inside a function do (they are still arrows), except the ones that
are listed as lazy on purpose below.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import LIVE_ARGS, NO_CACHE, live_env, live_store, unique_bucket

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_dataflight"

# The sides of the plugin and what each may import. The top (plugin hooks,
# options, fixtures, hook specs, the public names) may import every side.
ALLOWED: dict[str, set[str]] = {
    "stores": set(),
    "run": {"stores"},
    "report": {"run", "stores"},
    "mock": {"run", "stores"},
    "testing": {"mock"},
    "top": {"run", "report", "stores", "mock"},
}
# Modules that must stay free of pytest: their rules are tested with plain values.
PURE = {
    "stores": None,  # every module
    "mock": None,
    "testing": None,
    "report": {"build", "outcome", "size", "evidence", "summary", "catalog"},
    "run": {"settings", "live", "policy", "policy_source"},
}
# The top imports mock/ only inside the functions that serve a mock run.
LAZY_MOCK_IMPORTERS = {"plugin", ""}  # "": the package's __init__


def _side(module: str) -> str:
    """``pytest_dataflight.report.build`` → ``report``; a top-level module → ``top``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1] / "__init__.py").is_file() else "top"


def _modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path); a package's ``__init__`` is named as the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(module: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    top_level = {id(node) for node in tree.body}
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
            continue
        module_level = id(node) in top_level
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, module_level
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        # `from .report import build` imports a module; `from .x import name` a name of x.
        submodules = [f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")]
        for name in submodules or [base]:
            yield name, node.lineno, module_level


def _is_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "pytest_dataflight":
        return False
    path = PACKAGE.parent.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _lazy_ok(module: str) -> bool:
    return module.removeprefix("pytest_dataflight").lstrip(".") in LAZY_MOCK_IMPORTERS


def test_arrows_between_the_sides_run_one_way() -> None:
    # Given every module of the package, read as source
    wrong = []
    for module, path in _modules():
        side = _side(module)
        for imported, line, module_level in _imports(module, path):
            if not imported.startswith("pytest_dataflight."):
                continue
            other = _side(imported)
            if other == side:
                continue
            # Then each import goes down the table, never up or sideways
            if other not in ALLOWED[side]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} {side} -> {imported}")
            # And the top reaches mock/ only from inside a function that serves a mock run
            elif other == "mock" and side == "top" and (module_level or not _lazy_ok(module)):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} eager {imported}")
    assert wrong == []


def test_nothing_imports_the_testing_machinery() -> None:
    users = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for module, path in _modules()
        if _side(module) != "testing"
        for imported, line, _ in _imports(module, path)
        if imported.startswith("pytest_dataflight.testing")
    ]
    assert users == []


def test_pure_modules_import_no_pytest() -> None:
    impure = []
    for module, path in _modules():
        side = _side(module)
        if side not in PURE:
            continue
        names = PURE[side]
        if names is not None and module.rsplit(".", 1)[-1] not in names:
            continue
        for imported, line, _ in _imports(module, path):
            if imported.split(".")[0] in {"pytest", "_pytest", "pluggy"}:
                impure.append(f"{path.relative_to(PACKAGE.parent)}:{line} {imported}")
    assert impure == []


def test_the_checker_sees_a_wrong_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A check that cannot fail proves nothing: given a stores/ module importing the report
    fake = tmp_path / "pytest_dataflight"
    for sub in ("stores", "report"):
        (fake / sub).mkdir(parents=True)
        (fake / sub / "__init__.py").write_text("")
    (fake / "report" / "build.py").write_text("")
    bad = fake / "stores" / "clients.py"
    bad.write_text("from ..report import build\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    # Then the arrow is named
    with pytest.raises(AssertionError, match=r"stores/clients.py:1 stores -> pytest_dataflight"):
        test_arrows_between_the_sides_run_one_way()


LOADED_SPY = """
import json
import os
import sys


def pytest_unconfigure(config):
    loaded = sorted(m for m in sys.modules if m.startswith("pytest_dataflight."))
    with open(os.environ["LOADED_MODULES_FILE"], "w") as out:
        json.dump(loaded, out)
"""

LIVE_SUITE = """
from pytest_dataflight import contract


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_bucket_answers(s3, bucket):
    s3.head_bucket(Bucket=bucket)
"""


@pytest.mark.usefixtures("clean_env")
def test_a_live_run_never_imports_the_mock_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    with live_store() as store:
        # Given a bucket on an S3 endpoint and a suite that reads it
        bucket = unique_bucket(request)
        store.create_bucket(bucket)
        live_env(monkeypatch, store.endpoint, bucket)
        pytester.makeconftest(LOADED_SPY)
        pytester.makepyfile(test_suite=LIVE_SUITE)
        loaded_file = pytester.path / "loaded.json"
        monkeypatch.setenv("LOADED_MODULES_FILE", str(loaded_file))
        # When it runs with --target live in a fresh interpreter
        result = pytester.runpytest_subprocess(*LIVE_ARGS)
    result.assert_outcomes(passed=1)
    loaded = json.loads(loaded_file.read_text())
    # Then the stores, the run and the report were loaded, and nothing of mock/ or testing/
    assert {"pytest_dataflight.stores.clients", "pytest_dataflight.report.build"} <= set(loaded)
    assert [m for m in loaded if m.split(".")[1] in {"mock", "testing"}] == []


@pytest.mark.usefixtures("clean_env")
def test_a_mock_run_loads_the_mock_target(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The twin of the test above: the spy sees mock/ when it is there to see
    pytester.makeconftest(LOADED_SPY + "\n\ndef pytest_dataflight_seed(world):\n    pass\n")
    pytester.makepyfile(test_suite=LIVE_SUITE)
    loaded_file = pytester.path / "loaded.json"
    monkeypatch.setenv("LOADED_MODULES_FILE", str(loaded_file))
    result = pytester.runpytest_subprocess(
        *NO_CACHE, "--run-date", "2026-04-18", "--target", "mock"
    )
    result.assert_outcomes(passed=1)
    assert "pytest_dataflight.mock.target" in json.loads(loaded_file.read_text())
