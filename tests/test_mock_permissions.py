"""403 faults come from moto's own IAM: the checks run as a user without the denied actions.

Given a mock target whose fault denies something, when it starts, then the
checks' credentials (S3, SSM and the ArcticDB URI alike) are those of an IAM
user refused exactly that, while the world was seeded freely; a healthy target
keeps the plain mock credentials and moto checks nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import scrub_environment

from pytest_dataflight.mock.target import MOCK_CREDENTIALS, MockTarget
from pytest_dataflight.mock.world import MockWorld
from pytest_dataflight.run.settings import Settings
from pytest_dataflight.stores import clients
from pytest_dataflight.stores.clients import Endpoints

BUCKET = "dataflight-permissions"
SSM_PREFIX = "/dataflight/"


def seed(world: MockWorld) -> None:
    world.put_json("pointer.json", {"date": world.run_date.isoformat()})
    world.put_secret("API_KEY", "seeded-secret-value")
    world.library("macro").write("SPY", _frame())


def _frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"Close": [1.0, 2.0]}, index=pd.bdate_range("2026-04-16", periods=2))


def deny_preflight_and_head(world: MockWorld) -> None:
    world.deny_s3("PUT", "preflight/")
    world.deny_s3_bucket("HEAD")


@pytest.fixture
def start_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., Endpoints]]:
    """Start a seeded mock target with the given faults; stopped after the test."""
    scrub_environment(monkeypatch, tmp_path)
    started: list[MockTarget] = []

    def start(**faults: Callable[[MockWorld], None]) -> Endpoints:
        settings = Settings(
            run_date=dt.date(2026, 4, 18),
            target="mock",
            report=str(tmp_path / "report.json"),
            ssm_prefix=SSM_PREFIX,
            faults=tuple(faults),
            bucket=BUCKET,
        )
        target = MockTarget(settings, apis={}, seed=seed, faults=faults)
        started.append(target)
        return target.start()

    yield start
    for target in started:
        target.stop()


def _client(endpoints: Endpoints, service: str) -> Any:
    return clients.make_client(
        service, endpoints.s3_endpoint, endpoints.region, credentials=endpoints.credentials
    )


def _error_code(call: Callable[[], Any]) -> str:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


@pytest.mark.slow
def test_denied_actions_answer_403_from_moto_and_nothing_else_does(
    start_target: Callable[..., Endpoints],
) -> None:
    # Given a target whose fault denies PUT under preflight/ and HEAD on the bucket
    endpoints = start_target(deny=deny_preflight_and_head)

    # Then the checks hold an IAM user's key, in boto3's terms and in ArcticDB's URI
    assert endpoints.credentials is not None and endpoints.credentials != MOCK_CREDENTIALS
    key_id = endpoints.credentials["aws_access_key_id"]
    assert f"access={key_id}&" in str(endpoints.arctic_uri)
    # and no proxy stands between them and moto
    assert endpoints.s3_endpoint == endpoints.ssm_endpoint

    # and with it moto itself refuses exactly what was denied
    s3 = _client(endpoints, "s3")
    assert _error_code(lambda: s3.head_bucket(Bucket=BUCKET)) == "403"
    put = lambda key: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")  # noqa: E731
    assert _error_code(lambda: put("preflight/probe")) == "AccessDenied"

    # while reads, listings, other writes, SSM and ArcticDB keep working
    assert s3.get_object(Bucket=BUCKET, Key="pointer.json")["Body"].read()
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="pointer")["KeyCount"] == 1
    put("elsewhere/probe")
    s3.delete_object(Bucket=BUCKET, Key="elsewhere/probe")
    ssm = _client(endpoints, "ssm")
    secret = ssm.get_parameter(Name=f"{SSM_PREFIX}API_KEY", WithDecryption=True)
    assert secret["Parameter"]["Value"] == "seeded-secret-value"
    arctic = clients.open_arctic(str(endpoints.arctic_uri))
    assert arctic.list_libraries() == ["macro"]
    assert len(arctic.get_library("macro").read("SPY").data) == 2

    # and the seed's own credentials are no longer accepted: moto enforces IAM
    seeder = clients.make_client(
        "s3", endpoints.s3_endpoint, "us-east-1", credentials=MOCK_CREDENTIALS
    )
    assert _error_code(lambda: seeder.head_bucket(Bucket=BUCKET)) == "403"


@pytest.mark.slow
def test_healthy_target_keeps_the_mock_credentials_and_moto_checks_nothing(
    start_target: Callable[..., Endpoints],
) -> None:
    # Given a target without faults
    endpoints = start_target()

    # Then the checks use the plain mock credentials
    assert endpoints.credentials == MOCK_CREDENTIALS
    # and moto accepts any key at all: IAM enforcement is off
    stranger = {"aws_access_key_id": "unknown-key", "aws_secret_access_key": "unknown"}
    s3 = clients.make_client("s3", endpoints.s3_endpoint, "us-east-1", credentials=stranger)
    s3.head_bucket(Bucket=BUCKET)


def test_unknown_method_cannot_be_denied() -> None:
    world = MockWorld(
        run_date=dt.date(2026, 4, 18),
        bucket=BUCKET,
        s3=None,
        ssm=None,
        arctic=None,
        http=None,  # type: ignore[arg-type]
        calendar=None,  # type: ignore[arg-type]
        ssm_prefix=SSM_PREFIX,
        endpoint="",
    )
    with pytest.raises(ValueError, match="cannot deny 'PATCH': known methods GET, HEAD"):
        world.deny_s3("PATCH", "preflight/")
