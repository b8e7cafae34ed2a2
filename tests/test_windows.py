"""Window reads (issue 8): each symbol's own last rows, batched, read once per run.

Against a real moto_server subprocess with ArcticDB on it; faults come from
the store itself (a deleted data segment, a stopped server, a proxy process
that answers 503), never from a mock object.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# In-process pytester runs restore sys.modules afterwards, and a native
# extension (arcticdb_ext) cannot be imported twice: load the stack once, here.
import arcticdb
import numpy as np
import pandas as pd
import pytest
from plugin_helpers import MOCK_ARGS, NO_CACHE, LiveStore, closed_port, live_store

from pytest_dataflight.stores import clients
from pytest_dataflight.stores.clients import StoreUnreachable
from pytest_dataflight.stores.windows import WindowCache, classify_error, one_line, read_windows

pytestmark = pytest.mark.usefixtures("clean_env")

BUCKET = "dataflight-windows"
LIBRARY = "universe"
SESSIONS = pd.bdate_range(end="2026-04-17", periods=40)


def prices(index: pd.DatetimeIndex, start: float = 100.0) -> pd.DataFrame:
    """Numeric columns plus a text column, as a universe symbol carries them."""
    n = len(index)
    close = start + np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "Close": close,
            "Volume": np.arange(n, dtype="int64") * 1000,
            "ret_1d": np.linspace(-0.01, 0.01, n).astype("float32"),
            "sector": ["Information Technology"] * n,
        },
        index=index,
    )


SYMBOLS: dict[str, Any] = {
    "AAA": prices(SESSIONS),
    "UTC": prices(SESSIONS.tz_localize("UTC"), start=200.0),
    "SHORT": prices(SESSIONS[-3:], start=300.0),
    "EMPTY": prices(SESSIONS[:0]),
    "NODATES": pd.DataFrame({"Close": [1.0, 2.0, 3.0]}),
    "BROKEN": prices(SESSIONS, start=400.0),
    "SERIES": pd.Series(np.arange(40.0), index=SESSIONS, name="Close"),
}


def delete_data_segments(store: LiveStore, symbol: str) -> list[str]:
    """Delete ``symbol``'s data-segment keys (``tdata``) under ``arcticdb/``."""
    s3 = store.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="arcticdb/")
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    doomed = [k for k in keys if "/tdata/" in k and f"*{symbol}*" in k]
    for key in doomed:
        s3.delete_object(Bucket=BUCKET, Key=key)
    return doomed


@pytest.fixture(scope="module")
def store() -> Iterator[LiveStore]:
    """One moto_server for the module, holding the universe above and a library
    whose one symbol is stored as ten row-slices of ten rows."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in clients.arctic_env().items():
            mp.setenv(name, value)
        with live_store() as live:
            live.create_bucket(BUCKET)
            arctic = clients.open_arctic(live.arctic_uri(BUCKET))
            library = arctic.create_library(LIBRARY)
            for symbol, data in SYMBOLS.items():
                library.write(symbol, data)
            sliced = arctic.create_library(
                "sliced", library_options=arcticdb.LibraryOptions(rows_per_segment=10)
            )
            sliced.write("TEN_SLICES", prices(pd.bdate_range(end="2026-04-17", periods=100)))
            assert delete_data_segments(live, "BROKEN")
            yield live


def library(endpoint_uri: str, name: str = LIBRARY) -> Any:
    # A fresh Arctic per test: no version or segment cache carries over.
    return clients.open_arctic(endpoint_uri).get_library(name)


# --- what one read returns ---------------------------------------------------------------


def test_each_symbol_gets_its_own_last_rows(store: LiveStore) -> None:
    # Given symbols of different lengths; when 5 rows of each are read
    window = read_windows(library(store.arctic_uri(BUCKET)), ["AAA", "SHORT"], 5)
    # Then each has its own last 5 rows (or all it has), with every column it was written with
    pd.testing.assert_frame_equal(window["AAA"].frame, SYMBOLS["AAA"].iloc[-5:], check_freq=False)
    short = window["SHORT"]
    assert short.status == "ok" and len(short.frame) == 3
    assert list(short.frame["Close"]) == [300.0, 301.0, 302.0]
    assert window.library == LIBRARY and window.rows == 5


def test_non_numeric_columns_are_kept(store: LiveStore) -> None:
    window = read_windows(library(store.arctic_uri(BUCKET)), ["AAA"], 3)
    frame = window["AAA"].frame
    assert list(frame.columns) == ["Close", "Volume", "ret_1d", "sector"]
    assert list(frame["sector"]) == ["Information Technology"] * 3
    assert frame["Volume"].dtype == "int64" and frame["ret_1d"].dtype == "float32"


def test_naive_and_utc_aware_indexes_become_naive_dates(store: LiveStore) -> None:
    window = read_windows(library(store.arctic_uri(BUCKET)), ["AAA", "UTC", "SERIES"], 2)
    expected = pd.DatetimeIndex(["2026-04-16", "2026-04-17"])
    for symbol in ("AAA", "UTC", "SERIES"):
        index = window[symbol].frame.index
        assert index.tz is None, symbol
        assert list(index) == list(expected), symbol
    # A Series comes back as a one-column frame, so every window is a DataFrame.
    assert list(window["SERIES"].frame.columns) == ["Close"]


def test_empty_missing_and_undated_symbols_each_say_so(store: LiveStore) -> None:
    window = read_windows(library(store.arctic_uri(BUCKET)), ["EMPTY", "NOPE", "NODATES"], 5)
    assert window["EMPTY"].status == "empty"
    assert window["EMPTY"].frame is not None and window["EMPTY"].frame.empty
    assert window["NOPE"].status == "missing"
    assert window["NOPE"].reason == "no such symbol"
    assert window["NODATES"].status == "unreadable"
    assert window["NODATES"].reason == "is indexed by RangeIndex (int64), not by dates"
    assert window.counts() == {
        "ok": 0,
        "empty": 1,
        "missing": 1,
        "unreadable": 1,
        "store_error": 0,
    }


def test_an_undecodable_symbol_is_reported_and_the_others_still_read(store: LiveStore) -> None:
    # Given BROKEN, whose data segment was deleted from S3
    window = read_windows(library(store.arctic_uri(BUCKET)), ["AAA", "BROKEN", "UTC"], 5)
    # Then it alone is unreadable, with a one-line reason naming what is missing
    broken = window["BROKEN"]
    assert broken.status == "unreadable" and broken.frame is None
    assert broken.reason.startswith("KeyNotFoundException: Not found: [d:BROKEN:")
    assert "\n" not in broken.reason and "Traceback" not in broken.reason
    assert list(window.frames()) == ["AAA", "UTC"]
    assert window.with_status("unreadable") == {"BROKEN": broken.reason}
    # And it is the data's fault, not the store's: no StoreUnreachable
    window.raise_for_store_errors()


def test_names_arcticdb_cannot_take_are_reported_not_raised(store: LiveStore) -> None:
    window = read_windows(library(store.arctic_uri(BUCKET)), ["AAA", "\ud800", ""], 5)
    assert window["AAA"].ok
    assert window["\ud800"].reason == "symbol name is not valid UTF-8"
    assert window[""].status == "unreadable"


def test_rows_must_be_positive(store: LiveStore) -> None:
    with pytest.raises(ValueError, match="rows must be a positive integer, got 0"):
        read_windows(library(store.arctic_uri(BUCKET)), ["AAA"], 0)


# --- only the window is fetched ----------------------------------------------------------


# A loopback proxy in a process of its own (ArcticDB holds the GIL while it waits
# for S3, so it cannot be a thread of this one). It logs "METHOD path" of every
# request to a file and forwards it, or, while the mode file says "503", answers
# 503 SlowDown instead.
STORE_PROXY = r"""
import http.client, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

host, port = sys.argv[1], int(sys.argv[2])
mode_file, log = Path(sys.argv[3]), open(sys.argv[4], "a", buffering=1)
lock = threading.Lock()
SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
SLOW_DOWN += b"</Error>"
SKIP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in SKIP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self):
        with lock:
            log.write(f"{self.command} {self.path}\n")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if mode_file.read_text().strip() == "503":
            return self._answer(503, [("Content-Type", "application/xml")], SLOW_DOWN)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP}
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            self._answer(answer.status, answer.getheaders(), answer.read())
        finally:
            conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    def log_message(self, *args):
        pass


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def key_type(path: str) -> str:
    """The ArcticDB key type a request addresses: the folder before the first encoded
    key name ("*sTt*SYM*..."), e.g. ``tdata`` (data segments), ``tindex``, ``vref``."""
    parts = urlsplit(path)
    if "prefix=" in parts.query:
        return "list"
    names = unquote(parts.path).split("/")
    first = next((i for i, name in enumerate(names) if name.startswith("*")), 0)
    return names[first - 1] if first else "other"


@dataclass
class StoreProxy:
    endpoint: str
    mode: Path
    log: Path

    def arctic_uri(self) -> str:
        return LiveStore(self.endpoint, 0.0).arctic_uri(BUCKET)

    def reset(self) -> None:
        self.log.write_text("")

    def requests(self) -> Counter[str]:
        """ "METHOD key type" -> requests since the last reset."""
        lines = self.log.read_text().splitlines()
        return Counter(f"{line.split()[0]} {key_type(line.split()[1])}" for line in lines)


@pytest.fixture(scope="module")
def proxy(store: LiveStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProxy]:
    """The counting (and, on demand, throttling) proxy in front of the module's store."""
    scratch = tmp_path_factory.mktemp("proxy")
    mode, log = scratch / "mode", scratch / "requests.log"
    mode.write_text("forward")
    log.write_text("")
    host, port = store.endpoint.removeprefix("http://").rsplit(":", 1)
    process = subprocess.Popen(
        [sys.executable, "-c", STORE_PROXY, host, port, str(mode), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield StoreProxy(f"http://127.0.0.1:{int(process.stdout.readline())}", mode, log)
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.fixture
def proxy_forwarding(proxy: StoreProxy) -> Iterator[StoreProxy]:
    """The proxy, counts reset, put back to forwarding after the test."""
    proxy.reset()
    try:
        yield proxy
    finally:
        proxy.mode.write_text("forward")


def test_only_the_segments_of_the_window_are_fetched(proxy_forwarding: StoreProxy) -> None:
    # Given a symbol stored as ten row-slices of ten rows, read through a counting proxy
    sliced = library(proxy_forwarding.arctic_uri(), "sliced")
    proxy_forwarding.reset()
    # When its last 5 rows are read
    window = read_windows(sliced, ["TEN_SLICES"], 5)
    # Then one version ref, one index and one data segment were fetched: never the history
    assert len(window["TEN_SLICES"].frame) == 5
    assert proxy_forwarding.requests() == {"GET vref": 1, "GET tindex": 1, "GET tdata": 1}
    # And 15 rows straddle two slices, so two segments
    sliced = library(proxy_forwarding.arctic_uri(), "sliced")
    proxy_forwarding.reset()
    read_windows(sliced, ["TEN_SLICES"], 15)
    assert proxy_forwarding.requests()["GET tdata"] == 2
    # While a full read fetches all ten
    sliced = library(proxy_forwarding.arctic_uri(), "sliced")
    proxy_forwarding.reset()
    sliced.read_batch(["TEN_SLICES"])
    assert proxy_forwarding.requests()["GET tdata"] == 10


# --- the store fails ----------------------------------------------------------------------


def test_a_throttled_store_is_a_store_error_not_bad_data(proxy_forwarding: StoreProxy) -> None:
    # Given a library opened while the store answered
    universe = library(proxy_forwarding.arctic_uri())
    # When every request is then answered 503 SlowDown
    proxy_forwarding.mode.write_text("503")
    window = read_windows(universe, ["AAA", "NOPE"], 5)
    # Then both symbols are store errors: neither read as data nor as missing
    assert window.counts()["store_error"] == 2, window.symbols
    assert "E_S3_RETRYABLE" in window["AAA"].reason
    assert "HttpResponseCode:503" in window["AAA"].reason
    with pytest.raises(StoreUnreachable, match=r"2 of 2 symbols .* because the store failed"):
        window.raise_for_store_errors()


def test_a_store_that_stops_answering_is_a_store_error_not_missing() -> None:
    # Given a library opened on a store that then stops (its moto_server ends)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in clients.arctic_env().items():
            mp.setenv(name, value)
        with live_store() as live:
            live.create_bucket(BUCKET)
            arctic = clients.open_arctic(live.arctic_uri(BUCKET))
            arctic.create_library(LIBRARY).write("AAA", SYMBOLS["AAA"])
            cache = WindowCache(lambda: clients.open_arctic(live.arctic_uri(BUCKET)))
            assert cache.get(LIBRARY, ["AAA"], 5)["AAA"].ok
        # When the next contract asks for more
        started = time.monotonic()
        window = cache.get(LIBRARY, ["AAA", "BBB"], 10)
        elapsed = time.monotonic() - started
    # Then every symbol read is a store error, the time bounded, and the contract errors
    assert window.counts()["store_error"] == 2, window.symbols
    assert elapsed < 30
    with pytest.raises(StoreUnreachable, match="could not be read because the store failed"):
        window.raise_for_store_errors()
    # And a later request errors at once, without asking the store again
    reads = cache.reads
    assert cache.get(LIBRARY, ["AAA"], 10)["AAA"].status == "store_error"
    assert cache.reads == reads


def test_a_library_on_a_store_that_never_answers_raises_store_unreachable() -> None:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in clients.arctic_env().items():
            mp.setenv(name, value)
        uri = (
            f"s3://127.0.0.1:{BUCKET}?port={closed_port()}&path_prefix=arcticdb"
            "&access=k&secret=s&region=us-east-1"
        )
        cache = WindowCache(lambda: clients.open_arctic(uri))
        with pytest.raises(StoreUnreachable, match="could not be opened because the store failed"):
            cache.get(LIBRARY, ["AAA"], 5)
        # The failure is remembered: the next contract errors at once.
        started = time.monotonic()
        with pytest.raises(StoreUnreachable):
            cache.get(LIBRARY, ["BBB"], 5)
        assert time.monotonic() - started < 0.1


# --- once per run -------------------------------------------------------------------------


def test_the_cache_reads_once_for_requests_it_covers(proxy_forwarding: StoreProxy) -> None:
    opened = []

    def open_arctic() -> Any:
        opened.append(1)
        return clients.open_arctic(proxy_forwarding.arctic_uri())

    # Given a first contract's read of 25 rows
    cache = WindowCache(open_arctic)
    first = cache.get(LIBRARY, ["AAA", "UTC", "NOPE"], 25)
    proxy_forwarding.reset()
    # When the same request, a subset, a shorter window and another order follow
    again = cache.get(LIBRARY, ["AAA", "UTC", "NOPE"], 25)
    shorter = cache("universe", ["UTC", "AAA"], 20)
    # Then none of them reached the store, and each got what it asked for
    assert proxy_forwarding.requests() == {}
    assert cache.reads == 1 and len(opened) == 1
    for symbol in ("AAA", "UTC"):
        pd.testing.assert_frame_equal(again[symbol].frame, first[symbol].frame)
    assert again["NOPE"].status == "missing"
    assert list(shorter.symbols) == ["UTC", "AAA"] and shorter.rows == 20
    pd.testing.assert_frame_equal(shorter["AAA"].frame, first["AAA"].frame.iloc[-20:])
    # And a symbol not read before is read alone
    cache.get(LIBRARY, ["AAA", "SHORT"], 25)
    assert cache.reads == 2 and cache.symbols_read == 4
    # And a longer window than any read so far reads again, except where the symbol
    # already showed all its rows
    cache.get(LIBRARY, ["SHORT"], 30)
    assert cache.reads == 2
    assert len(cache.get(LIBRARY, ["AAA"], 30)["AAA"].frame) == 30
    assert cache.reads == 3


def test_one_contract_changing_its_frames_does_not_change_the_next_ones(
    store: LiveStore,
) -> None:
    cache = WindowCache(lambda: clients.open_arctic(store.arctic_uri(BUCKET)))
    mine = cache.get(LIBRARY, ["AAA"], 5)["AAA"].frame
    mine["Close"] = 0.0
    mine["extra"] = 1
    theirs = cache.get(LIBRARY, ["AAA"], 5)["AAA"].frame
    assert list(theirs.columns) == ["Close", "Volume", "ret_1d", "sector"]
    assert theirs["Close"].iloc[-1] == SYMBOLS["AAA"]["Close"].iloc[-1]


def test_a_missing_library_raises_lookup_error_naming_it(store: LiveStore) -> None:
    cache = WindowCache(lambda: clients.open_arctic(store.arctic_uri(BUCKET)))
    with pytest.raises(LookupError, match="ArcticDB library 'nope' does not exist"):
        cache.get("nope", ["AAA"], 5)


# --- errors as ArcticDB words them --------------------------------------------------------

RETRYABLE = (
    "arcticdb::ArcticSpecificException<(arcticdb::ErrorCode)5021>: E_S3_RETRYABLE Retry-able "
    "error: Unexpected error: S3Error:100, HttpResponseCode:503, : No response body. for object "
    "'arcticdb/u1/vref/*sUt*A'"
)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (RETRYABLE, "store_error"),
        (
            "E_S3_RETRYABLE Retry-able error: Network error: curlCode: 7, Couldn't connect",
            "store_error",
        ),
        ("E_UNEXPECTED_S3_ERROR S3Error:1, HttpResponseCode:500, InternalError", "store_error"),
        ("StorageException: Timeout was reached", "store_error"),
        (
            "arcticdb::ArcticSpecificException<(arcticdb::ErrorCode)3000>: E_NO_SUCH_VERSION "
            "read_dataframe_version: version matching query 'latest' not found for symbol 'X'",
            "missing",
        ),
        ("E_PERMISSION Permission error: S3Error:15, HttpResponseCode:403", "unreadable"),
        ("arcticdb::storage::KeyNotFoundException: Not found: [d:X:0]", "unreadable"),
        ("E_DECODE_ERROR something", "unreadable"),
    ],
)
def test_classify_error(text: str, status: str) -> None:
    assert classify_error(text) == status


def test_one_line_drops_native_decoration_and_extra_lines() -> None:
    assert one_line(RETRYABLE).startswith("E_S3_RETRYABLE Retry-able error: Unexpected error")
    assert one_line("first\nsecond") == "first"
    assert one_line("x" * 500, limit=10) == "x" * 9 + "…"


# --- the fixture ------------------------------------------------------------------------

SEED = """
import pandas as pd


def pytest_dataflight_seed(world):
    index = pd.bdate_range(end="2026-04-17", periods=30)
    library = world.arctic.get_library("universe", create_if_missing=True)
    for i, symbol in enumerate(["AAA", "BBB"]):
        library.write(symbol, pd.DataFrame({"Close": [float(i)] * 30}, index=index))
"""

RECENT_ROWS_TESTS = """
import datetime as dt


def test_first(recent_rows):
    window = recent_rows("universe", ["AAA", "BBB", "NOPE"])
    assert window.rows == 25 and len(window["AAA"].frame) == 25
    assert window["NOPE"].status == "missing"
    assert window["BBB"].frame.index[-1].date() == dt.date(2026, 4, 17)


def test_second_shares_the_read(recent_rows):
    window = recent_rows("universe", ["BBB", "AAA"], rows=5)
    assert list(window.frames()) == ["BBB", "AAA"]
    assert recent_rows.reads == 1
"""


def test_recent_rows_fixture_reads_once_per_run(pytester: pytest.Pytester) -> None:
    # Given a suite whose two contracts ask for overlapping windows
    pytester.makeconftest(SEED)
    pytester.makepyfile(test_recent=RECENT_ROWS_TESTS)
    # When it runs on the mock target
    result = pytester.runpytest(*MOCK_ARGS)
    # Then both pass, the second served by the first one's read
    result.assert_outcomes(passed=2)


def test_recent_rows_is_listed_with_its_docstring(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*NO_CACHE, "--fixtures")
    result.stdout.fnmatch_lines(
        [
            "recent_rows *pytest_dataflight*",
            "    ``recent_rows(library, symbols, rows=25)``: each symbol*",
        ],
        consecutive=True,
    )


def test_window_types_are_importable_without_arcticdb_loaded() -> None:
    # windows.py is imported by the plugin's fixtures module; pytest --help must stay light.
    code = (
        "import sys, pytest_dataflight.stores.windows; "
        "print(sorted(m for m in ('arcticdb', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "[]"
