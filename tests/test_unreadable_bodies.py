"""Bodies that are not what they claim: unreadable artifacts and APIs impersonated.

Given an artifact that cannot be read as JSON (not UTF-8, nested beyond the
bound, larger than the bound, not JSON, not an object), when a contract
reads it, then the contract fails with one line naming s3://bucket/key:
never a traceback, never an error. Given an API URL answered 200 by
something else (a captive portal's HTML, another JSON shape), when the probe
runs, then it fails naming the content type and the first characters, keys
masked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from datatests_helpers import describe, expect_only, run_datatests

from datatests import api_probe, artifacts
from datatests.artifact_schemas import MACRO
from datatests.artifacts import MAX_ARTIFACT_BYTES, MAX_ARTIFACT_DEPTH, read_artifact, read_json

BUCKET, KEY = "bkt", "market_data/weekly/2026-04-18/macro.json"
WHERE = f"s3://{BUCKET}/{KEY}"


class _Stream:
    def __init__(self, body: bytes) -> None:
        self.body, self.reads, self.closed = body, 0, False

    def read(self, amt: int | None = None) -> bytes:
        self.reads += 1
        chunk, self.body = self.body[: amt or None], self.body[amt or len(self.body) :]
        return chunk

    def close(self) -> None:
        self.closed = True


class _S3:
    """get_object only, answering ``body`` and announcing ``length`` (None: not announced)."""

    def __init__(self, body: bytes, length: int | None = -1) -> None:
        self.stream = _Stream(body)
        self.length = len(body) if length == -1 else length

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        answer: dict[str, Any] = {"Body": self.stream}
        if self.length is not None:
            answer["ContentLength"] = self.length
        return answer


def _failure(body: bytes, length: int | None = -1) -> str:
    with pytest.raises(pytest.fail.Exception) as info:
        read_json(_S3(body, length), BUCKET, KEY)
    assert info.value.pytrace is False
    message = str(info.value.msg)
    assert "\n" not in message and "\r" not in message
    message.encode("utf-8")  # no lone surrogate: the report and terminal can write it
    return message


def test_deep_nesting_fails_naming_the_key_without_recursion() -> None:
    message = _failure(b"[" * 100_000 + b"]" * 100_000)
    assert message == f"{WHERE} nests arrays/objects 100,000 levels deep, more than the 64 bound"


def test_depth_bound_is_exact_and_strings_do_not_count() -> None:
    at_bound = b"[" * MAX_ARTIFACT_DEPTH + b"]" * MAX_ARTIFACT_DEPTH
    assert read_json(_S3(at_bound), BUCKET, KEY) is not None
    assert "65 levels deep" in _failure(b"{" + b'"a":[' * 64 + b"]" * 64 + b"}")
    # Brackets inside strings, escaped quotes included, are text, not nesting.
    text = json.dumps({"a": "[" * 500 + '\\"{{{' + "{" * 500}).encode()
    assert read_json(_S3(text), BUCKET, KEY) == json.loads(text)


def test_invalid_utf8_fails_naming_the_key_and_the_byte() -> None:
    message = _failure(b'{"source": "Soci\xe9t\xe9"}')
    assert message == (
        f"{WHERE} is not UTF-8 (21 bytes): byte 0xe9 at offset 16 (invalid continuation byte)"
    )


def test_not_json_fails_naming_the_key() -> None:
    assert _failure(b'{"fed_funds_rate": 4.33, "treasu').startswith(
        f"{WHERE} is not valid JSON (32 bytes): Unterminated string"
    )


def test_announced_size_beyond_the_bound_fails_before_reading() -> None:
    s3 = _S3(b"{}", length=MAX_ARTIFACT_BYTES + 1)
    with pytest.raises(pytest.fail.Exception) as info:
        read_json(s3, BUCKET, KEY)
    assert info.value.msg == f"{WHERE} is 67,108,865 bytes, more than the 67,108,864 bound"
    assert s3.stream.reads == 0 and s3.stream.closed


def test_unannounced_size_beyond_the_bound_fails_while_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(artifacts, "MAX_ARTIFACT_BYTES", 10)
    monkeypatch.setattr(artifacts, "_READ_CHUNK", 4)
    assert _failure(b'{"a": [1, 2, 3]}', length=None) == f"{WHERE} is more than the 10 bytes bound"


def test_odd_strings_parse_and_never_break_a_message() -> None:
    # Lone surrogates and control characters are valid JSON: the data is read as it is.
    body = b'{"t": "\\ud800\\u0007\\n"}'
    assert read_json(_S3(body), BUCKET, KEY) == {"t": "\ud800\x07\n"}
    key = "odd/\ud800\x07\nkey.json"
    assert read_json(_S3(b"[1]"), BUCKET, key) == [1]  # an array is JSON: read fine
    with pytest.raises(pytest.fail.Exception) as info:
        read_artifact(_S3(b'{"fed_funds_rate": "\\ud800\\u0007\\n"}'), BUCKET, key, MACRO)
    assert info.value.msg == (
        "s3://bkt/odd/\\ud800\\x07\\nkey.json breaks its schema "
        'datatests/schemas/macro.schema.json: fed_funds_rate is "\\ud800\\u0007\\n", '
        "expected a number or null"
    )
    str(info.value.msg).encode("utf-8")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"[]", "an empty array"),
        (b'"x"', '"x"'),
        (b"4.33", "4.33"),
        (b"true", "true"),
        (b"null", "null"),
    ],
)
def test_not_an_object_names_the_key_and_the_json_value(body: bytes, kind: str) -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        read_artifact(_S3(body), BUCKET, KEY, MACRO)
    assert info.value.msg == (
        f"{WHERE} breaks its schema datatests/schemas/macro.schema.json: "
        f"the document is {kind}, expected an object"
    )
    assert info.value.pytrace is False


# --- probes ------------------------------------------------------------------------------

LOGIN = (
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\r\n<body>"
    '<a href="https://api.stlouisfed.org/x?api_key=fred-canary-1234">retry</a></body></html>'
)


def _response(body: str | bytes, content_type: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body.encode() if isinstance(body, str) else body
    response.encoding = "utf-8"
    if content_type:
        response.headers["Content-Type"] = content_type
    return response


def _shape_failure(response: requests.Response, evidence: dict[str, Any]) -> str:
    with pytest.raises(pytest.fail.Exception) as info:
        api_probe.require_shape(
            "FRED",
            response,
            evidence,
            expected="a JSON object with an 'observations' list",
            holds=lambda b: isinstance(b, dict) and isinstance(b.get("observations"), list),
            key="fred-canary-1234",
        )
    assert info.value.pytrace is False
    message = str(info.value.msg)
    assert "\n" not in message and "\r" not in message
    return message


def test_a_login_page_fails_the_probe_naming_content_type_and_start() -> None:
    evidence: dict[str, Any] = {}
    message = _shape_failure(_response(LOGIN, "text/html; charset=utf-8"), evidence)
    assert message.startswith(
        "FRED answered 200 with an HTML page (a captive portal or proxy answering in its "
        "place?), expected a JSON object with an 'observations' list: text/html; charset=utf-8, "
        f"{len(LOGIN.encode()):,} bytes: <!DOCTYPE html> <html><head><title>Sign in</title>"
    )
    assert "fred-canary-1234" not in message + json.dumps(evidence)
    assert evidence["content_type"] == "text/html; charset=utf-8"
    assert evidence["body_start"].startswith("<!DOCTYPE html>")


def test_other_json_or_no_json_fails_the_probe() -> None:
    wrong = _shape_failure(_response('{"observations": {}}', "application/json"), {})
    assert "with JSON of another shape" in wrong and 'bytes: {"observations": {}}' in wrong
    broken = _shape_failure(_response(b"\xff\xfe[[", None), {})
    assert "with a body that is not JSON" in broken and ": no content type, 4 bytes: " in broken


def test_the_api_own_shape_passes_the_probe() -> None:
    body = {"observations": [{"value": "4.33"}]}
    assert (
        api_probe.require_shape(
            "FRED",
            _response(json.dumps(body), "application/json"),
            {},
            expected="",
            holds=lambda b: isinstance(b.get("observations"), list),
        )
        == body
    )


# --- end to end, on the mock world: the "Why" of issue 9 ---------------------------------


@pytest.mark.slow
def test_deeply_nested_artifact_fails_its_contract_without_traceback(
    pytester: pytest.Pytester,
) -> None:
    result, observed = run_datatests(pytester, "2026-04-18", faults=["macro_json_deep"])
    assert expect_only(observed, {"macro_json": "failed"}) == [], describe(result)
    assert (
        "s3://dataflight-mock/market_data/weekly/2026-04-18/macro.json nests arrays/objects "
        "100,000 levels deep, more than the 64 bound"
    ) in describe(result)
    output = result.stdout.str() + result.stderr.str()
    assert "RecursionError" not in output and "Traceback" not in output
    assert "artifacts.py:" not in output  # no frame of ours shown: pytrace=False


@pytest.mark.slow
def test_captive_portal_fails_the_probes(pytester: pytest.Pytester) -> None:
    faults = ["fred_captive_portal", "polygon_captive_portal"]
    result, observed = run_datatests(pytester, "2026-04-18", faults=faults)
    broken = {"fred_reachable": "failed", "polygon_reachable": "failed"}
    assert expect_only(observed, broken) == [], describe(result)
    for api in ("FRED", "polygon.io"):
        assert f"{api} answered 200 with an HTML page" in describe(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
