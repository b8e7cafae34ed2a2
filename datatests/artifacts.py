"""Reading the pipeline's JSON artifacts with messages that need no debugger."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from pytest_dataflight import is_store_failure


def read_json(s3: Any, bucket: str, key: str, *, optional: bool = False, why: str = "") -> Any:
    """The parsed object at ``key``; fails (or skips, if ``optional``) with the reason.

    Connection errors are left to propagate: the plugin reports them as
    "could not be evaluated", not as bad data.
    """
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_store_failure(exc):
            raise  # 5xx or throttling after the retries: an error (retry), not bad data
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            if optional:
                # ``why`` explains absence only: it is never appended to other failures.
                pytest.skip(f"optional artifact s3://{bucket}/{key} is absent{why}")
            pytest.fail(f"s3://{bucket}/{key} does not exist", pytrace=False)
        if code == "NoSuchBucket":
            pytest.fail(f"bucket {bucket!r} does not exist (reading {key})", pytrace=False)
        pytest.fail(f"s3://{bucket}/{key} could not be read: {code}", pytrace=False)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        pytest.fail(
            f"s3://{bucket}/{key} is not valid JSON ({len(body)} bytes): {exc}", pytrace=False
        )


def require_mapping(obj: Any, what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        pytest.fail(f"{what} is a JSON {type(obj).__name__}, expected an object", pytrace=False)
    return obj


def finite_number(value: Any) -> float | None:
    """The value as a float if it is a real, finite JSON number (not a bool, NaN or Infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def names(items: list[str], limit: int = 10) -> str:
    """'A, B, C and 7 more' for messages; the full list goes to evidence."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
