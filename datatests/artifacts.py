"""Reading the pipeline's JSON artifacts with messages that need no debugger."""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

import pytest

from pytest_dataflight import ArtifactSchema, describe_violations, is_store_failure

# Bounds on one artifact. Each is far above what the pipeline writes and far
# below what would hurt the run, so crossing one is a finding about the data.
#
# Size: the largest artifact (constituents.json, ~900 tickers with sectors) is
# well under 1 MiB; 64 MiB leaves room for growth while one parse (about ten
# times the bytes in Python objects) stays within a container's memory. The
# ContentLength is checked before any byte is read.
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
# Nesting: the layout nests 3 deep (short_interest.json: object, "data",
# ticker entry). Python's json parser recurses once per level and raises
# RecursionError near 1,000 (fewer inside pytest); 64 is checked by a scan
# that does not recurse, before the parser runs.
MAX_ARTIFACT_DEPTH = 64
# Shape violations a message names (the evidence keeps 20): enough to see the pattern.
SHOWN_VIOLATIONS = 5


def read_json(s3: Any, bucket: str, key: str, *, optional: bool = False, why: str = "") -> Any:
    """The parsed object at ``key``; fails (or skips, if ``optional``) with the reason.

    A body that cannot be read as JSON fails the contract with one line naming
    s3://bucket/key: larger than MAX_ARTIFACT_BYTES (64 MiB), not UTF-8,
    nested deeper than MAX_ARTIFACT_DEPTH (64), or not JSON.

    Connection errors are left to propagate: the plugin reports them as
    "could not be evaluated", not as bad data.
    """
    from botocore.exceptions import ClientError

    try:
        body = _read_bounded(s3.get_object(Bucket=bucket, Key=key), f"s3://{bucket}/{key}")
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
    return parse_artifact(body, f"s3://{bucket}/{key}")


def read_artifact(
    s3: Any,
    bucket: str,
    key: str,
    schema: ArtifactSchema,
    evidence: Any = None,
    *,
    optional: bool = False,
    why: str = "",
) -> Any:
    """The artifact at ``key``, read as :func:`read_json` does and held to ``schema``:
    the contract fails on any problem of shape, before any rule about meaning is judged."""
    document = read_json(s3, bucket, key, optional=optional, why=why)
    require_shape(document, schema, f"s3://{bucket}/{key}", evidence)
    return document


def require_shape(document: Any, schema: ArtifactSchema, where: str, evidence: Any = None) -> None:
    """Fail with :func:`shape_problem`'s line, if there is one."""
    problem = shape_problem(document, schema, where, evidence)
    if problem:
        _fail(problem)


def shape_problem(
    document: Any, schema: ArtifactSchema, where: str, evidence: Any = None
) -> str | None:
    """One line naming ``where`` (``s3://bucket/key``), the schema and the JSON path of
    each violation; None when the document has its shape. The violations go to
    ``evidence`` too, when given.
    """
    violations, total = schema.violations(document)
    if not total:
        return None
    if evidence is not None:
        evidence.update(
            schema=schema.path,
            shape_violation_count=total,
            shape_violations=[str(v) for v in violations],
        )
    described = describe_violations(violations[:SHOWN_VIOLATIONS], total)
    return one_line(f"{where} breaks its schema {schema.path}: {described}")


_READ_CHUNK = 1024 * 1024
# A JSON string, escapes included; on UTF-8 bytes, since no byte of a multi-byte
# character is ASCII, neither quotes nor brackets can hide inside one.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Brackets to +1 (opening) and -1 (closing, 0xff as int8); every other byte deleted.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _fail(message: str) -> NoReturn:
    pytest.fail(one_line(message), pytrace=False)


def one_line(text: str) -> str:
    """``text`` fit for a one-line message: line breaks, control characters and lone
    surrogates (valid in JSON, unencodable in UTF-8) shown as escapes."""
    return "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else ascii(c)[1:-1] for c in text
    )


def _read_bounded(response: Any, where: str) -> bytes:
    """The body of a GetObject ``response``, refused beyond MAX_ARTIFACT_BYTES.

    The announced ContentLength is checked before reading; the bytes are
    counted as they arrive too, in case the length was not announced.
    """
    stream = response["Body"]
    announced = response.get("ContentLength")
    if isinstance(announced, int) and announced > MAX_ARTIFACT_BYTES:
        stream.close()
        _fail(f"{where} is {announced:,} bytes, more than the {MAX_ARTIFACT_BYTES:,} bound")
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_READ_CHUNK):
        size += len(chunk)
        if size > MAX_ARTIFACT_BYTES:
            stream.close()
            _fail(f"{where} is more than the {MAX_ARTIFACT_BYTES:,} bytes bound")
        chunks.append(chunk)
    return b"".join(chunks)


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in the JSON ``body``, found without parsing
    (so without recursion): brackets outside strings, counted up and down."""
    import numpy as np

    steps = _JSON_STRING.sub(b"", body).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    depth = deepest = 0
    for start in range(0, len(steps), _READ_CHUNK):
        part = np.frombuffer(
            steps, dtype=np.int8, count=min(_READ_CHUNK, len(steps) - start), offset=start
        )
        running = np.cumsum(part, dtype=np.int32) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


def parse_artifact(body: bytes, where: str) -> Any:
    """The JSON value in ``body``; fails naming ``where`` when it is not UTF-8, nests
    deeper than MAX_ARTIFACT_DEPTH or is not JSON."""
    try:
        # RFC 8259: JSON between systems is UTF-8; a byte order mark may be ignored.
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        _fail(
            f"{where} is not UTF-8 ({len(body):,} bytes): byte 0x{body[exc.start]:02x} "
            f"at offset {exc.start:,} ({exc.reason})"
        )
    # Fewer opening brackets than the bound cannot nest beyond it: most artifacts skip the scan.
    openings = body.count(b"[") + body.count(b"{")
    depth = nesting_depth(body) if openings > MAX_ARTIFACT_DEPTH else openings
    if depth > MAX_ARTIFACT_DEPTH:
        _fail(
            f"{where} nests arrays/objects {depth:,} levels deep, "
            f"more than the {MAX_ARTIFACT_DEPTH} bound"
        )
    try:
        return json.loads(text)
    except RecursionError:  # not reached below the bound; kept so no traceback ever escapes
        _fail(f"{where} nests too deep for Python's JSON parser")
    except ValueError as exc:
        _fail(f"{where} is not valid JSON ({len(body):,} bytes): {exc}")


def finite_number(value: Any) -> float | None:
    """The value as a float if it is a real, finite JSON number (not a bool, NaN or Infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def names(items: list[str], limit: int = 10) -> str:
    """'A, B, C and 7 more' for messages; the full list goes to evidence."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
