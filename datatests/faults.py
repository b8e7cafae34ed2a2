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


@fault("constituents_799", constituents_json="failed", constituents_churn="warned")
def constituents_799(world: MockWorld) -> None:
    """One constituent short of the 800 floor. Against last week's 903 that is 104 names
    gone, 11.5 % churn: constituents_churn warns too (the same truncated scrape)."""
    world.put_json(
        weekly_key(world.run_date, CONSTITUENTS_JSON), mock_world.constituents(world.run_date, 799)
    )


@fault("constituents_duplicate", constituents_json="failed", constituents_churn="warned")
def constituents_duplicate(world: MockWorld) -> None:
    """800 entries, one of them twice: 799 distinct tickers (and, as for constituents_799,
    104 distinct names fewer than last week: churn warns; it counts distinct tickers)."""
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
    """One constituent stopped updating 3 sessions ago (the limit is 2), beside the removed
    members that stopped weeks ago: only the constituent is named."""
    _truncate(world, UNIVERSE_LIBRARY, _universe_stocks(world)[-1], 3)


def _list_also(world: MockWorld, extra: list[str]) -> None:
    """Add ``extra`` to this week's constituents.json, with sectors and ETFs."""
    key = weekly_key(world.run_date, CONSTITUENTS_JSON)
    doc = world.get_json(key)
    doc["tickers"] += extra
    doc["sector_map"].update({t: "Financials" for t in extra})
    doc["sector_etf_map"].update({t: "XLF" for t in extra})
    doc["total_count"] = len(doc["tickers"])
    world.put_json(key, doc)


@fault("removed_member_still_listed", universe_fresh="failed")
def removed_member_still_listed(world: MockWorld) -> None:
    """ZZD, 27 sessions stale in the universe, is listed again in this week's constituents
    (a stale scrape of the index page): the same stale series, now a constituent's, fails.
    1 name of churn more: well under 5 %."""
    _list_also(world, ["ZZD"])


@fault(
    "constituents_unreadable",
    constituents_json="failed",
    universe_covers_constituents="failed",
    constituents_churn="failed",
    universe_fresh="failed",
)
def constituents_unreadable(world: MockWorld) -> None:
    """constituents.json cut off mid-write. Every contract that needs this week's tickers
    fails on it, but universe_fresh judges every universe stock instead (its evidence says
    so), and the removed members, stale by design, fail it: with no list, nobody can tell
    a straggler from a constituent. universe_prices_sane counts every stock for its
    "NaN on every last row" rule and passes."""
    world.put_bytes(weekly_key(world.run_date, CONSTITUENTS_JSON), b'{"date": "2026-04-18", "tic')


@fault(
    "constituents_share_no_stock",
    universe_fresh="failed",
    universe_covers_constituents="failed",
    constituents_churn="failed",
)
def constituents_share_no_stock(world: MockWorld) -> None:
    """The scraper lower-cased every ticker: a well-formed list of 903 that shares no stock
    with the universe. universe_fresh must fail saying so, never pass on zero stocks; the
    coverage and churn contracts see every name missing or changed."""
    key = weekly_key(world.run_date, CONSTITUENTS_JSON)
    lower = [t.lower() for t in mock_world.tickers()]
    world.put_json(key, mock_world.constituents(world.run_date, names=lower))


@fault("universe_partial_write", universe_fresh="failed")
def universe_partial_write(world: MockWorld) -> None:
    """The universe write died a third of the way: the rest (602 of 903) end a week
    earlier. Rewritten in one batch: about 8 requests a symbol, some 25 s on moto."""
    from arcticdb import WritePayload

    stocks = mock_world.tickers()
    late = stocks[len(stocks) // 3 :]
    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frames = [item.data for item in lib.read_batch(late)]
    lib.write_batch([WritePayload(s, f.iloc[:-5]) for s, f in zip(late, frames, strict=True)])


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
    arcticdb_libraries_present="failed",
    macro_spy_fresh="failed",
    universe_fresh="failed",
    daily_spy_fresh="failed",
    universe_covers_constituents="failed",
    universe_prices_sane="failed",
    universe_session_gaps="failed",
    constituents_churn="failed",
)
def bucket_missing(world: MockWorld) -> None:
    """The bucket does not exist (wrong name or deleted): a fact about the setup, so every
    contract that needs the bucket fails (none errors: retrying cannot help), and the
    report names it once, as the one cause of all of them (DESIGN.md, "Failed or
    error?"). The ArcticDB contracts fail before ArcticDB could show an empty store."""
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


# An outage is transient: after the bounded retries the probe *errors* (the
# orchestrator retries), it does not fail (a human would be paged for nothing).
@fault("fred_outage", fred_reachable="error")
def fred_outage(world: MockWorld) -> None:
    """FRED is down (503 on every attempt)."""
    _route("fred", FRED_PATH, status=503, body={"error": "Service Unavailable"})(world)


@fault("fred_throttled", fred_reachable="error")
def fred_throttled(world: MockWorld) -> None:
    """FRED throttles every attempt (429)."""
    _route("fred", FRED_PATH, status=429, body={"error_code": 429, "error_message": "Too Many"})(
        world
    )


@fault("fred_hangs", fred_reachable="error")
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


@fault("polygon_outage", polygon_reachable="error")
def polygon_outage(world: MockWorld) -> None:
    """polygon.io is down (502 on every attempt)."""
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


@fault("ticker_not_a_string", constituents_json="failed")
def ticker_not_a_string(world: MockWorld) -> None:
    """The 18th entry of ``tickers`` is a number (a scraper read a CIK into the ticker
    column): a shape violation at ``tickers[17]``. The contracts that only need the list
    (coverage, churn) leave that entry to constituents_json and pass."""
    key = weekly_key(world.run_date, CONSTITUENTS_JSON)
    doc = world.get_json(key)
    doc["tickers"][17] = 320193
    world.put_json(key, doc)


@fault("manifest_ratio_not_a_number", alternative_manifest="failed")
def manifest_ratio_not_a_number(world: MockWorld) -> None:
    """The news source's ok ratio is the string "n/a": a shape violation at
    ``source_ok_ratios.news``."""
    key = weekly_key(world.run_date, ALTERNATIVE_MANIFEST)
    manifest = world.get_json(key)
    manifest["source_ok_ratios"]["news"] = "n/a"
    world.put_json(key, manifest)


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


# --- values, coverage and drift (the contracts added after the first release) ------------


def _edit_rows(world: MockWorld, symbol: str, row: int, **values: float) -> None:
    """Set ``values`` (column -> value) in row ``row`` (negative: from the end) of a stock."""
    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frame = lib.read(symbol).data
    for column, value in values.items():
        frame.iloc[row, frame.columns.get_loc(column)] = value
    lib.write(symbol, frame)


def _last_row(world: MockWorld, symbol: str) -> dict[str, float]:
    frame = world.arctic.get_library(UNIVERSE_LIBRARY).read(symbol).data
    return {str(k): float(v) for k, v in frame.iloc[-1].items() if not isinstance(v, str)}


@fault("price_high_below_low", universe_prices_sane="failed")
def price_high_below_low(world: MockWorld) -> None:
    """MSFT's last bar has High and Low swapped: High < Low."""
    row = _last_row(world, "MSFT")
    _edit_rows(world, "MSFT", -1, High=row["Low"], Low=row["High"])


@fault("prices_forty_bad", universe_prices_sane="failed")
def prices_forty_bad(world: MockWorld) -> None:
    """A bad batch from the price vendor: 40 stocks' last bars have High and Low swapped.
    The report must say 40 and stay small (PIPELINE.md: the first 20, then a count)."""
    for symbol in mock_world.tickers()[100:140]:
        row = _last_row(world, symbol)
        _edit_rows(world, symbol, -1, High=row["Low"], Low=row["High"])


@fault("price_close_above_high", universe_prices_sane="failed")
def price_close_above_high(world: MockWorld) -> None:
    """NVDA's close two sessions ago is 3 % above that bar's High: Close outside the bar."""
    frame = world.arctic.get_library(UNIVERSE_LIBRARY).read("NVDA").data
    _edit_rows(world, "NVDA", -2, Close=float(frame["High"].iloc[-2]) * 1.03)


@fault("price_close_zero", universe_prices_sane="failed")
def price_close_zero(world: MockWorld) -> None:
    """AMZN's last bar is all zeros (a vendor's placeholder for a missing quote): Close <= 0."""
    _edit_rows(world, "AMZN", -1, Open=0.0, High=0.0, Low=0.0, Close=0.0)


@fault("price_volume_negative", universe_prices_sane="failed")
def price_volume_negative(world: MockWorld) -> None:
    """GOOGL's last Volume is negative (a correction applied as a delta)."""
    _edit_rows(world, "GOOGL", -1, Volume=-1200.0)


@fault("price_nan_open", universe_prices_sane="failed")
def price_nan_open(world: MockWorld) -> None:
    """META's last Open is NaN: never allowed in Open High Low Close Volume."""
    _edit_rows(world, "META", -1, Open=float("nan"))


@fault("feature_inf", universe_prices_sane="failed")
def feature_inf(world: MockWorld) -> None:
    """JPM's last rsi_14 is +inf (a division by a zero loss)."""
    _edit_rows(world, "JPM", -1, rsi_14=float("inf"))


@fault("feature_nan_after_warm_up", universe_prices_sane="warned")
def feature_nan_after_warm_up(world: MockWorld) -> None:
    """XOM (280 rows, past the 265-row warm-up) has a NaN zscore_20d in its last row: a
    "partial features" row, which the producer writes on purpose and its consumers
    tolerate: warned, counted per feature, nobody blocked. The recent listings keep their
    all-NaN 252-row features: warm-up, not even a warning."""
    _edit_rows(world, "XOM", -1, zscore_20d=float("nan"))


@fault("vwap_inf", universe_prices_sane="failed")
def vwap_inf(world: MockWorld) -> None:
    """BRK-B's last VWAP is +inf (a volume-weighted average over zero volume). Its VWAP is
    NaN on every other row (the fallback source serves it): NaN is never a finding,
    ±inf always is."""
    _edit_rows(world, "BRK-B", -1, VWAP=float("inf"))


def _nan_on_last_rows(world: MockWorld, symbols: list[str], feature: str) -> None:
    """Set ``feature`` NaN on the last row of each of ``symbols``, in one batch."""
    from arcticdb import WritePayload

    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frames = [item.data for item in lib.read_batch(symbols)]
    for frame in frames:
        frame.iloc[-1, frame.columns.get_loc(feature)] = float("nan")
    lib.write_batch([WritePayload(s, f) for s, f in zip(symbols, frames, strict=True)])


@fault("feature_nan_everywhere", universe_prices_sane="failed")
def feature_nan_everywhere(world: MockWorld) -> None:
    """The 52-week-high feature broke for everyone: high_252d_ratio is NaN on the last row of
    every constituent (as the real system's 252-row features once did). The removed
    members, not updated this week, keep their old values: they do not count."""
    _nan_on_last_rows(world, mock_world.tickers(), "high_252d_ratio")


@fault("feature_nan_all_but_one", universe_prices_sane="warned")
def feature_nan_all_but_one(world: MockWorld) -> None:
    """The twin of feature_nan_everywhere: MSFT (past warm-up) still has its high_252d_ratio,
    so the computation works and the others are partial features: warned, per feature."""
    _nan_on_last_rows(world, [t for t in mock_world.tickers() if t != "MSFT"], "high_252d_ratio")


@fault("price_big_move", universe_prices_sane="warned")
def price_big_move(world: MockWorld) -> None:
    """AAPL (UTC-indexed) closes 60 % above the session before: a consistent bar, a move to
    look at (a split not yet adjusted?), not a broken row: warned, nobody blocked."""
    row = _last_row(world, "AAPL")
    prices = {c: row[c] * 1.6 for c in ("Open", "High", "Low", "Close", "VWAP")}
    _edit_rows(world, "AAPL", -1, **prices)


@fault("price_volume_zero", universe_prices_sane="warned")
def price_volume_zero(world: MockWorld) -> None:
    """BRK-B traded nothing in the last session (a halt?): warned."""
    _edit_rows(world, "BRK-B", -1, Volume=0.0)


@fault("price_volume_spike", universe_prices_sane="warned")
def price_volume_spike(world: MockWorld) -> None:
    """AAA's last Volume is 15x its median over the 20 sessions before: warned."""
    frame = world.arctic.get_library(UNIVERSE_LIBRARY).read("AAA").data
    median = float(frame["Volume"].iloc[-21:-1].median())
    _edit_rows(world, "AAA", -1, Volume=15 * median)


@fault("session_gap", universe_session_gaps="failed")
def session_gap(world: MockWorld) -> None:
    """A missed daily append: JPM has no row for the session 3 before its last one."""
    lib = world.arctic.get_library(UNIVERSE_LIBRARY)
    frame = lib.read("JPM").data
    lib.write("JPM", frame.drop(frame.index[-4]))


@fault("universe_missing_members", universe_covers_constituents="failed")
def universe_missing_members(world: MockWorld) -> None:
    """Three new index members (BNY, P, SN) are listed, with sectors, but were never
    backfilled into the universe. 3 names of churn more: well under 5 %."""
    _list_also(world, ["BNY", "P", "SN"])


def _previous_run_churn(world: MockWorld, swapped: int) -> None:
    day = world.run_date - dt.timedelta(days=mock_world.PREVIOUS_RUNS[0])
    doc = mock_world.constituents(day, names=mock_world.previous_tickers(churn=swapped))
    world.put_json(weekly_key(day, CONSTITUENTS_JSON), doc)


@fault("churn_warns", constituents_churn="warned")
def churn_warns(world: MockWorld) -> None:
    """Last week's list differs by 45 more names: (47 + 47) / 903 = 10.4 % churn, above
    the soft limit, within the hard one: warned, research not blocked."""
    _previous_run_churn(world, 45)


@fault("churn_fails", constituents_churn="failed")
def churn_fails(world: MockWorld) -> None:
    """Last week's list differs by 135 more names: (137 + 137) / 903 = 30.3 % churn: a
    truncated or wrong scrape, not index changes."""
    _previous_run_churn(world, 135)


@fault("no_previous_run", constituents_churn="skipped")
def no_previous_run(world: MockWorld) -> None:
    """No earlier run holds a constituents.json, except a retry from yesterday (too recent:
    a redrive must not compare with its own failed attempt) and a folder dated after
    run_date (a replay of a later week): nothing to compare with, skipped."""
    for days in mock_world.PREVIOUS_RUNS:
        world.delete(weekly_key(world.run_date - dt.timedelta(days=days), CONSTITUENTS_JSON))
    for days in (-1, 7):
        day = world.run_date + dt.timedelta(days=days)
        world.put_json(weekly_key(day, CONSTITUENTS_JSON), mock_world.constituents(day))
