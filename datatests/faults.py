"""Named faults: each breaks the healthy world the way production breaks.

``BREAKS[name]`` is what the fault must do to the report: the contracts that
fail (or error, or skip) under it. Every other contract must pass. Where a
fault breaks more than one contract, its docstring says why that is right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pytest_dataflight import MockWorld

from . import mock_world
from .layout import (
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    FMP_PATH,
    FRED_PATH,
    MACRO_JSON,
    MACRO_LIBRARY,
    POINTER_KEY,
    POLYGON_PATH,
    PREFLIGHT_PREFIX,
    REFERENCE_SYMBOL,
    SHORT_INTEREST_JSON,
    UNIVERSE_LIBRARY,
    weekly_key,
    weekly_prefix,
)

Fault = Callable[[MockWorld], None]
FAULTS: dict[str, Fault] = {}
BREAKS: dict[str, dict[str, str]] = {}


def fault(name: str, **breaks: str) -> Callable[[Fault], Fault]:
    def register(func: Fault) -> Fault:
        FAULTS[name] = func
        BREAKS[name] = breaks
        # Read by the plugin's contract catalog: the faults that prove each contract.
        func.breaks = breaks  # type: ignore[attr-defined]
        return func

    return register


def _truncate(world: MockWorld, library: str, symbol: str, sessions_behind: int) -> dt.date:
    """Rewrite ``symbol`` so that it ends ``sessions_behind`` sessions before run_date's."""
    lib = world.arctic.get_library(library)
    frame = lib.read(symbol).data
    kept = frame.iloc[: len(frame) - sessions_behind]
    lib.write(symbol, kept)
    last = kept.index[-1]
    return (last.tz_convert("UTC").tz_localize(None) if last.tzinfo else last).date()


def _universe_stocks(world: MockWorld) -> list[str]:
    return mock_world.tickers()[: mock_world.UNIVERSE_STOCKS]


@fault("pointer_not_rolled", latest_weekly_pointer="failed")
def pointer_not_rolled(world: MockWorld) -> None:
    """Dated files landed, the pointer still names last week's run."""
    last_week = world.run_date - dt.timedelta(days=7)
    world.put_json(
        POINTER_KEY, {"date": last_week.isoformat(), "s3_prefix": weekly_prefix(last_week)}
    )


@fault("macro_json_corrupt", macro_json="failed")
def macro_json_corrupt(world: MockWorld) -> None:
    """macro.json cut off mid-write."""
    world.put_bytes(weekly_key(world.run_date, MACRO_JSON), b'{"fed_funds_rate": 4.33, "treasu')


@fault("fed_funds_null", macro_json="failed")
def fed_funds_null(world: MockWorld) -> None:
    """FRED returned no DFF observation: fed_funds_rate is null."""
    key = weekly_key(world.run_date, MACRO_JSON)
    world.put_json(key, {**world.get_json(key), "fed_funds_rate": None})


@fault("constituents_799", constituents_json="failed")
def constituents_799(world: MockWorld) -> None:
    """One constituent short of the 800 floor."""
    world.put_json(
        weekly_key(world.run_date, CONSTITUENTS_JSON), mock_world.constituents(world.run_date, 799)
    )


@fault("constituents_duplicate", constituents_json="failed")
def constituents_duplicate(world: MockWorld) -> None:
    """800 entries, one of them twice: 799 distinct tickers."""
    doc = mock_world.constituents(world.run_date, 799)
    doc["tickers"].append(doc["tickers"][0])
    world.put_json(weekly_key(world.run_date, CONSTITUENTS_JSON), doc)


@fault("sector_map_missing", constituents_json="failed")
def sector_map_missing(world: MockWorld) -> None:
    """sector_map lost three tickers."""
    key = weekly_key(world.run_date, CONSTITUENTS_JSON)
    doc = world.get_json(key)
    for ticker in doc["tickers"][-3:]:
        del doc["sector_map"][ticker]
    world.put_json(key, doc)


@fault("short_interest_low_ratio", short_interest_json="failed")
def short_interest_low_ratio(world: MockWorld) -> None:
    """Short-interest source mostly failed: 400 of 903 tickers ok."""
    key = weekly_key(world.run_date, SHORT_INTEREST_JSON)
    world.put_json(key, {**world.get_json(key), "ok_count": 400})


@fault("short_interest_absent", short_interest_json="skipped")
def short_interest_absent(world: MockWorld) -> None:
    """Short interest disabled this week: optional, so skipped, not failed."""
    world.delete(weekly_key(world.run_date, SHORT_INTEREST_JSON))


@fault("spy_one_session_behind", macro_spy_fresh="failed")
def spy_one_session_behind(world: MockWorld) -> None:
    """macro.SPY misses the last session (within daily's 1-session allowance)."""
    _truncate(world, MACRO_LIBRARY, REFERENCE_SYMBOL, 1)


@fault("spy_two_sessions_behind", macro_spy_fresh="failed", daily_spy_fresh="failed")
def spy_two_sessions_behind(world: MockWorld) -> None:
    """macro.SPY two sessions behind: breaks both SPY rules (0 behind for phase 1,
    at most 1 for daily). universe_fresh still passes: tickers ahead of SPY are not stale."""
    _truncate(world, MACRO_LIBRARY, REFERENCE_SYMBOL, 2)


@fault("one_stale_ticker", universe_fresh="failed")
def one_stale_ticker(world: MockWorld) -> None:
    """One universe ticker stopped updating 3 sessions ago (the limit is 2)."""
    _truncate(world, UNIVERSE_LIBRARY, _universe_stocks(world)[-1], 3)


@fault("universe_partial_write", universe_fresh="failed")
def universe_partial_write(world: MockWorld) -> None:
    """The universe write died a third of the way: the rest end a week earlier."""
    stocks = _universe_stocks(world)
    for symbol in stocks[len(stocks) // 3 :]:
        _truncate(world, UNIVERSE_LIBRARY, symbol, 5)


@fault("alternative_source_breached", alternative_manifest="failed")
def alternative_source_breached(world: MockWorld) -> None:
    """Two alternative sources fell below their floors."""
    key = weekly_key(world.run_date, ALTERNATIVE_MANIFEST)
    manifest = world.get_json(key)
    manifest["source_ok_ratios"].update(options_flow=0.42, news=0.79)
    world.put_json(key, manifest)


@fault("alternative_manifest_absent", alternative_manifest="skipped")
def alternative_manifest_absent(world: MockWorld) -> None:
    """Phase 2 has not run: its manifest is optional, so skipped."""
    world.delete(weekly_key(world.run_date, ALTERNATIVE_MANIFEST))


@fault(
    "macro_library_missing",
    arcticdb_libraries_present="failed",
    macro_spy_fresh="failed",
    daily_spy_fresh="failed",
)
def macro_library_missing(world: MockWorld) -> None:
    """The macro library is gone. Both SPY contracts fail too: SPY cannot be read.
    universe_fresh passes, measured against the last session (its evidence says so)."""
    world.arctic.delete_library(MACRO_LIBRARY)


@fault("secret_missing", secrets_present="failed")
def secret_missing(world: MockWorld) -> None:
    """FINNHUB_API_KEY missing from SSM (no probe uses it, so only secrets_present breaks)."""
    world.delete_secret("FINNHUB_API_KEY")


@fault("preflight_not_writable", s3_writable="failed")
def preflight_not_writable(world: MockWorld) -> None:
    """The role lost s3:PutObject: writes under preflight/ answer 403."""
    world.deny_s3("PUT", PREFLIGHT_PREFIX)


@fault("bucket_access_denied", s3_bucket_reachable="failed")
def bucket_access_denied(world: MockWorld) -> None:
    """HEAD bucket answers 403 (AWS would need s3:ListBucket for it) while objects stay
    readable and listable: only the bucket probe is refused."""
    world.deny_s3_bucket("HEAD")


@fault(
    "bucket_missing",
    s3_bucket_reachable="failed",
    latest_weekly_pointer="failed",
    macro_json="failed",
    constituents_json="failed",
    short_interest_json="failed",
    alternative_manifest="failed",
    s3_writable="failed",
    arcticdb_libraries_present="error",
    macro_spy_fresh="error",
    universe_fresh="error",
    daily_spy_fresh="error",
)
def bucket_missing(world: MockWorld) -> None:
    """The bucket does not exist (wrong name or deleted). s3_bucket_reachable fails with 404;
    every JSON contract fails reading from it; the ArcticDB contracts error, because
    ArcticDB would silently show an empty store: nothing about the data can be said."""
    paginator = world.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=world.bucket):
        for obj in page.get("Contents", []):
            world.s3.delete_object(Bucket=world.bucket, Key=obj["Key"])
    world.s3.delete_bucket(Bucket=world.bucket)


def _route(api: str, path: str, **answer: Any) -> Fault:
    def apply(world: MockWorld) -> None:
        world.http.route(api, path, **answer)

    return apply


@fault("fred_bad_key", fred_reachable="failed")
def fred_bad_key(world: MockWorld) -> None:
    """FRED refuses the key (400 naming api_key)."""
    _route(
        "fred",
        FRED_PATH,
        status=400,
        body={
            "error_code": 400,
            "error_message": "Bad Request.  The value for variable api_key is not registered.",
        },
    )(world)


@fault("fred_outage", fred_reachable="failed")
def fred_outage(world: MockWorld) -> None:
    """FRED is down (503)."""
    _route("fred", FRED_PATH, status=503, body={"error": "Service Unavailable"})(world)


@fault("fred_hangs", fred_reachable="failed")
def fred_hangs(world: MockWorld) -> None:
    """FRED accepts the connection and never answers: the read timeout must end it."""
    _route("fred", FRED_PATH, hang=True)(world)


@fault("polygon_bad_key", polygon_reachable="failed")
def polygon_bad_key(world: MockWorld) -> None:
    """polygon.io refuses the key (401)."""
    _route(
        "polygon",
        POLYGON_PATH,
        status=401,
        body={
            "status": "ERROR",
            "error": "Unknown API Key",
        },
    )(world)


@fault("polygon_outage", polygon_reachable="failed")
def polygon_outage(world: MockWorld) -> None:
    """polygon.io is down (502)."""
    _route("polygon", POLYGON_PATH, status=502, body={"error": "Bad Gateway"})(world)


@fault("fmp_payment_required", fmp_stable_reachable="failed")
def fmp_payment_required(world: MockWorld) -> None:
    """FMP plan does not cover /stable (402)."""
    _route(
        "fmp",
        FMP_PATH,
        status=402,
        body={
            "Error Message": "Special Endpoint : this endpoint is not available under your plan",
        },
    )(world)


@fault("fmp_empty", fmp_stable_reachable="failed")
def fmp_empty(world: MockWorld) -> None:
    """FMP answers 200 with an empty list."""
    _route("fmp", FMP_PATH, body=[])(world)


# --- bodies that are not what they claim: unreadable artifacts, impostor APIs ------------

# What a hotel's or an office proxy's captive portal answers to any URL: 200 and a login page.
_LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi: sign in</title></head>\n"
    '<body><form action="/portal/login" method="post"><input name="user"></form></body></html>\n'
)


@fault("macro_json_deep", macro_json="failed")
def macro_json_deep(world: MockWorld) -> None:
    """macro.json is an array nested 100,000 deep: valid JSON that Python's parser refuses
    with a RecursionError. The contract must fail naming the key, not crash."""
    world.put_bytes(weekly_key(world.run_date, MACRO_JSON), b"[" * 100_000 + b"]" * 100_000)


@fault("short_interest_latin1", short_interest_json="failed")
def short_interest_latin1(world: MockWorld) -> None:
    """short_interest.json written in Latin-1, not UTF-8: an accented source name."""
    key = weekly_key(world.run_date, SHORT_INTEREST_JSON)
    healthy = world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read()
    world.put_bytes(key, b'{"source": "Soci\xe9t\xe9 G\xe9n\xe9rale", ' + healthy[1:])


@fault("pointer_is_array", latest_weekly_pointer="failed")
def pointer_is_array(world: MockWorld) -> None:
    """latest_weekly.json holds the pointer object wrapped in an array."""
    world.put_json(POINTER_KEY, [world.get_json(POINTER_KEY)])


@fault("fred_captive_portal", fred_reachable="failed")
def fred_captive_portal(world: MockWorld) -> None:
    """A captive portal answers FRED's URL: 200 with its HTML login page."""
    _route("fred", FRED_PATH, body=_LOGIN_PAGE, content_type="text/html; charset=utf-8")(world)


@fault("polygon_captive_portal", polygon_reachable="failed")
def polygon_captive_portal(world: MockWorld) -> None:
    """A captive portal answers polygon.io's URL: 200 with its HTML login page."""
    _route("polygon", POLYGON_PATH, body=_LOGIN_PAGE, content_type="text/html")(world)


@fault("polygon_wrong_shape", polygon_reachable="failed")
def polygon_wrong_shape(world: MockWorld) -> None:
    """polygon.io answers 200 with a list endpoint's shape (``results`` an array), as a
    wrong base path would: not the ticker's reference data."""
    _route("polygon", POLYGON_PATH, body={"status": "OK", "count": 0, "results": []})(world)
