"""Reading the policy file's bytes from a path or from S3; no pytest import.

Never a silent fallback to the defaults: a policy that does not exist is a
usage error (:class:`PolicyMissing`); one on S3 that the store could not
serve is an error to retry (:class:`StoreUnreachable`, by the store's own
classifier).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..stores import clients
from ..stores.clients import StoreUnreachable
from .settings import Settings

# A policy is a page of TOML; anything far larger is the wrong file.
MAX_POLICY_BYTES = 1024 * 1024


class PolicyMissing(ValueError):
    """The policy named does not exist or is not a policy file: a usage error."""


def read_policy(source: str, base: Path, settings: Settings, env: Mapping[str, str]) -> bytes:
    """The bytes of the policy at ``source`` (a path, relative to ``base``, or s3://)."""
    if source.startswith("s3://"):
        return _read_s3(source, settings, env)
    path = base / source
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyMissing(f"policy {source}: larger than {MAX_POLICY_BYTES:,} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise PolicyMissing(f"policy {source}: no such file ({path})") from None
    except IsADirectoryError:
        raise PolicyMissing(f"policy {source}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise PolicyMissing(f"policy {source}: cannot be read: {exc.strerror or exc}") from None


def _read_s3(url: str, settings: Settings, env: Mapping[str, str]) -> bytes:
    from botocore.exceptions import ClientError

    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    client = clients.make_client(
        "s3",
        clients.s3_endpoint_from_env(env),
        settings.region,
        write_mode=clients.WriteMode.READ_ONLY,
    )
    try:
        answer = client.get_object(Bucket=bucket, Key=key)
        body = answer["Body"].read(MAX_POLICY_BYTES + 1)
    except ClientError as exc:
        phrase = clients.store_failure(exc)
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if phrase is not None:
            raise StoreUnreachable(f"policy {url} could not be read: the store {phrase}") from None
        raise PolicyMissing(f"policy {url}: S3 answered {code or 'an error'}") from None
    except Exception as exc:
        phrase = clients.store_failure(exc)
        if phrase is None:
            raise
        raise StoreUnreachable(
            f"policy {url} could not be read: S3 endpoint "
            f"{clients.s3_endpoint_from_env(env) or 'of ' + settings.region} {phrase}"
        ) from None
    if len(body) > MAX_POLICY_BYTES:
        raise PolicyMissing(f"policy {url}: larger than {MAX_POLICY_BYTES:,} bytes")
    return bytes(body)
