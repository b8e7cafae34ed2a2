"""Hooks a data suite implements in its conftest.py (declared via ``pytest_addhooks``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .mock.world import MockWorld

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_dataflight_seed(world: MockWorld) -> None:
    """Write a healthy world for ``world.run_date`` into the mock target.

    Called once per run (on the xdist controller when distributing), after
    the bucket exists and before any fault is applied.
    """


@hookspec
def pytest_dataflight_faults() -> Mapping[str, Callable[[MockWorld], None]]:
    """Named faults, each a callable that breaks the seeded world.

    Selected with ``--mock-fault NAME`` (repeatable); the callable's
    docstring is its description in error messages and ``--help``.
    """
    return {}


@hookspec
def pytest_dataflight_apis() -> Mapping[str, str]:
    """External HTTP APIs the suite probes: name -> default base URL.

    ``<NAME>_API_URL`` overrides each on the live target; on the mock target
    each is served by the loopback stub under ``/<name>``.
    """
    return {}


@hookspec
def pytest_dataflight_secret_names() -> list[str]:
    """Names of environment variables whose values are secrets, to mask everywhere."""
    return []
