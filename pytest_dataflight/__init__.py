"""pytest-dataflight: data contracts as ordinary pytest tests.

``__all__`` is what a suite (its contracts, its conftest, its mock world and
faults) uses; every other module is private to the plugin.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .options import add_option, option_value
from .report.evidence import Evidence
from .run.contract import ContractInfo, contract
from .run.policy import Threshold, Thresholds, Waivers
from .run.settings import OptionSpec
from .run.state import usage_error
from .run.thresholds import soft_threshold, warn
from .stores.artifact_schema import ArtifactSchema, Violation, describe_violations
from .stores.clients import (
    ApiUnavailable,
    BucketMissing,
    CredentialsRefused,
    LibraryMissing,
    MissingStore,
    ReadOnlyViolation,
    StoreUnreachable,
    is_store_failure,
)
from .stores.masking import mask_url
from .stores.trading_calendar import TradingCalendar
from .stores.windows import SymbolWindow, Window, WindowCache

if TYPE_CHECKING:
    from .mock.world import MockWorld


def __getattr__(name: str) -> Any:
    # MockWorld lives in mock/, which a live run never imports: it is loaded
    # on first use, by a suite's seed or faults (PEP 562).
    if name == "MockWorld":
        from .mock.world import MockWorld

        return MockWorld
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


try:
    __version__ = version("pytest-dataflight")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ApiUnavailable",
    "ArtifactSchema",
    "BucketMissing",
    "ContractInfo",
    "CredentialsRefused",
    "Evidence",
    "LibraryMissing",
    "MissingStore",
    "MockWorld",
    "OptionSpec",
    "ReadOnlyViolation",
    "StoreUnreachable",
    "SymbolWindow",
    "Threshold",
    "Thresholds",
    "TradingCalendar",
    "Violation",
    "Waivers",
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
