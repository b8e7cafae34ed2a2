"""Fixtures shared by the self-tests; plain helpers stay in the ``*_helpers`` modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_helpers import scrub_environment


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DATAFLIGHT_*, *_API_URL, AWS or PYTEST_ADDOPTS setting from outside; no metadata."""
    scrub_environment(monkeypatch, tmp_path)


_undo_key = pytest.StashKey[pytest.MonkeyPatch]()


def pytest_configure(config: pytest.Config) -> None:
    # The self-tests run data suites of their own; under GitHub Actions those
    # would append to the job's real summary, which belongs to the data step.
    mp = config.stash[_undo_key] = pytest.MonkeyPatch()
    mp.delenv("GITHUB_STEP_SUMMARY", raising=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    mp = config.stash.get(_undo_key, None)
    if mp is not None:
        mp.undo()
