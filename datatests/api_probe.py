"""Probing an external HTTP API and saying exactly what went wrong; keys never shown.

DESIGN.md, "Failed or error?": an API that answers and condemns the setup (a
refused key, a plan that does not cover the endpoint, a 200 that is not the
API's own JSON) *fails* the probe: do not retry, fix the setup. One that, after
the ``http`` fixture's bounded retries, does not answer, times out, or answers
5xx or 429 is an outage: the probe *errors* (``ApiUnavailable``), and the
orchestrator retries instead of paging a human.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pytest_dataflight import ApiUnavailable, mask_url

from .artifacts import one_line

# How much of an unexpected body a message quotes: enough to recognise a login
# page or an error object, short enough for one line of the terminal table.
EXCERPT_CHARS = 120
# urllib3's "... (Caused by ReadTimeoutError("<pool>: Read timed out. (...)"))".
_CAUSED_BY = re.compile(r"\(Caused by (\w+)\((['\"])(.*)\2\)\)$")


def get(http: Any, name: str, url: str, params: dict[str, Any], evidence: Any) -> Any:
    """GET ``url`` through the ``http`` fixture (bounded retries); raise
    :class:`ApiUnavailable` (the contract errors) if the API still did not answer,
    or did not answer in time."""
    import requests

    evidence["url"] = mask_url(url)
    try:
        response = http.get(url, params=params)
    except requests.RequestException as exc:
        timed_out = isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower()
        evidence["problem"] = "timeout" if timed_out else "unreachable"
        what = "did not answer in time" if timed_out else "is unreachable"
        raise ApiUnavailable(
            f"{name} {what} after the retries (an outage: retry later): {_reason(exc)}"
        ) from None
    evidence["status"] = response.status_code
    return response


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests error, on one line, keys masked.

    requests wraps urllib3's MaxRetryError, which quotes the whole URL (keys
    included) before the reason in brackets: the reason is what a reader needs.
    """
    text = one_line(str(exc))
    caused = _CAUSED_BY.search(text)
    inner = f"{caused.group(1)}: {caused.group(3)}" if caused else text
    return mask_url(inner)[:300]


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
    """Fail the contract unless ``response`` is a 200, naming what the status means;
    a 5xx or 429 (left after the retries) is an outage: :class:`ApiUnavailable`."""
    code = response.status_code
    if code == 200:
        return
    if code >= 500 or code == 429:
        # Still failing after the http fixture's retries: an outage, not a finding.
        meaning = "throttled" if code == 429 else "outage"
        raise ApiUnavailable(
            f"{name} answered {code} ({meaning}) after the retries: {body_excerpt(response)}"
        )
    if key_refused:
        fail_status(name, response, "the API key is refused")
    if meanings and code in meanings:
        fail_status(name, response, meanings[code])
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
