"""Read-only means read-only: the S3 client a check receives refuses writes, on both targets."""

from __future__ import annotations

# Loaded once: in-process pytester runs restore sys.modules afterwards.
import arcticdb  # noqa: F401
import boto3  # noqa: F401
import pytest
from plugin_helpers import (
    LIVE_ARGS,
    MOCK_ARGS,
    live_env,
    live_store,
    unique_bucket,
)

pytestmark = pytest.mark.usefixtures("clean_env")

SEED = """
def pytest_dataflight_seed(world):
    world.put_json("market_data/latest_weekly.json", {"date": "2026-04-18"})
"""

CHECKS = """
import json

import pytest

from pytest_dataflight import ReadOnlyViolation, contract

POINTER = "market_data/latest_weekly.json"


def read_pointer(s3, bucket):
    return json.loads(s3.get_object(Bucket=bucket, Key=POINTER)["Body"].read())


@contract(stage="postflight", phases=[], consumers=["research"])
def test_postflight_may_read(s3, bucket):
    assert read_pointer(s3, bucket) == {"date": "2026-04-18"}
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] >= 1
    s3.head_object(Bucket=bucket, Key=POINTER)


@contract(stage="postflight", phases=[], consumers=["research"])
def test_postflight_put_is_refused(s3, bucket):
    with pytest.raises(ReadOnlyViolation, match="S3 PutObject .* refused: this check may read"):
        s3.put_object(Bucket=bucket, Key=POINTER, Body=b"{}")
    with pytest.raises(ReadOnlyViolation, match="PutObject"):
        s3.put_object(Bucket=bucket, Key="preflight/sentinel", Body=b"x")


@contract(stage="postflight", phases=[], consumers=["research"])
def test_postflight_delete_is_refused(s3, bucket):
    with pytest.raises(ReadOnlyViolation, match="DeleteObject"):
        s3.delete_object(Bucket=bucket, Key=POINTER)
    with pytest.raises(ReadOnlyViolation, match="DeleteObjects"):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": POINTER}]})


@contract(stage="postflight", phases=[], consumers=["research"])
def test_postflight_copy_is_refused(s3, bucket):
    with pytest.raises(ReadOnlyViolation, match="CopyObject"):
        s3.copy_object(
            Bucket=bucket,
            Key="market_data/copy.json",
            CopySource={"Bucket": bucket, "Key": POINTER},
        )


def test_a_plain_test_is_read_only_too(s3, bucket):
    with pytest.raises(ReadOnlyViolation):
        s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert read_pointer(s3, bucket) == {"date": "2026-04-18"}


@contract(stage="preflight", phases=[], consumers=["producer"])
def test_preflight_may_write_under_preflight_only(s3, bucket):
    s3.put_object(Bucket=bucket, Key="preflight/sentinel-1", Body=b"probe")
    assert s3.get_object(Bucket=bucket, Key="preflight/sentinel-1")["Body"].read() == b"probe"
    s3.delete_object(Bucket=bucket, Key="preflight/sentinel-1")
    with pytest.raises(ReadOnlyViolation, match="only PutObject/DeleteObject under preflight/"):
        s3.put_object(Bucket=bucket, Key="market_data/sentinel", Body=b"x")
    with pytest.raises(ReadOnlyViolation, match="DeleteObject"):
        s3.delete_object(Bucket=bucket, Key=POINTER)
    with pytest.raises(ReadOnlyViolation, match="CopyObject"):
        s3.copy_object(
            Bucket=bucket, Key="preflight/copy", CopySource={"Bucket": bucket, "Key": POINTER}
        )


@contract(stage="postflight", phases=[], consumers=["research"])
def test_zz_nothing_was_changed(s3, bucket):
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert [k for k in keys if not k.startswith("arcticdb/")] == [POINTER]
    assert read_pointer(s3, bucket) == {"date": "2026-04-18"}
"""


def test_read_only_on_the_mock_target(pytester: pytest.Pytester) -> None:
    # Given a seeded mock world and checks that try to write
    pytester.makeconftest(SEED)
    pytester.makepyfile(test_checks=CHECKS)
    # When they run on the mock target
    result = pytester.runpytest(*MOCK_ARGS)
    # Then every write outside a preflight's preflight/ was refused, reads worked,
    # and the bucket holds what the seed wrote, unchanged
    result.assert_outcomes(passed=7)


def test_read_only_on_the_live_target(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    with live_store() as store:
        # Given a "production" bucket holding the pointer, on a store we run ourselves
        bucket = unique_bucket(request)
        store.create_bucket(bucket, {"market_data/latest_weekly.json": {"date": "2026-04-18"}})
        live_env(monkeypatch, store.endpoint, bucket)
        pytester.makepyfile(test_checks=CHECKS)
        # When the same checks run against it with --target live
        result = pytester.runpytest(*LIVE_ARGS)
        # Then the guard is the same as on the mock target
        result.assert_outcomes(passed=7)
        # And the store really is unchanged, seen from outside
        listing = store.client("s3").list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listing["Contents"]] == ["market_data/latest_weekly.json"]
