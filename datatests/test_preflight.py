"""Preflight: the producer's own dependencies, checked before it starts (PIPELINE.md)."""

from __future__ import annotations

import os
import uuid
import warnings
from typing import Any

import pytest

from pytest_dataflight import ContractInfo, LibraryMissing, contract, is_store_failure

from . import api_probe
from .layout import (
    APIS,
    FMP_PATH,
    FRED_PATH,
    PHASE_SECRETS,
    POLYGON_PATH,
    PREFLIGHT_PREFIX,
    PRODUCER,
    REQUIRED_LIBRARIES,
)


class PreflightWarning(UserWarning):
    """Something worth a look that does not stop the producer."""


def _selected_phases(session: pytest.Session, own: list[str]) -> list[str]:
    """The phases this run is for, among ``own``: those every selected contract shares.

    ``-m "preflight and phase1"`` selects only contracts that carry phase1, so
    their common phases are {phase1}; a run of everything shares none, which
    means all phases. Read from the selection rather than by parsing -m, so any
    way of selecting works.
    """
    common: set[str] | None = None
    for item in session.items:
        info = ContractInfo.from_item(item)
        if info is not None:
            common = set(info.phases) if common is None else common & set(info.phases)
    phases = [p for p in own if common and p in common]
    return phases or own


@contract(stage="preflight", phases=["phase1", "phase2"], consumers=[PRODUCER])
def test_secrets_present(request: pytest.FixtureRequest, secret: Any, evidence: Any) -> None:
    """AWS_REGION is set, and every secret of the selected phases (phase1: FRED_API_KEY,
    POLYGON_API_KEY; phase2: FMP_API_KEY, FINNHUB_API_KEY, EDGAR_IDENTITY) is in SSM
    Parameter Store or the environment.
    """
    phases = _selected_phases(request.session, list(PHASE_SECRETS))
    needed = [name for phase in phases for name in PHASE_SECRETS[phase]]
    missing = [name for name in needed if secret(name) is None]
    if not os.environ.get("AWS_REGION"):
        missing.insert(0, "AWS_REGION")
    evidence.update(phases=phases, checked=["AWS_REGION", *needed], missing=missing)
    if secret.ssm_problem:
        evidence["ssm_problem"] = secret.ssm_problem
    if missing:
        ssm = f"; {secret.ssm_problem}" if secret.ssm_problem else ""
        pytest.fail(
            f"missing for {', '.join(phases)}: {', '.join(missing)} "
            f"(looked in SSM Parameter Store under {secret.prefix}, then the environment{ssm}); "
            "the producer would fail mid-run",
            pytrace=False,
        )


@contract(stage="preflight", phases=["phase1", "phase2", "daily"], consumers=[PRODUCER])
def test_s3_bucket_reachable(s3: Any, bucket: str, evidence: Any) -> None:
    """HEAD bucket succeeds; 403 or 404 fails; a store that does not answer, answers 5xx or
    throttles is an error (retry).
    """
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if is_store_failure(exc):
            raise  # 5xx or throttling after the retries: an error (retry), not a finding
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code")
        evidence.update(status=status, code=code)
        meaning = {403: "access denied", 404: "no such bucket"}.get(status or 0, "refused")
        answer = f"{status}" if str(code) == str(status) else f"{status} {code}"
        pytest.fail(
            f"HEAD bucket {bucket!r} answered {answer} ({meaning}): "
            "the producer cannot read or write its bucket",
            pytrace=False,
        )
    evidence["status"] = 200


@contract(stage="preflight", phases=["phase1"], consumers=[PRODUCER])
def test_s3_writable(s3: Any, bucket: str, evidence: Any) -> None:
    """PUT then DELETE a unique sentinel under preflight/ succeeds; a failed DELETE is a
    warning, not a failure.
    """
    from botocore.exceptions import ClientError

    key = f"{PREFLIGHT_PREFIX}write-probe-{uuid.uuid4().hex}"
    evidence["key"] = key
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"dataflight write probe")
    except ClientError as exc:
        if is_store_failure(exc):
            raise  # 5xx or throttling after the retries: an error (retry), not a finding
        code = exc.response.get("Error", {}).get("Code")
        evidence["put"] = code
        pytest.fail(
            f"PUT s3://{bucket}/{key} refused ({code}): the producer cannot write its outputs",
            pytrace=False,
        )
    evidence["put"] = "ok"
    try:
        s3.delete_object(Bucket=bucket, Key=key)
        evidence["delete"] = "ok"
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        evidence["delete"] = code
        # The write worked, which is what the producer needs; a leftover sentinel is untidy.
        warnings.warn(
            PreflightWarning(f"DELETE s3://{bucket}/{key} refused ({code}): sentinel left behind"),
            stacklevel=1,
        )


@contract(stage="preflight", phases=["phase1", "daily"], consumers=[PRODUCER])
def test_arcticdb_libraries_present(arctic: Any, evidence: Any) -> None:
    """The ArcticDB libraries `universe` and `macro` exist."""
    present = sorted(arctic.list_libraries())
    missing = [lib for lib in REQUIRED_LIBRARIES if lib not in present]
    evidence.update(present=present, required=REQUIRED_LIBRARIES, missing=missing)
    for library in missing:
        # The one cause of every contract that reads it: the report groups them.
        raise LibraryMissing(library, present, "the producer would write into a fresh, empty store")


@contract(stage="preflight", phases=["phase1"], consumers=[PRODUCER])
def test_fred_reachable(http: Any, api_urls: dict[str, str], secret: Any, evidence: Any) -> None:
    """FRED `series/observations?series_id=DFF&limit=1` answers 200 with its own JSON shape (an
    `observations` list); 400 naming the key: bad key; 5xx: outage.
    """
    key = api_probe.require_key(secret, "FRED_API_KEY", "FRED")
    response = api_probe.get(
        http,
        "FRED",
        api_urls.get("fred", APIS["fred"]) + FRED_PATH,
        {"series_id": "DFF", "api_key": key, "file_type": "json", "sort_order": "desc", "limit": 1},
        evidence,
    )
    # FRED refuses a key with 400 and a message naming api_key.
    refused = response.status_code == 400 and "api_key" in response.text.lower()
    api_probe.require_ok("FRED", response, key_refused=refused)
    api_probe.require_shape(
        "FRED",
        response,
        evidence,
        expected="a JSON object with an 'observations' list",
        holds=lambda body: isinstance(body, dict) and isinstance(body.get("observations"), list),
        key=key,
    )


@contract(stage="preflight", phases=["phase1"], consumers=[PRODUCER])
def test_polygon_reachable(http: Any, api_urls: dict[str, str], secret: Any, evidence: Any) -> None:
    """polygon.io `v3/reference/tickers/AAPL` answers 200 with its own JSON shape (a `results`
    object); 401/403: bad key; 5xx: outage.
    """
    key = api_probe.require_key(secret, "POLYGON_API_KEY", "polygon.io")
    response = api_probe.get(
        http,
        "polygon.io",
        api_urls.get("polygon", APIS["polygon"]) + POLYGON_PATH,
        {"apiKey": key},
        evidence,
    )
    api_probe.require_ok("polygon.io", response, key_refused=response.status_code in (401, 403))
    api_probe.require_shape(
        "polygon.io",
        response,
        evidence,
        expected="a JSON object with a 'results' object",
        holds=lambda body: isinstance(body, dict) and isinstance(body.get("results"), dict),
        key=key,
    )


@contract(stage="preflight", phases=["phase2"], consumers=[PRODUCER])
def test_fmp_stable_reachable(
    http: Any, api_urls: dict[str, str], secret: Any, evidence: Any
) -> None:
    """FMP `stable/key-metrics-ttm?symbol=AAPL` answers 200 with a non-empty list; 402: the
    plan does not cover it.
    """
    key = api_probe.require_key(secret, "FMP_API_KEY", "FMP")
    response = api_probe.get(
        http,
        "FMP /stable",
        api_urls.get("fmp", APIS["fmp"]) + FMP_PATH,
        {"symbol": "AAPL", "apikey": key},
        evidence,
    )
    api_probe.require_ok(
        "FMP /stable",
        response,
        key_refused=response.status_code in (401, 403),
        meanings={402: "the plan does not cover this endpoint"},
    )
    body = api_probe.require_shape(
        "FMP /stable",
        response,
        evidence,
        expected="a non-empty JSON list (else key-metrics data would be empty)",
        holds=lambda body: isinstance(body, list) and len(body) > 0,
        key=key,
    )
    evidence["items"] = len(body)
