"""pytest-dataflight: data contracts as ordinary pytest tests."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .clients import Endpoints, ReadOnlyViolation, StoreUnreachable
from .contract import ContractInfo, contract
from .evidence import Evidence
from .http_stub import HttpStub
from .masking import Masker, mask_url
from .moto_server import MotoServer
from .secret_store import Secret, SecretStore
from .state import usage_error
from .trading_calendar import CalendarError, TradingCalendar
from .world import MockWorld

try:
    __version__ = version("pytest-dataflight")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CalendarError",
    "ContractInfo",
    "Endpoints",
    "Evidence",
    "HttpStub",
    "Masker",
    "MockWorld",
    "MotoServer",
    "ReadOnlyViolation",
    "Secret",
    "SecretStore",
    "StoreUnreachable",
    "TradingCalendar",
    "__version__",
    "contract",
    "mask_url",
    "usage_error",
]
