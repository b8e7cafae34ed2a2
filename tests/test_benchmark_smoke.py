"""The universe freshness benchmark runs end to end, at toy size (no timing claims)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "universe_freshness.py"


def load_benchmark(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # benchmarks/ is a directory of scripts, not a package: load the file itself,
    # with its directory on sys.path as running it would (its proxy modules live there).
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("universe_freshness_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_and_batch_method_reads_no_data_segments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_benchmark(monkeypatch)

    # Given a toy universe grown by 2 daily appends (3 data segments a symbol),
    # when the benchmark's main runs on it, cold then warm, and warm on 4 IO threads
    report = bench.main(
        ["--symbols", "12", "--rows", "50", "--latency-ms", "0", "--sample", "3"]
        + ["--run-date", "2026-04-18", "--appends", "2", "--window", "2"]
        + ["--warm", "--warm-io-threads", "4"]
    )

    # Then every method ran on the intended symbols, through the counting proxy
    a, b, c, d = (report.results[key] for key in "abcd")
    assert (a.symbols, b.symbols, c.symbols, d.symbols) == (3, 12, 12, 12)
    # the old method fetches every data segment of each symbol it reads ...
    assert a.data_segment_gets == 3 * 3
    assert b.data_segment_gets == 12 * 3
    # ... universe_fresh's method a version ref and an index key per symbol, no data
    assert c.data_segment_gets == 0
    assert c.key_counts == {"GET vref": 12, "GET tindex": 12}
    # ... the window read of the last 2 rows only the 2 appended segments holding them
    assert d.key_counts == {"GET vref": 12, "GET tindex": 12, "GET tdata": 24}
    assert d.requests_per_symbol == 4
    assert 0 < d.bytes_fetched < b.bytes_fetched
    # and all of them agree on the last session before the run date
    assert set(c.dates.values()) == set(d.dates.values()) == {dt.date(2026, 4, 17)}

    # The warm pass made the same requests, every GET answered from the proxy's memory
    warm = report.warm
    assert set(warm) == {"a", "b", "c", "d", "c@4", "d@4"}
    for key, result in warm.items():
        cold = report.results[key.split("@")[0]]
        assert result.key_counts == cold.key_counts, key
        assert result.cache.get("miss", 0) == 0 and result.cache["hit"] > 0, key
    assert (warm["c"].concurrency, warm["c@4"].concurrency) == (16, 4)
    # a floor for (a), one symbol at a time: vref, tindex, then 3 segments in one round
    assert not warm["a"].batched and warm["c"].batched

    out = capsys.readouterr().out
    assert "vs b" in out
    assert "(c) fetched 0 data segments: OK" in out
    assert "build:" in out
    assert "3 data segments" in out  # the layout is named
    assert "(c) " in out and ", floor " in out  # each method against its floor
    assert "warm: (d)" in out and "cold: (d)" in out


def test_floors(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_benchmark(monkeypatch)

    def result(symbols: int, gets: int, segments: int, batched: bool) -> object:
        return bench.Result(
            "x", "x", symbols, 1.0, {"GET": gets}, {"GET tdata": segments}, {},
            concurrency=16, latency_s=0.025, batched=batched,
        )  # fmt: skip

    # a batch: requests x latency / IO threads
    assert result(1000, 2000, 0, True).floor_s == pytest.approx(3.125)
    # one symbol at a time, one segment each: vref, tindex, tdata in turn
    assert result(20, 60, 20, False).floor_s == pytest.approx(1.5)
    # 26 segments a symbol: vref, tindex, then 2 rounds of 16 IO threads
    assert result(20, 560, 520, False).floor_s == pytest.approx(2.0)
