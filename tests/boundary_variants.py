"""World variants for boundary tests; a datatests run loads them with ``-p boundary_variants``.

They use the plugin's public fault hook, so the boundaries are tested on the
same seeded world and through the same contracts as the pipeline's faults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from datatests import mock_world
from datatests.faults import _truncate, _universe_stocks
from datatests.layout import CONSTITUENTS_JSON, MACRO_LIBRARY, UNIVERSE_LIBRARY, weekly_key
from pytest_dataflight import MockWorld


def constituents_exactly_800(world: MockWorld) -> None:
    """Exactly the 800 floor: passes."""
    world.put_json(
        weekly_key(world.run_date, CONSTITUENTS_JSON), mock_world.constituents(world.run_date, 800)
    )


def ticker_two_behind(world: MockWorld) -> None:
    """One ticker exactly 2 sessions behind SPY: the limit, passes."""
    _truncate(world, UNIVERSE_LIBRARY, _universe_stocks(world)[-1], 2)


def everything_utc(world: MockWorld) -> None:
    """SPY and every stock indexed UTC-aware, as some writers produce: passes."""
    for library, symbols in (
        (MACRO_LIBRARY, ["SPY"]),
        (UNIVERSE_LIBRARY, _universe_stocks(world)),
    ):
        lib = world.arctic.get_library(library)
        for symbol in symbols:
            frame = lib.read(symbol).data
            if frame.index.tz is None:
                frame.index = frame.index.tz_localize("UTC")
                lib.write(symbol, frame)


def pytest_dataflight_faults() -> Mapping[str, Callable[[MockWorld], None]]:
    return {
        "constituents_exactly_800": constituents_exactly_800,
        "ticker_two_behind": ticker_two_behind,
        "everything_utc": everything_utc,
    }
