"""Per-process run state kept in ``config.stash``; builds clients lazily, once."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from ..stores import clients
from ..stores.clients import Endpoints, StoreHealth, WriteMode
from ..stores.masking import Masker
from ..stores.secret_store import SecretStore
from .policy import Policy, Threshold
from .settings import Settings

if TYPE_CHECKING:  # the mock target is imported by a mock run only (plugin._starter)
    from ..mock.target import MockTarget
from ..stores.trading_calendar import CalendarError, TradingCalendar


class TargetStartError(RuntimeError):
    """The target failed to start earlier in this run (on this process or the controller)."""


@dataclass
class RunState:
    """Everything the fixtures share within one process of a run."""

    settings: Settings
    # The one decision whether this is a data run (plugin._is_data_run): it
    # gets a report, and pytest's output is masked.
    data_run: bool = False
    masker: Masker = field(default_factory=Masker)
    # Set on the process that owns the mock world (controller or serial run).
    mock: MockTarget | None = None
    # Set when a worker received them from the controller.
    endpoints: Endpoints | None = None
    start_endpoints: Callable[[], Endpoints] | None = None
    # Why the target failed to start (a broken seed, say): every later caller,
    # on this process or on an xdist worker, errors with it instead of retrying.
    start_error: str | None = None
    # Why the target cannot serve this run date at all (its calendar cannot answer for
    # the history it seeds): a usage error, never a retryable error.
    unservable: str | None = None
    health: StoreHealth | None = None
    # Why an explicit ArcticDB URI (DATAFLIGHT_ARCTIC_URI) stopped working: its breaker.
    arctic_problem: str | None = None
    # The policy file in force (--dataflight-policy), its text for xdist workers, and
    # why it could not be read when the store failed (every contract errors with it).
    policy: Policy | None = None
    policy_text: str | None = None
    policy_problem: str | None = None
    # Every collected contract's declared thresholds (before -m/-k deselect any).
    declared: dict[str, Mapping[str, Threshold]] = field(default_factory=dict)
    calendar: TradingCalendar = field(default_factory=TradingCalendar)
    _clients: dict[str, Any] = field(default_factory=dict)
    _arctic: Any = None
    _secrets: SecretStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_endpoints(self) -> Endpoints:
        with self._lock:
            if self.endpoints is None:
                if self.start_error is not None:
                    raise TargetStartError(
                        f"the {self.settings.target} target failed to start: {self.start_error}"
                    )
                if self.start_endpoints is None:
                    raise pytest.UsageError(
                        "this test needs a data target: add --target mock or --target live"
                    )
                try:
                    self.endpoints = self.start_endpoints()
                except Exception as exc:
                    self.start_error = f"{type(exc).__name__}: {exc}"
                    if isinstance(exc, CalendarError):
                        self.unservable = str(exc)
                    raise
            return self.endpoints

    def client(self, service: str, mode: WriteMode | None = None) -> Any:
        """A cached boto3 client; S3 clients carry the write guard of ``mode``.

        ``mode=None`` is the probe client: read-only, and it tries once.
        """
        key = f"{service}:{mode or 'probe'}"
        if key not in self._clients:
            ep = self.get_endpoints()
            self._clients[key] = clients.make_client(
                service,
                ep.s3_endpoint if service == "s3" else ep.ssm_endpoint,
                ep.region,
                credentials=ep.credentials,
                write_mode=mode or WriteMode.READ_ONLY,
                one_attempt=mode is None,
            )
        return self._clients[key]

    def s3_health(self) -> StoreHealth:
        """Probe the S3 endpoint once; raise at once for every caller after a failure."""
        ep = self.get_endpoints()
        if self.health is None:
            self.health = StoreHealth(endpoint=ep.describe_s3())
        # A 5xx or throttling answer to the one-try probe is asked again with retries.
        self.health.probe(
            self.client("s3"), ep.bucket, lambda: self.client("s3", WriteMode.READ_ONLY)
        )
        self.health.require()
        return self.health

    def arctic(self) -> Any:
        # Every time, not only the first: the store may have failed since it was opened.
        # A missing bucket raises here too (BucketMissing): ArcticDB would show an
        # empty store instead of saying so.
        self.s3_health()
        if self.arctic_problem is not None:
            raise clients.ArcticUnreachable(self.arctic_problem)
        if self._arctic is None:
            ep = self.get_endpoints()
            assert ep.arctic_uri
            self._arctic = clients.open_arctic(ep.arctic_uri)
        return self._arctic

    def blames_arctic_uri(self, exc: BaseException) -> bool:
        """Whether ``exc``, a store failure, is ArcticDB's at an explicit URI
        (DATAFLIGHT_ARCTIC_URI) while the S3 endpoint itself answers."""
        if not self.settings.arctic_uri or isinstance(exc, clients.ArcticUnreachable):
            return False
        health = self.health
        if health is None or health.problem is not None:
            return False
        return type(exc).__module__.startswith("arcticdb") or "ArcticDB" in str(exc)

    def fail_arctic(self, exc: BaseException) -> str:
        """Trip the ArcticDB breaker for ``exc``; the one line that names the URI."""
        if self.arctic_problem is None:
            where = clients.describe_arctic_uri(self.settings.arctic_uri or "")
            phrase = clients.store_failure(exc) or "failed"
            self.arctic_problem = clients.one_line_error(
                f"ArcticDB at {where} (DATAFLIGHT_ARCTIC_URI) {phrase} while the S3 endpoint "
                f"{self.health.endpoint if self.health else ''} answers: is the URI right? "
                f"{type(exc).__name__}: {exc}"
            )
        return self.arctic_problem

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            environ: Mapping[str, str] = os.environ
            if self.settings.target == "mock":
                # The mock world's secrets live in its SSM only: a developer's real
                # keys in the environment must not make a fault pass.
                environ = {}
            self._secrets = SecretStore(
                self.settings.ssm_prefix,
                # Bounded retries, not the one-try probe: SSM throttles under load.
                lambda: self.client("ssm", WriteMode.READ_ONLY),
                self.masker,
                environ,
            )
        return self._secrets


settings_key = pytest.StashKey[Settings]()
state_key = pytest.StashKey[RunState]()
usage_error_key = pytest.StashKey[str]()


def usage_error(config: pytest.Config, message: str) -> pytest.UsageError:
    """A usage error to raise, recorded so the report can state it (exit 4).

    For a suite's own options too: raise ``usage_error(config, "...")`` from
    its ``pytest_configure`` instead of a bare ``pytest.UsageError``.
    """
    config.stash[usage_error_key] = message
    return pytest.UsageError(message)


def get_state(config: pytest.Config) -> RunState:
    try:
        return config.stash[state_key]
    except KeyError:
        raise pytest.UsageError(
            "pytest-dataflight is not configured for this run (its settings failed to resolve)"
        ) from None
