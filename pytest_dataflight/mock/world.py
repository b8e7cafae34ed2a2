"""What a data suite's seed and fault hooks receive; no pytest import."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from ..stores.trading_calendar import TradingCalendar
from .http_stub import HttpStub

# The IAM action moto checks for an S3 request of each HTTP method, on an object
# and on the bucket itself. moto authorizes HEAD bucket as its own "s3:HeadBucket"
# (AWS checks s3:ListBucket, which moto checks for listings only), so a HEAD-bucket
# denial here leaves listings, which ArcticDB needs, untouched.
_OBJECT_ACTIONS = {
    "GET": "s3:GetObject",
    "HEAD": "s3:GetObject",
    "PUT": "s3:PutObject",
    "POST": "s3:PutObject",  # multipart uploads
    "DELETE": "s3:DeleteObject",
}
_BUCKET_ACTIONS = {
    "HEAD": "s3:HeadBucket",
    "GET": "s3:ListBucket",
    "PUT": "s3:CreateBucket",
    "DELETE": "s3:DeleteBucket",
}


def _action(table: dict[str, str], method: str) -> str:
    try:
        return table[method.upper()]
    except KeyError:
        raise ValueError(f"cannot deny {method!r}: known methods {', '.join(table)}") from None


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
    # (IAM action, resource ARN) pairs the checks' credentials may not use; see deny_s3.
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
        """Make S3 answer the checks' ``method`` on keys under ``key_prefix`` with
        403 AccessDenied, as a role without that permission would get.

        Only the checks are refused (moto's IAM, with credentials of their own):
        this world keeps writing freely until the seed and faults are done."""
        action = _action(_OBJECT_ACTIONS, method)
        self.denied.append((action, f"arn:aws:s3:::{self.bucket}/{key_prefix}*"))

    def deny_s3_bucket(self, method: str) -> None:
        """Answer ``method`` on the bucket itself (HEAD bucket, say) with 403, objects untouched."""
        self.denied.append((_action(_BUCKET_ACTIONS, method), f"arn:aws:s3:::{self.bucket}"))

    def checks_policy(self) -> dict[str, Any]:
        """The IAM policy of the checks' credentials: everything but what was denied."""
        statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        statements += [
            {"Effect": "Deny", "Action": action, "Resource": resource}
            for action, resource in self.denied
        ]
        return {"Version": "2012-10-17", "Statement": statements}

    def library(self, name: str) -> Any:
        return self.arctic.get_library(name, create_if_missing=True)
