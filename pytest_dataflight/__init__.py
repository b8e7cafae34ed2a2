"""pytest-dataflight: data contracts as ordinary pytest tests.

``__all__`` is what a suite (its contracts, its conftest, its mock world and
faults) uses; every other module is private to the plugin.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .artifact_schema import ArtifactSchema, Violation, describe_violations
from .clients import ReadOnlyViolation, StoreUnreachable, is_store_failure
from .contract import ContractInfo, contract
from .evidence import Evidence
from .masking import mask_url
from .options import add_option, option_value
from .settings import OptionSpec
from .state import usage_error
from .thresholds import soft_threshold, warn
from .trading_calendar import TradingCalendar
from .windows import SymbolWindow, Window, WindowCache
from .world import MockWorld

try:
    __version__ = version("pytest-dataflight")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ArtifactSchema",
    "ContractInfo",
    "Evidence",
    "MockWorld",
    "OptionSpec",
    "ReadOnlyViolation",
    "StoreUnreachable",
    "SymbolWindow",
    "TradingCalendar",
    "Violation",
    "Window",
    "WindowCache",
    "__version__",
    "add_option",
    "contract",
    "describe_violations",
    "is_store_failure",
    "mask_url",
    "option_value",
    "soft_threshold",
    "usage_error",
    "warn",
]
