"""Benchmark: how to tell whether every symbol of the ``universe`` library is fresh.

    python benchmarks/universe_freshness.py \\
        [--symbols 1000] [--rows 2500] [--latency-ms 25] [--sample 20] [--run-date 2026-04-18] \\
        [--appends 0] [--window 25] [--io-threads 16] [--warm] [--warm-io-threads 32,64]

Starts ``moto_server`` (a subprocess) and, in a second subprocess, an
:class:`s3_proxy.S3Proxy` (this directory's) in front of it that adds
``--latency-ms`` to every S3 request and counts requests by ArcticDB key type.
It writes a universe library straight to moto (no added latency: only the
reads are measured), each symbol in one piece or (``--appends N``) as history
plus N one-row daily appends, then reads it through the proxy four ways, each
with a fresh ``Arctic`` instance so that no ArcticDB cache helps:

(a) the method of the system the pipeline is modelled on: sequential
    per-symbol ``read(columns=["Close"])`` on a sample seeded by the run date;
(b) the same method on every symbol;
(c) ``universe_fresh``'s method, ``datatests.freshness.last_index_dates``
    (``get_description_batch``: version ref and index key, never a data segment);
(d) the plugin's window read, ``pytest_dataflight.stores.windows.read_windows``: the
    last ``--window`` rows of every symbol (batched ``read_batch`` of row ranges).

With ``--warm`` that first (cold) pass is also the proxy's warm-up pass: it
keeps every object GET, then serves them from memory while every method runs
again, so moto's CPU leaves the measured path and the added latency remains.
Each method is printed against its floor, requests x latency / IO threads for
the batches (c) and (d); for (a) and (b), one symbol at a time, each symbol's
chain of GETs (version, index, then its data segments in rounds of IO threads).

It prints side-by-side tables, fails if (c) fetched a data segment or a method
found a wrong date, and prints the verdict on each target. Every process it
starts is ended by PID, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3_proxy import DATA_SEGMENT, key_type
from s3_proxy_process import ProxyProcess

from pytest_dataflight.mock.moto_server import FAKE_CREDENTIALS, MotoServer
from pytest_dataflight.stores import clients

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BUCKET = "dataflight-benchmark"
REGION = "us-east-1"
LIBRARY = "universe"
# Symbols per write_batch: bounds the frames held in memory at once.
WRITE_BATCH = 50
PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Volume", "VWAP")
FEATURE_COLUMNS = ("ret_1d", "ret_5d", "ret_20d", "vol_20d", "sma_50_ratio", "volume_z20")
TARGET_SPEED_UP = 6.0
TARGET_WINDOW_VS_C = 2.0  # (d) at most this many times (c)'s wall time
TARGET_C_VS_FLOOR = 1.5  # warm (c) at most this many times its floor
# The plugin's IO threads (a process-wide ArcticDB thread pool).
PLUGIN_IO_THREADS = clients.ARCTIC_CONFIG_INTS["VersionStore.NumIOThreads"]


class BenchmarkFailure(RuntimeError):
    """A method returned wrong dates, or (c) read a data segment."""


@dataclass
class Options:
    symbols: int = 1000
    rows: int = 2500
    latency_ms: float = 25.0
    sample: int = 20
    run_date: dt.date = dt.date(2026, 4, 18)
    write_batch: int = WRITE_BATCH
    appends: int = 0  # the last N rows written as N one-row appends (N+1 segments)
    window: int = 25  # rows of (d)'s window read
    io_threads: int = PLUGIN_IO_THREADS
    warm: bool = False
    warm_io_threads: tuple[int, ...] = ()  # (c) and (d) again, warm, on these

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000

    def layout(self) -> str:
        if not self.appends:
            return "each symbol written in one piece (1 data segment)"
        return (
            f"each symbol written as {self.rows - self.appends} rows of history then "
            f"{self.appends} one-row daily appends ({self.appends + 1} data segments)"
        )


@dataclass
class Result:
    key: str
    method: str
    symbols: int
    wall_s: float
    counts: dict[str, int]
    key_counts: dict[str, int]
    dates: dict[str, Any] = field(repr=False)
    key_bytes: dict[str, int] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    concurrency: int = 1  # ArcticDB IO threads
    latency_s: float = 0.0
    batched: bool = True  # all symbols in flight at once (else one symbol at a time)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds used

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    @property
    def requests_per_symbol(self) -> float:
        return self.requests / self.symbols

    @property
    def bytes_fetched(self) -> int:
        return sum(v for k, v in self.key_bytes.items() if k.startswith("GET "))

    @property
    def floor_s(self) -> float:
        """The time the requests take at the added latency alone, the IO threads never
        idle: requests x latency / IO threads for a batch; one symbol at a time, each
        symbol's chain: its other GETs in turn, then its data segments in rounds of
        IO threads (one round for a symbol written in one piece)."""
        if self.batched:
            return self.requests * self.latency_s / self.concurrency
        segments = self.data_segment_gets / self.symbols
        chain = (self.requests - self.data_segment_gets) / self.symbols
        chain += math.ceil(segments / self.concurrency)
        return self.symbols * chain * self.latency_s

    @property
    def vs_floor(self) -> float | None:
        return self.wall_s / self.floor_s if self.floor_s else None

    @property
    def data_segment_gets(self) -> int:
        return self.key_counts.get(f"GET {DATA_SEGMENT}", 0)


@dataclass
class Report:
    options: Options
    build_s: float
    total_s: float
    results: dict[str, Result]
    listing_s: float
    listing_requests: int
    lines: list[str]
    warm: dict[str, Result] = field(default_factory=dict)

    @property
    def speed_up(self) -> float:
        return self.results["b"].wall_s / self.results["c"].wall_s


# --- helpers ---------------------------------------------------------------------------


@contextlib.contextmanager
def environment(updates: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the benchmark and restore them afterwards."""
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def arctic_uri(endpoint: str) -> str:
    """The benchmark library's URI behind ``endpoint``, with the fake credentials spelled
    out: the benchmark must not pick up whatever AWS credentials the environment holds."""
    port = endpoint.rsplit(":", 1)[1]
    return (
        f"s3://127.0.0.1:{BUCKET}?port={port}&path_prefix={clients.ARCTIC_PATH_PREFIX}"
        f"&access={FAKE_CREDENTIALS['AWS_ACCESS_KEY_ID']}"
        f"&secret={FAKE_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}&region={REGION}"
    )


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process from /proc (Linux), in MB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- the universe ----------------------------------------------------------------------


def symbol_names(count: int) -> list[str]:
    return [f"SYM{i:04d}" for i in range(count)]


def last_business_day(run_date: dt.date) -> dt.date:
    import pandas as pd

    return pd.bdate_range(end=run_date, periods=1)[0].date()


def make_frame(index: Any, seed: int) -> Any:
    """Daily OHLCV + VWAP (float64 prices) and a few float32 features, as a random walk."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(index)
    close = (10 + 190 * rng.random()) * np.exp(np.cumsum(rng.normal(0.0003, 0.02, n)))
    open_ = close * (1 + rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.008, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.008, n)))
    volume = rng.integers(100_000, 50_000_000, n)
    frame = pd.DataFrame(
        {
            "Open": open_.round(2),
            "High": high.round(2),
            "Low": low.round(2),
            "Close": close.round(2),
            "Volume": volume,
            "VWAP": ((high + low + close) / 3).round(4),
        },
        index=index,
    )
    c, v = frame["Close"], frame["Volume"].astype("float64")
    ret_1d = c.pct_change()
    features = {
        "ret_1d": ret_1d,
        "ret_5d": c.pct_change(5),
        "ret_20d": c.pct_change(20),
        "vol_20d": ret_1d.rolling(20).std() * np.sqrt(252),
        "sma_50_ratio": c / c.rolling(50).mean() - 1,
        "volume_z20": (v - v.rolling(20).mean()) / v.rolling(20).std(),
    }
    for name in FEATURE_COLUMNS:
        frame[name] = features[name].astype("float32")
    return frame


def write_chunk(library: Any, chunk: Sequence[str], frames: Sequence[Any], appends: int) -> None:
    """Write each frame but its last ``appends`` rows, then append those one row at a
    time (a daily producer's layout: one data segment per append)."""
    from arcticdb import WritePayload

    head = len(frames[0]) - appends
    steps = [(library.write_batch, slice(0, head))] + [
        (library.append_batch, slice(row, row + 1)) for row in range(head, head + appends)
    ]
    for write, rows in steps:
        payloads = [WritePayload(s, f.iloc[rows]) for s, f in zip(chunk, frames, strict=True)]
        for symbol, written in zip(chunk, write(payloads), strict=True):
            if getattr(written, "version", None) is None:
                raise BenchmarkFailure(f"writing {symbol} failed: {written}")


def build_universe(library: Any, symbols: Sequence[str], options: Options) -> tuple[float, float]:
    """Write the universe; (seconds writing, seconds of the first list_symbols)."""
    import pandas as pd

    index = pd.bdate_range(end=options.run_date, periods=options.rows)
    started = time.monotonic()
    for start in range(0, len(symbols), options.write_batch):
        chunk = symbols[start : start + options.write_batch]
        frames = [make_frame(index, seed=start + i) for i in range(len(chunk))]
        write_chunk(library, chunk, frames, options.appends)
        done = start + len(chunk)
        if done % max(len(symbols) // 10, 1) < len(chunk) or done == len(symbols):
            print(
                f"  built {done}/{len(symbols)} symbols ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    write_s = time.monotonic() - started
    # The first list_symbols after writes compacts the symbol list, which writes;
    # do it here so that no measured (read-only) method pays for it.
    started = time.monotonic()
    listed = library.list_symbols()
    compact_s = time.monotonic() - started
    if len(listed) != len(symbols):
        raise BenchmarkFailure(f"library lists {len(listed)} symbols, wrote {len(symbols)}")
    return write_s, compact_s


def bucket_inventory(s3: Any) -> Counter[tuple[str, str]]:
    """(key type, "objects" | "bytes") -> total, from a listing of the ArcticDB prefix."""
    inventory: Counter[tuple[str, str]] = Counter()
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET, Prefix=f"{clients.ARCTIC_PATH_PREFIX}/"):
        for item in page.get("Contents", []):
            kind = key_type(f"/{BUCKET}/{item['Key']}")
            inventory[(kind, "objects")] += 1
            inventory[(kind, "bytes")] += int(item["Size"])
    return inventory


# --- the methods -----------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    symbols: Sequence[str]
    run: Callable[[Any, Sequence[str]], dict[str, Any]]
    batched: bool  # on the IO threads (else one request at a time)


def use_io_threads(count: int) -> None:
    """ArcticDB's IO thread pool, and the S3 connection pool of libraries opened from
    now on, at ``count``. The pool is process-wide and sized when first used:
    ``NumIOThreads`` alone is ignored once it exists, so it is re-created."""
    from arcticdb_ext import set_config_int
    from arcticdb_ext.cpp_async import io_thread_count, reinit_task_scheduler

    set_config_int("S3Storage.MaxConnections", count)
    set_config_int("VersionStore.NumIOThreads", count)
    if io_thread_count() != count:
        reinit_task_scheduler()


def open_library(uri: str, io_threads: int) -> Any:
    # A fresh Arctic instance per method: no version-map or client cache carries over.
    arctic = clients.open_arctic(uri)  # sets the plugin's config, NumIOThreads included
    use_io_threads(io_threads)
    return arctic.get_library(LIBRARY)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process (all its threads) has used, from /proc."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Rig:
    """What every measurement runs against, and the processes whose CPU it counts."""

    proxy: ProxyProcess
    options: Options
    pids: Mapping[str, int | None]  # "benchmark" (ArcticDB), "proxy", "moto"

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}


def measure(method: Method, rig: Rig, threads: int) -> Result:
    proxy, options = rig.proxy, rig.options
    library = open_library(arctic_uri(proxy.endpoint), threads)
    proxy.reset_counts()
    cpu = rig.cpu()
    started = time.perf_counter()
    dates = method.run(library, method.symbols)
    wall_s = time.perf_counter() - started
    cpu = {name: spent - cpu[name] for name, spent in rig.cpu().items()}
    counted = proxy.counts()
    return Result(
        method.key,
        method.label,
        len(method.symbols),
        wall_s,
        counted["counts"],
        counted["key_counts"],
        dates,
        key_bytes=counted.get("key_bytes", {}),
        cache=counted.get("cache", {}),
        concurrency=threads,
        batched=method.batched,
        latency_s=options.latency_s,
        cpu=cpu,
    )


def per_symbol_reads(library: Any, symbols: Sequence[str]) -> dict[str, Any]:
    from datatests.freshness import last_close_date

    return {symbol: last_close_date(library, symbol) for symbol in symbols}


def batch_descriptions(library: Any, symbols: Sequence[str]) -> dict[str, Any]:
    from datatests.freshness import last_index_dates

    return dict(last_index_dates(library, symbols))


def window_reads(rows: int) -> Callable[[Any, Sequence[str]], dict[str, Any]]:
    """(d): the plugin's window read; a symbol's last date, or what is wrong with it."""

    def run(library: Any, symbols: Sequence[str]) -> dict[str, Any]:
        from pytest_dataflight.stores.windows import read_windows

        found: dict[str, Any] = {}
        for w in read_windows(library, symbols, rows):
            got = len(w.frame) if w.frame is not None else 0
            if w.ok and w.frame is not None and got == rows:
                found[w.symbol] = w.frame.index[-1].date()
            else:
                found[w.symbol] = f"{w.status}, {got} rows of {rows} {w.reason}".strip()
        return found

    return run


def check(results: Mapping[str, Result], expected: dt.date) -> None:
    for result in results.values():
        wrong = {s: d for s, d in result.dates.items() if d != expected}
        if wrong:
            first = ", ".join(f"{s}={d}" for s, d in sorted(wrong.items())[:5])
            raise BenchmarkFailure(
                f"({result.key}) found {len(wrong)} symbols not ending {expected}: {first}"
            )
    if results["c"].data_segment_gets:
        raise BenchmarkFailure(
            f"(c) fetched {results['c'].data_segment_gets} data segments ({DATA_SEGMENT} keys); "
            "get_description_batch should read version refs and index keys only"
        )


# --- output ----------------------------------------------------------------------------


def against_floor(r: Result) -> str:
    """ "(c) 12.3 s, floor 9.1 s, 1.35x"."""
    ratio = f", {r.vs_floor:.2f}x" if r.vs_floor else ""
    return f"({r.key}) {r.wall_s:.2f} s, floor {r.floor_s:.2f} s{ratio}"


def table(results: Mapping[str, Result]) -> list[str]:
    base = results["b"].wall_s if "b" in results else None
    header = (
        f"{'method':<46} {'symbols':>7} {'threads':>7} {'wall s':>8} {'requests':>8} "
        f"{'req/sym':>7} {'tdata GETs':>10} {'MB fetched':>10} {'floor s':>8} "
        f"{'x floor':>7} {'vs b':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results.values():
        ratio = f"{r.vs_floor:.2f}" if r.vs_floor else "-"
        speed = f"{base / r.wall_s:.1f}x" if base else "-"
        lines.append(
            f"{'(' + r.key + ') ' + r.method:<46} {r.symbols:>7} {r.concurrency:>7} "
            f"{r.wall_s:>8.2f} {r.requests:>8} {r.requests_per_symbol:>7.1f} "
            f"{r.data_segment_gets:>10} {r.bytes_fetched / 1e6:>10.1f} {r.floor_s:>8.2f} "
            f"{ratio:>7} {speed:>6}"
        )
    return lines


def by_type(result: Result) -> str:
    gets = {k[4:]: v for k, v in result.key_counts.items() if k.startswith("GET ")}
    others = {k: v for k, v in result.key_counts.items() if not k.startswith("GET ")}
    sizes = {k[4:]: v for k, v in result.key_bytes.items() if k.startswith("GET ")}
    text = ", ".join(
        f"{k} {v} ({sizes.get(k, 0) / 1e6:.1f} MB)"
        for k, v in sorted(gets.items(), key=lambda kv: -kv[1])
    )
    if others:
        text += "; other methods: " + ", ".join(f"{k} {v}" for k, v in sorted(others.items()))
    return f"({result.key}) GETs by key type: {text or 'none'}"


def parse_args(argv: Sequence[str] | None) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(
        description="Universe freshness: per-symbol reads vs batch index metadata, "
        "on moto behind a latency-adding S3 proxy."
    )
    parser.add_argument("--symbols", type=int, default=defaults.symbols, help="universe size")
    parser.add_argument("--rows", type=int, default=defaults.rows, help="daily rows per symbol")
    parser.add_argument(
        "--latency-ms", type=float, default=defaults.latency_ms, help="added per S3 request"
    )
    parser.add_argument("--sample", type=int, default=defaults.sample, help="size of (a)")
    parser.add_argument(
        "--run-date",
        type=dt.date.fromisoformat,
        default=defaults.run_date,
        help="YYYY-MM-DD; seeds (a)'s sample, the data ends on or before it",
    )
    parser.add_argument("--write-batch", type=int, default=defaults.write_batch)
    parser.add_argument(
        "--appends", type=int, default=0, help="write the last N rows as N one-row appends"
    )
    parser.add_argument("--window", type=int, default=defaults.window, help="rows of (d)")
    parser.add_argument(
        "--io-threads", type=int, default=defaults.io_threads, help="ArcticDB IO threads"
    )
    parser.add_argument(
        "--warm", action="store_true", help="run every method again on the proxy's GET cache"
    )
    parser.add_argument(
        "--warm-io-threads",
        type=lambda text: tuple(int(n) for n in text.split(",") if n),
        default=(),
        help="comma-separated: (c) and (d) again, warm, on these IO thread counts",
    )
    ns = parser.parse_args(argv)
    counts = (ns.symbols, ns.rows, ns.sample, ns.write_batch, ns.window, ns.io_threads)
    if min(counts + ns.warm_io_threads) < 1:
        parser.error("sizes, --window and thread counts must be at least 1")
    if not 0 <= ns.appends < ns.rows:
        parser.error("--appends must be at least 0 and less than --rows")
    return Options(
        ns.symbols, ns.rows, ns.latency_ms, ns.sample, ns.run_date, ns.write_batch,
        ns.appends, ns.window, ns.io_threads, ns.warm or bool(ns.warm_io_threads),
        ns.warm_io_threads,
    )  # fmt: skip


# --- main ------------------------------------------------------------------------------


@dataclass
class Transcript:
    """What the benchmark prints, kept for its report."""

    lines: list[str] = field(default_factory=list)

    def say(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


def say_setup(out: Transcript, options: Options) -> None:
    out.say(
        f"universe freshness benchmark: {options.symbols} symbols x {options.rows} "
        f"daily rows ({len(PRICE_COLUMNS) + len(FEATURE_COLUMNS)} columns), "
        f"+{options.latency_ms:g} ms per S3 request, run date {options.run_date}, "
        f"{os.cpu_count()} CPUs, load average {load_average()}"
    )
    out.say(f"layout: {options.layout()}; window (d): last {options.window} rows")


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg()) + " (1, 5, 15 min)"


def build_step(
    out: Transcript, moto: MotoServer, symbols: Sequence[str], options: Options
) -> float:
    """Create the bucket and write the universe straight to moto; seconds it took."""
    s3 = clients.make_client("s3", moto.endpoint, REGION)
    s3.create_bucket(Bucket=BUCKET)
    say_setup(out, options)
    started = time.monotonic()
    library = clients.open_arctic(arctic_uri(moto.endpoint)).get_library(
        LIBRARY, create_if_missing=True
    )
    write_s, compact_s = build_universe(library, symbols, options)
    build_s = time.monotonic() - started
    out.say(
        f"build: {build_s:.1f} s, straight to moto (no added latency): write_batch of "
        f"{options.write_batch} symbols {write_s:.1f} s, then the first list_symbols "
        f"(compacts the symbol list) {compact_s:.1f} s"
    )
    say_inventory(out, bucket_inventory(s3))
    return build_s


def say_inventory(out: Transcript, inventory: Counter[tuple[str, str]]) -> None:
    kinds = sorted({kind for kind, _ in inventory}, key=lambda k: -inventory[(k, "bytes")])
    out.say(
        "bucket arcticdb/ by key type: "
        + ", ".join(
            f"{k} {inventory[(k, 'objects')]} objects {inventory[(k, 'bytes')] / 1e6:.1f} MB"
            for k in kinds
        )
    )


def methods(symbols: Sequence[str], options: Options) -> dict[str, Method]:
    from datatests.freshness import sample

    picked = sample(symbols, options.sample, options.run_date.isoformat())
    window = min(options.window, options.rows)
    label_c = "get_description_batch (universe_fresh)"
    label_d = f"read_windows, last {window} rows"
    return {
        "a": Method("a", 'read(columns=["Close"]), seeded sample', picked, per_symbol_reads, False),
        "b": Method("b", 'read(columns=["Close"]), every symbol', symbols, per_symbol_reads, False),
        "c": Method("c", label_c, symbols, batch_descriptions, True),
        "d": Method("d", label_d, symbols, window_reads(window), True),
    }


def measure_methods(
    todo: Sequence[Method], rig: Rig, threads: int, label: str = ""
) -> dict[str, Result]:
    """Each method through the proxy with a fresh Arctic instance."""
    results: dict[str, Result] = {}
    for method in todo:
        print(
            f"  measuring {label}({method.key}) on {len(method.symbols)} symbols ...",
            file=sys.stderr,
            flush=True,
        )
        results[method.key] = measure(method, rig, threads)
    return results


def measure_warm(todo: Mapping[str, Method], rig: Rig) -> dict[str, Result]:
    """Every method again, on the GETs the cold pass left in the proxy's memory; then
    (c) and (d) on each of ``--warm-io-threads`` (keyed "c@64")."""
    held = rig.proxy.set_cache("serve")
    print(f"  proxy serves {held} objects from memory", file=sys.stderr, flush=True)
    warm = measure_methods(list(todo.values()), rig, rig.options.io_threads, "warm ")
    for threads in rig.options.warm_io_threads:
        again = [todo[k] for k in "cd"]
        for key, result in measure_methods(again, rig, threads, "warm ").items():
            result.key = f"{key}@{threads}"
            warm[result.key] = result
    return warm


def measure_listing(proxy: ProxyProcess, options: Options) -> tuple[float, int]:
    """(seconds, S3 requests) of list_symbols on the compacted symbol list."""
    library = open_library(arctic_uri(proxy.endpoint), options.io_threads)
    proxy.reset_counts()
    started = time.perf_counter()
    library.list_symbols()
    listing_s = time.perf_counter() - started
    return listing_s, sum(proxy.counts()["counts"].values())


def say_results(
    out: Transcript, results: Mapping[str, Result], listing_s: float, listing_requests: int
) -> None:
    out.say()
    for line in table(results):
        out.say(line)
    out.say()
    for result in results.values():
        out.say(by_type(result))
    out.say(cpu_line(results))
    out.say(
        f"list_symbols on the compacted symbol list, which universe_fresh calls once "
        f"before (c): {listing_requests} requests, {listing_s:.2f} s"
    )


def say_warm(out: Transcript, warm: Mapping[str, Result]) -> None:
    out.say()
    out.say(
        "warm: the proxy answers every GET the cold pass made from memory (moto idle), "
        "after the same added latency"
    )
    for line in table(warm):
        out.say(line)
    misses = {r.key: r.cache.get("miss", 0) for r in warm.values() if r.cache.get("miss")}
    out.say(f"GETs not in the cache (went to moto): {misses or 'none'}")
    out.say(cpu_line(warm))
    out.say("against the floor: " + "; ".join(against_floor(r) for r in warm.values()))


def cpu_line(results: Mapping[str, Result]) -> str:
    """CPU seconds each process used during each method (2 CPUs, shared)."""
    return "CPU seconds used (benchmark = ArcticDB's client, proxy, moto): " + "; ".join(
        f"({r.key}) " + " / ".join(f"{v:.1f}" for v in r.cpu.values()) for r in results.values()
    )


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def say_targets(out: Transcript, report: Report) -> None:
    passes = {"cold": report.results, "warm": report.warm}
    for name, results in passes.items():
        if not results:
            continue
        c, d = results["c"], results["d"]
        ratio = d.wall_s / c.wall_s
        met = yes(ratio <= TARGET_WINDOW_VS_C)
        out.say(
            f"{name}: (d) {d.wall_s:.2f} s is {ratio:.2f}x (c) {c.wall_s:.2f} s on "
            f"{c.concurrency} IO threads: <= {TARGET_WINDOW_VS_C:g}x: {met}"
        )
    if not report.warm:
        return
    for key in [k for k in report.warm if k.split("@")[0] == "c"]:
        c = report.warm[key]
        if c.vs_floor is None:
            verdict = "n/a (no added latency)"
        else:
            verdict = yes(c.vs_floor <= TARGET_C_VS_FLOOR)
        out.say(f"warm: {against_floor(c)} on {c.concurrency} threads: <= 1.5x: {verdict}")
    a = report.warm["a"]
    best = min(
        (r for k, r in report.warm.items() if k.split("@")[0] == "c"), key=lambda r: r.wall_s
    )
    out.say(
        f"warm: fastest (c) ({best.concurrency} IO threads, {best.symbols} symbols) "
        f"{best.wall_s:.2f} s vs (a) ({a.symbols}-symbol sample) {a.wall_s:.2f} s: "
        f"no slower: {yes(best.wall_s <= a.wall_s)}"
    )


def say_verdict(out: Transcript, report: Report, expected: dt.date, moto_pid: int | None) -> None:
    out.say()
    out.say(f"every method found all symbols ending {expected}; (c) fetched 0 data segments: OK")
    verdict = "yes" if report.speed_up >= TARGET_SPEED_UP else "NO"
    out.say(f"(c) is {report.speed_up:.1f}x faster than (b): >= {TARGET_SPEED_UP:g}x: {verdict}")
    say_targets(out, report)
    mem = rss_mb(moto_pid)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.say(
        f"memory: this process peaked at {peak:.0f} MB"
        + (f", moto_server holds {mem:.0f} MB" if mem is not None else "")
    )
    out.say(f"total {report.total_s:.0f} s; load average now {load_average()}")


def run_benchmark(
    options: Options, moto: MotoServer, proxy: ProxyProcess, started: float
) -> Report:
    """Build, measure, check and report, with moto started and the proxy not yet."""
    out = Transcript()
    symbols = symbol_names(options.symbols)
    build_s = build_step(out, moto, symbols, options)
    proxy.start()
    todo = methods(symbols, options)
    pids = {"benchmark": os.getpid(), "proxy": proxy.pid, "moto": moto.pid}
    rig = Rig(proxy, options, pids)
    if options.warm:
        proxy.set_cache("fill")  # the cold pass is the warm-up pass
    results = measure_methods(list(todo.values()), rig, options.io_threads)
    # universe_fresh lists the library first; shown apart, it is the same for all.
    listing_s, listing_requests = measure_listing(proxy, options)
    say_results(out, results, listing_s, listing_requests)
    warm = measure_warm(todo, rig) if options.warm else {}
    if warm:
        say_warm(out, warm)
    expected = last_business_day(options.run_date)
    check({**results, **warm}, expected)
    total_s = time.monotonic() - started
    report = Report(
        options, build_s, total_s, results, listing_s, listing_requests, out.lines, warm
    )
    say_verdict(out, report, expected, moto.pid)
    return report


def main(argv: Sequence[str] | None = None) -> Report:
    """Run the benchmark; print and return its report. Raises BenchmarkFailure."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # datatests/ is part of the repository, not installed
    options = parse_args(argv)
    started = time.monotonic()
    moto = MotoServer()
    proxy: ProxyProcess | None = None
    with environment({**FAKE_CREDENTIALS, **clients.arctic_env()}):
        try:
            moto.start()
            proxy = ProxyProcess(moto.endpoint, latency_s=options.latency_s)
            return run_benchmark(options, moto, proxy, started)
        finally:
            if proxy is not None:
                proxy.stop()
            moto.stop()
            use_io_threads(PLUGIN_IO_THREADS)  # what the plugin would have in this process


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM as Ctrl-C: unwind through main's finally, which stops both children.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    except BenchmarkFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted: helper processes stopped", file=sys.stderr)
        sys.exit(130)
