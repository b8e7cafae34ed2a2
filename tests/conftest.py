"""Fixtures shared by the self-tests; plain helpers stay in the ``*_helpers`` modules."""

from __future__ import annotations

import gc
from collections.abc import Generator
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """While a test runs, the objects that existed before it are left out of the cyclic GC,
    and handed back to it after (``gc.unfreeze`` puts them in the oldest generation).

    Most self-tests run pytest in-process (pytester), and a worker holds about 475,000
    objects once a datatests run has loaded arcticdb, pandas, botocore's models and
    the mock world's frames. Every full collection walked them all: pytest's two at
    the end of each inner run, and those that pandas and ArcticDB allocations
    trigger: 1.5 s of a datatests run's 5.8 s of CPU. The test's own objects are
    collected as ever, so what it leaks or raises in ``__del__`` still shows.
    """
    gc.freeze()
    try:
        return (yield)
    finally:
        gc.unfreeze()


# optionalhook: the hook is pytest-xdist's, and a run without xdist must not fail on it.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` with the default ``--dist load``: each shared world built once, the longest
    tests first (``xdist_schedule``). Any other ``--dist`` is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    from xdist_schedule import SharedWorldScheduling

    return SharedWorldScheduling(config, log)
