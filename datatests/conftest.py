"""Wires this pipeline's world, faults, APIs and options into pytest-dataflight. Thin on purpose."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from pytest_dataflight import MockWorld, OptionSpec, add_option, option_value, usage_error

from . import faults, mock_world
from .layout import ALL_SECRETS, APIS

_sample_key = pytest.StashKey[int | None]()

PHASES = {
    "phase1": "weekly market-data stage (Saturday)",
    "phase2": "alternative-data stage (after phase1)",
    "daily": "weekday-morning stage",
}


UNIVERSE_SAMPLE = OptionSpec(
    "universe_sample",
    "--universe-sample",
    "UNIVERSE_SAMPLE",
    "universe_fresh checks a deterministic sample of N tickers (seeded by run date) "
    "instead of all; for very large universes.",
    metavar="N",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_option(parser, UNIVERSE_SAMPLE)


def _universe_sample(config: pytest.Config) -> int | None:
    raw = option_value(config, UNIVERSE_SAMPLE)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise usage_error(
            config,
            f"--universe-sample (or UNIVERSE_SAMPLE) must be a positive whole number, got {raw!r}",
        )
    return value


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_sample_key] = _universe_sample(config)
    for phase, meaning in PHASES.items():
        config.addinivalue_line("markers", f"{phase}: {meaning}")
    # arcticdb's own read path trips a pandas deprecation; not ours to fix, nor news to a user.
    config.addinivalue_line(
        "filterwarnings", "ignore:Passing a BlockManagerUnconsolidated:DeprecationWarning"
    )


def pytest_dataflight_seed(world: MockWorld) -> None:
    mock_world.seed(world)


def pytest_dataflight_faults() -> Mapping[str, Callable[[MockWorld], None]]:
    return faults.FAULTS


def pytest_dataflight_apis() -> Mapping[str, str]:
    return APIS


def pytest_dataflight_secret_names() -> list[str]:
    return list(ALL_SECRETS)


@pytest.fixture(scope="session")
def universe_sample(request: pytest.FixtureRequest) -> int | None:
    """Sample size for universe_fresh (None: every ticker)."""
    return request.config.stash[_sample_key]
