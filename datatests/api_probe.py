"""Probing an external HTTP API and saying exactly what went wrong; keys never shown."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_dataflight import mask_url


def get(http: Any, name: str, url: str, params: dict[str, Any], evidence: Any) -> Any:
    """GET ``url``; fail the contract if the API cannot be reached or does not answer in time.

    For a reachability probe an outage *is* the finding, so timeouts and
    refused connections fail (they do not error) the contract.
    """
    import requests

    evidence["url"] = mask_url(url)
    try:
        response = http.get(url, params=params)
    except requests.Timeout as exc:
        evidence["problem"] = "timeout"
        pytest.fail(f"{name} did not answer in time: {mask_url(str(exc))}", pytrace=False)
    except requests.RequestException as exc:
        evidence["problem"] = "unreachable"
        pytest.fail(f"{name} is unreachable: {mask_url(str(exc))}", pytrace=False)
    evidence["status"] = response.status_code
    return response


def body_excerpt(response: Any, limit: int = 200) -> str:
    return mask_url(response.text[:limit].replace("\n", " "))


def fail_status(name: str, response: Any, meaning: str) -> None:
    pytest.fail(
        f"{name} answered {response.status_code} ({meaning}): {body_excerpt(response)}",
        pytrace=False,
    )


def require_key(secret: Any, key_name: str, api: str) -> str:
    value = secret(key_name)
    if value is None:
        pytest.fail(
            f"{key_name} is not set (SSM or environment): cannot probe {api}", pytrace=False
        )
    return str(value)


def require_ok(
    name: str, response: Any, *, key_refused: bool, meanings: dict[int, str] | None = None
) -> None:
    """Fail the contract unless ``response`` is a 200, naming what the status means."""
    code = response.status_code
    if code == 200:
        return
    if key_refused:
        fail_status(name, response, "the API key is refused")
    if meanings and code in meanings:
        fail_status(name, response, meanings[code])
    if code >= 500:
        fail_status(name, response, "outage")
    fail_status(name, response, "unexpected answer, expected 200")
