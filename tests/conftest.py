"""Fixtures shared by the self-tests; plain helpers stay in the ``*_helpers`` modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# optionalhook: the hook is pytest-xdist's, and a run without xdist must not fail on it.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` with the default ``--dist load``: each shared world built once, the longest
    tests first (``xdist_schedule``). Any other ``--dist`` is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    from xdist_schedule import SharedWorldScheduling

    return SharedWorldScheduling(config, log)
