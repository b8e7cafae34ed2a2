"""What a data suite's seed and fault hooks receive; no pytest import."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from .http_stub import HttpStub
from .trading_calendar import TradingCalendar


@dataclass
class MockWorld:
    """Writable handles on the mock target, for seeding and breaking it.

    Checks never get these: they receive read-only clients through fixtures.
    """

    run_date: dt.date
    bucket: str
    s3: Any  # boto3 S3 client, unrestricted
    ssm: Any  # boto3 SSM client
    arctic: Any  # arcticdb.Arctic on the same bucket
    http: HttpStub
    calendar: TradingCalendar
    ssm_prefix: str
    endpoint: str
    # (method, key prefix) pairs the S3 endpoint answers with 403; see deny_s3.
    denied: list[tuple[str, str]] = field(default_factory=list)

    def put_json(self, key: str, obj: Any) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(obj).encode())

    def put_bytes(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def put_secret(self, name: str, value: str) -> None:
        self.ssm.put_parameter(
            Name=self.ssm_prefix.rstrip("/") + "/" + name,
            Value=value,
            Type="SecureString",
            Overwrite=True,
        )

    def delete_secret(self, name: str) -> None:
        self.ssm.delete_parameter(Name=self.ssm_prefix.rstrip("/") + "/" + name)

    def deny_s3(self, method: str, key_prefix: str) -> None:
        """Make the checks' S3 endpoint answer ``method`` on keys under ``key_prefix``
        with 403 AccessDenied, as a bucket policy would (moto enforces none)."""
        self.denied.append((method.upper(), f"{self.bucket}/{key_prefix}"))

    def deny_s3_bucket(self, method: str) -> None:
        """Answer ``method`` on the bucket itself (HEAD bucket, say) with 403, objects untouched."""
        self.denied.append((method.upper(), f"={self.bucket}"))

    def library(self, name: str) -> Any:
        return self.arctic.get_library(name, create_if_missing=True)
