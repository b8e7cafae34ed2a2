"""Benchmark: how to tell whether every symbol of the ``universe`` library is fresh.

    python benchmarks/universe_freshness.py \\
        [--symbols 1000] [--rows 2500] [--latency-ms 25] [--sample 20] [--run-date 2026-04-18]

Starts ``moto_server`` (a subprocess) and, in a second subprocess, an
:class:`s3_proxy.S3Proxy` (this directory's) in front of it that adds
``--latency-ms`` to every S3 request and counts requests by ArcticDB key type.
It writes a universe library straight to moto (no added latency: only the
reads are measured), then reads it through the proxy three ways, each with a
fresh ``Arctic`` instance so that no cache helps:

(a) the method of the system the pipeline is modelled on: sequential
    per-symbol ``read(columns=["Close"])`` on a sample seeded by the run date;
(b) the same method on every symbol;
(c) ``universe_fresh``'s method, ``datatests.freshness.last_index_dates``
    (``get_description_batch``: version ref and index key, never a data segment).

It prints a side-by-side table, fails if (c) fetched a data segment, and says
whether (c) is at least 6 times faster than (b). Every process it starts is
ended by PID, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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

from pytest_dataflight import clients
from pytest_dataflight.moto_server import FAKE_CREDENTIALS, MotoServer

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


@dataclass
class Result:
    key: str
    method: str
    symbols: int
    wall_s: float
    counts: dict[str, int]
    key_counts: dict[str, int]
    dates: dict[str, Any] = field(repr=False)

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

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


def build_universe(library: Any, symbols: Sequence[str], options: Options) -> tuple[float, float]:
    """Write the universe; (seconds writing, seconds of the first list_symbols)."""
    import pandas as pd
    from arcticdb import WritePayload

    index = pd.bdate_range(end=options.run_date, periods=options.rows)
    started = time.monotonic()
    for start in range(0, len(symbols), options.write_batch):
        chunk = symbols[start : start + options.write_batch]
        payloads = [
            WritePayload(symbol, make_frame(index, seed=start + i))
            for i, symbol in enumerate(chunk)
        ]
        for symbol, written in zip(chunk, library.write_batch(payloads), strict=True):
            if getattr(written, "version", None) is None:
                raise BenchmarkFailure(f"writing {symbol} failed: {written}")
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


def measure(
    key: str,
    method: str,
    symbols: Sequence[str],
    proxy: ProxyProcess,
    uri: str,
    run: Callable[[Any, Sequence[str]], dict[str, Any]],
) -> Result:
    # A fresh Arctic instance per method: no version-map or client cache carries over.
    library = clients.open_arctic(uri).get_library(LIBRARY)
    proxy.reset_counts()
    started = time.perf_counter()
    dates = run(library, symbols)
    wall_s = time.perf_counter() - started
    counted = proxy.counts()
    return Result(
        key, method, len(symbols), wall_s, counted["counts"], counted["key_counts"], dates
    )


def per_symbol_reads(library: Any, symbols: Sequence[str]) -> dict[str, Any]:
    from datatests.freshness import last_close_date

    return {symbol: last_close_date(library, symbol) for symbol in symbols}


def batch_descriptions(library: Any, symbols: Sequence[str]) -> dict[str, Any]:
    from datatests.freshness import last_index_dates

    return dict(last_index_dates(library, symbols))


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


def table(results: Mapping[str, Result]) -> list[str]:
    base = results["b"].wall_s
    header = (
        f"{'method':<52} {'symbols':>7} {'wall s':>8} {'S3 requests':>11} "
        f"{'data-segment GETs':>17} {'speed-up vs b':>13} {'ms/symbol':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in results.values():
        lines.append(
            f"{'(' + r.key + ') ' + r.method:<52} {r.symbols:>7} {r.wall_s:>8.2f} "
            f"{r.requests:>11} {r.data_segment_gets:>17} {base / r.wall_s:>12.1f}x "
            f"{1000 * r.wall_s / r.symbols:>9.1f}"
        )
    return lines


def by_type(result: Result) -> str:
    gets = {k[4:]: v for k, v in result.key_counts.items() if k.startswith("GET ")}
    others = {k: v for k, v in result.key_counts.items() if not k.startswith("GET ")}
    text = ", ".join(f"{k} {v}" for k, v in sorted(gets.items(), key=lambda kv: -kv[1]))
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
    ns = parser.parse_args(argv)
    if ns.symbols < 1 or ns.rows < 1 or ns.sample < 1 or ns.write_batch < 1:
        parser.error("--symbols, --rows, --sample and --write-batch must be at least 1")
    return Options(ns.symbols, ns.rows, ns.latency_ms, ns.sample, ns.run_date, ns.write_batch)


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
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )


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


def measure_methods(
    symbols: Sequence[str], options: Options, proxy: ProxyProcess
) -> dict[str, Result]:
    """(a), (b) and (c), each through the proxy with a fresh Arctic instance."""
    from datatests.freshness import sample

    uri = arctic_uri(proxy.endpoint)
    picked = sample(symbols, options.sample, options.run_date.isoformat())
    results: dict[str, Result] = {}
    for key, method, subset, run in (
        ("a", 'read(columns=["Close"]), seeded sample', picked, per_symbol_reads),
        ("b", 'read(columns=["Close"]), every symbol', symbols, per_symbol_reads),
        ("c", "get_description_batch (universe_fresh)", symbols, batch_descriptions),
    ):
        print(f"  measuring ({key}) on {len(subset)} symbols ...", file=sys.stderr)
        results[key] = measure(key, method, subset, proxy, uri, run)
    return results


def measure_listing(proxy: ProxyProcess) -> tuple[float, int]:
    """(seconds, S3 requests) of list_symbols on the compacted symbol list."""
    library = clients.open_arctic(arctic_uri(proxy.endpoint)).get_library(LIBRARY)
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
    out.say(
        f"list_symbols on the compacted symbol list, which universe_fresh calls once "
        f"before (c): {listing_requests} requests, {listing_s:.2f} s"
    )


def say_verdict(out: Transcript, report: Report, expected: dt.date, moto_pid: int | None) -> None:
    out.say(f"every method found all symbols ending {expected}; (c) fetched 0 data segments: OK")
    verdict = "yes" if report.speed_up >= TARGET_SPEED_UP else "NO"
    out.say(f"(c) is {report.speed_up:.1f}x faster than (b): >= {TARGET_SPEED_UP:g}x: {verdict}")
    mem = rss_mb(moto_pid)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.say(
        f"memory: this process peaked at {peak:.0f} MB"
        + (f", moto_server holds {mem:.0f} MB" if mem is not None else "")
    )
    out.say(f"total {report.total_s:.0f} s; load average now {os.getloadavg()[0]:.1f}")


def run_benchmark(
    options: Options, moto: MotoServer, proxy: ProxyProcess, started: float
) -> Report:
    """Build, measure, check and report, with moto started and the proxy not yet."""
    out = Transcript()
    symbols = symbol_names(options.symbols)
    build_s = build_step(out, moto, symbols, options)
    proxy.start()
    results = measure_methods(symbols, options, proxy)
    # universe_fresh lists the library first; shown apart, it is the same for all.
    listing_s, listing_requests = measure_listing(proxy)
    say_results(out, results, listing_s, listing_requests)
    expected = last_business_day(options.run_date)
    check(results, expected)
    total_s = time.monotonic() - started
    report = Report(options, build_s, total_s, results, listing_s, listing_requests, out.lines)
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
            proxy = ProxyProcess(moto.endpoint, latency_s=options.latency_ms / 1000)
            return run_benchmark(options, moto, proxy, started)
        finally:
            if proxy is not None:
                proxy.stop()
            moto.stop()


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
