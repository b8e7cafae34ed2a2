"""The mock target: moto_server, ArcticDB on its bucket, the HTTP stub, and the world's lifecycle.

No pytest import: the plugin passes in the suite's hooks as plain callables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..run.settings import Settings
from ..stores import clients
from ..stores.clients import Endpoints
from ..stores.trading_calendar import TradingCalendar
from .http_stub import HttpStub
from .moto_server import FAKE_CREDENTIALS, MotoServer, iam_user_key
from .world import MockWorld

Fault = Callable[[MockWorld], None]
# The mock world must not depend on (or pick up) the environment's AWS credentials.
MOCK_CREDENTIALS = {
    "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
}
# The IAM user the checks run as when a fault denied them something.
CHECKS_USER = "dataflight-checks"


class UnknownFault(ValueError):
    pass


def check_faults(requested: Iterable[str], known: Mapping[str, Fault]) -> None:
    unknown = [name for name in requested if name not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none: the suite defines no faults"
        raise UnknownFault(f"unknown --mock-fault {', '.join(unknown)}; known faults: {listing}")


class MockTarget:
    """moto_server (S3 + SSM), ArcticDB on its bucket, and the HTTP stub, seeded once."""

    def __init__(
        self,
        settings: Settings,
        apis: Mapping[str, str],
        seed: Callable[[MockWorld], None],
        faults: Mapping[str, Fault],
    ) -> None:
        assert settings.run_date is not None and settings.bucket is not None
        self.settings = settings
        self.run_date: dt.date = settings.run_date
        self.bucket: str = settings.bucket
        self.apis = dict(apis)
        self._seed = seed
        self._faults = faults
        self.moto = MotoServer()
        self.http = HttpStub()
        self.endpoints: Endpoints | None = None
        # --mock-arctic lmdb: ArcticDB in a local LMDB store instead of on moto.
        self._lmdb_dir: str | None = None

    def start(self) -> Endpoints:
        check_faults(self.settings.faults, self._faults)
        try:
            self.moto.start()
            self.http.start()
            world = self._world()
            self._seed(world)
            for name in self.settings.faults:
                self._faults[name](world)
            credentials = self._checks_credentials(world)
        except BaseException:
            self.stop()
            raise
        self.endpoints = Endpoints(
            bucket=self.bucket,
            region=self.settings.region,
            s3_endpoint=self.moto.endpoint,
            ssm_endpoint=self.moto.endpoint,
            arctic_uri=self._arctic_uri(credentials),
            api_urls={name: self.http.base_url(name) for name in self.apis},
            credentials=credentials,
        )
        return self.endpoints

    def _world(self) -> MockWorld:
        """The bucket, created, and unrestricted handles on everything, for seed and faults."""
        s3 = self._client("s3")
        s3.create_bucket(Bucket=self.bucket)
        return MockWorld(
            run_date=self.run_date,
            bucket=self.bucket,
            s3=s3,
            ssm=self._client("ssm"),
            arctic=clients.open_arctic(self._arctic_uri(MOCK_CREDENTIALS)),
            http=self.http,
            calendar=TradingCalendar(),
            ssm_prefix=self.settings.ssm_prefix,
            endpoint=self.moto.endpoint,
        )

    def _checks_credentials(self, world: MockWorld) -> Mapping[str, str]:
        """The mock credentials; or, if a fault denied something, those of an IAM user
        without it, with moto enforcing IAM from now on (so a 403 comes from moto itself).

        Only then: enforcement checks every request's signature and policy, and the
        healthy world need not pay for that.
        """
        if not world.denied:
            return MOCK_CREDENTIALS
        credentials = iam_user_key(self._client("iam"), CHECKS_USER, world.checks_policy())
        self.moto.enforce_iam()
        return credentials

    def _arctic_uri(self, credentials: Mapping[str, str]) -> str:
        if self.settings.mock_arctic == "lmdb":
            return f"lmdb://{self._lmdb()}"
        # Explicit credentials: the mock world must not depend on (or pick up)
        # whatever AWS credentials the environment holds.
        return (
            f"s3://{self.moto.host}:{self.bucket}?port={self.moto.port}"
            f"&path_prefix={clients.ARCTIC_PATH_PREFIX}"
            f"&access={credentials['aws_access_key_id']}"
            f"&secret={credentials['aws_secret_access_key']}"
            f"&region={self.settings.region}"
        )

    def _client(self, service: str) -> Any:
        return clients.make_client(
            service, self.moto.endpoint, self.settings.region, credentials=MOCK_CREDENTIALS
        )

    def _lmdb(self) -> str:
        """The run's LMDB directory, on tmpfs where there is one: ArcticDB documents
        LMDB on tmpfs as safe for concurrent writers (xdist workers and the seed)."""
        if self._lmdb_dir is None:
            shm = "/dev/shm"
            base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
            self._lmdb_dir = tempfile.mkdtemp(prefix="dataflight-arctic-", dir=base)
        return self._lmdb_dir

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.http.stop()
        self.moto.stop()
        if self._lmdb_dir is not None:
            shutil.rmtree(self._lmdb_dir, ignore_errors=True)
            self._lmdb_dir = None
