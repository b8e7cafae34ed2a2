"""This week's constituents and earlier weekly runs under ``market_data/weekly/<date>/``."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from pytest_dataflight import is_store_failure

from . import artifact_schemas as schemas
from .artifacts import read_artifact
from .layout import CONSTITUENTS_JSON, WEEKLY_ROOT, weekly_key

# A redrive on Sunday must compare with last week, not with Saturday's attempt.
MIN_DAYS_BEFORE = 5

_TICKERS_ONLY = schemas.CONSTITUENTS.outline("tickers")


def named(ticker: Any) -> bool:
    """A ticker as the schema's `tickers` items have it: a string without whitespace."""
    return isinstance(ticker, str) and re.fullmatch(r"\S+", ticker) is not None


def this_weeks_tickers(s3: Any, bucket: str, run_date: dt.date) -> tuple[str, list[str]]:
    """(key, distinct ticker names) of this week's constituents.json; fails if it has no
    `tickers` array. What is in the array is constituents_json's to judge: entries that are
    not names are left out here, so one bad entry fails one contract."""
    key = weekly_key(run_date, CONSTITUENTS_JSON)
    tickers = read_artifact(s3, bucket, key, _TICKERS_ONLY)["tickers"]
    return key, sorted({t for t in tickers if named(t)})


def this_weeks_tickers_or_why(
    s3: Any, bucket: str, run_date: dt.date
) -> tuple[str, list[str] | None, str]:
    """(key, tickers, "") or, when constituents.json cannot be read (absent, not JSON, no
    `tickers` array), (key, None, why): the universe_* contracts then judge every stock.
    A store that failed still errors the contract: that is no verdict on the file."""
    key = weekly_key(run_date, CONSTITUENTS_JSON)
    try:
        return (*this_weeks_tickers(s3, bucket, run_date), "")
    except pytest.fail.Exception as exc:
        return key, None, str(exc.msg)


def weekly_dates(s3: Any, bucket: str) -> list[dt.date]:
    """Dates of the ``market_data/weekly/<date>/`` folders, newest first; other names ignored."""
    from botocore.exceptions import ClientError

    found: set[dt.date] = set()
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=WEEKLY_ROOT, Delimiter="/"
        )
        for page in pages:
            for prefix in page.get("CommonPrefixes", []):
                name = prefix["Prefix"][len(WEEKLY_ROOT) :].rstrip("/")
                try:
                    found.add(dt.date.fromisoformat(name))
                except ValueError:
                    continue
    except ClientError as exc:
        if is_store_failure(exc):
            raise  # 5xx or throttling after the retries: an error (retry), not bad data
        code = str(exc.response.get("Error", {}).get("Code", ""))
        pytest.fail(f"listing s3://{bucket}/{WEEKLY_ROOT} was refused: {code}", pytrace=False)
    return sorted(found, reverse=True)


def _tickers_at(s3: Any, bucket: str, key: str) -> list[Any] | None | str:
    """The ``tickers`` list at ``key``; None when the object is absent; a text when unusable."""
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_store_failure(exc):
            raise
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            return None
        return f"could not be read: {code}"
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return f"is not valid JSON: {type(exc).__name__}"
    tickers = doc.get("tickers") if isinstance(doc, dict) else None
    if not isinstance(tickers, list):
        return "has no 'tickers' list"
    return tickers


def previous_run(
    s3: Any, bucket: str, run_date: dt.date
) -> tuple[dt.date, list[Any] | str] | tuple[None, str]:
    """(date, its tickers or why they are unusable) of the latest weekly folder at least
    MIN_DAYS_BEFORE days before ``run_date`` that holds a constituents.json; else
    (None, what was looked at)."""
    dates = weekly_dates(s3, bucket)
    latest_allowed = run_date - dt.timedelta(days=MIN_DAYS_BEFORE)
    candidates = [d for d in dates if d <= latest_allowed]
    for day in candidates:
        tickers = _tickers_at(s3, bucket, weekly_key(day, CONSTITUENTS_JSON))
        if tickers is not None:
            return day, tickers
    ignored = [d.isoformat() for d in dates if d > latest_allowed]
    looked = (
        f"{len(candidates)} folder(s) dated on or before {latest_allowed} hold none"
        if candidates
        else f"no folder is dated on or before {latest_allowed}"
    )
    also = f"; ignored as too recent or after run_date: {', '.join(ignored)}" if ignored else ""
    return None, f"{looked}{also}"
