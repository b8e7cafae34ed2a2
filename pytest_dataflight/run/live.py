"""The live target: its endpoints from the standard places; no pytest import.

Kept out of ``mock/`` so that a live run never imports the mock target.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..stores import clients
from ..stores.clients import Endpoints
from .settings import Settings


def api_env_name(api: str) -> str:
    return f"{api.upper()}_API_URL"


def live_endpoints(
    settings: Settings, apis: Mapping[str, str], env: Mapping[str, str]
) -> Endpoints:
    """Endpoints from the standard places: boto3's chain, AWS_ENDPOINT_URL*, DATAFLIGHT_*."""
    assert settings.bucket, "resolve() guarantees a bucket for live"
    s3_endpoint = clients.s3_endpoint_from_env(env)
    return Endpoints(
        bucket=settings.bucket,
        region=settings.region,
        s3_endpoint=s3_endpoint,
        ssm_endpoint=clients.ssm_endpoint_from_env(env),
        arctic_uri=settings.arctic_uri
        or clients.arctic_uri_for(settings.bucket, settings.region, s3_endpoint),
        api_urls={
            name: (env.get(api_env_name(name)) or default).rstrip("/")
            for name, default in apis.items()
        },
    )
