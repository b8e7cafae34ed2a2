"""Calling a contract function directly, as pytest would without a policy file.

Some tests drive one contract with many documents (Hypothesis) and call the
function itself: the ``thresholds`` and ``waivers`` fixtures it may ask for
are given here, from its own declaration, at their defaults.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

from pytest_dataflight.run.policy import thresholds_in_force, waivers_for


def policy_fixtures(contract: Callable[..., Any], run_date: dt.date) -> dict[str, Any]:
    """The keyword arguments for ``contract``'s ``thresholds``/``waivers``, if it takes them."""
    mark = next(m for m in getattr(contract, "pytestmark", []) if m.name == "contract")
    name = mark.args[0] if mark.args else contract.__name__.removeprefix("test_")
    params = inspect.signature(contract).parameters
    given: dict[str, Any] = {}
    if "thresholds" in params:
        given["thresholds"] = thresholds_in_force(name, mark.kwargs.get("thresholds") or {}, None)
    if "waivers" in params:
        given["waivers"] = waivers_for(name, None, run_date)
    return given
