"""Probing an external HTTP API and saying exactly what went wrong; keys never shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_dataflight import mask_url

from .artifacts import one_line

# How much of an unexpected body a message quotes: enough to recognise a login
# page or an error object, short enough for one line of the terminal table.
EXCERPT_CHARS = 120


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


def body_excerpt(response: Any, limit: int = 200, key: str | None = None) -> str:
    """The first ``limit`` characters of the body on one line, keys masked."""
    text = mask_url(one_line(" ".join(response.text[: limit * 2].split())[:limit]))
    return text.replace(key, "***") if key and len(key) >= 4 else text


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


def _json_or_none(response: Any) -> tuple[bool, Any]:
    """(whether the body is JSON, its value)."""
    try:
        return True, response.json()
    except (ValueError, RecursionError):  # requests' JSONDecodeError is a ValueError
        return False, None


def require_shape(
    name: str,
    response: Any,
    evidence: Any,
    *,
    expected: str,
    holds: Callable[[Any], bool],
    key: str | None = None,
) -> Any:
    """The JSON body of a 200 if ``holds`` (the API's own shape); else fail naming what
    came back: content type, size and the first characters, keys masked.

    A captive portal or a proxy's login page answers 200 too: only the shape
    says the API itself answered.
    """
    is_json, body = _json_or_none(response)
    if is_json and holds(body):
        return body
    content_type = one_line(response.headers.get("Content-Type") or "no content type")[:100]
    excerpt = body_excerpt(response, EXCERPT_CHARS, key)
    evidence.update(content_type=content_type, body_start=excerpt)
    html = "html" in content_type.lower() or excerpt.lstrip().startswith("<")
    what = (
        "an HTML page (a captive portal or proxy answering in its place?)"
        if html
        else ("JSON of another shape" if is_json else "a body that is not JSON")
    )
    pytest.fail(
        f"{name} answered 200 with {what}, expected {expected}: {content_type}, "
        f"{len(response.content):,} bytes: {excerpt}",
        pytrace=False,
    )
