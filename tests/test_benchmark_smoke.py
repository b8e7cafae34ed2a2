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

    # Given a toy universe, when the benchmark's main runs on it
    report = bench.main(
        ["--symbols", "12", "--rows", "50", "--latency-ms", "0", "--sample", "3"]
        + ["--run-date", "2026-04-18"]
    )

    # Then every method ran on the intended symbols, through the counting proxy
    a, b, c = (report.results[key] for key in "abc")
    assert (a.symbols, b.symbols, c.symbols) == (3, 12, 12)
    # the old method fetches one data segment per symbol read ...
    assert a.data_segment_gets == 3
    assert b.data_segment_gets == 12
    # ... universe_fresh's method a version ref and an index key per symbol, no data
    assert c.data_segment_gets == 0
    assert c.key_counts == {"GET vref": 12, "GET tindex": 12}
    # and all of them agree on the last session before the run date
    assert set(c.dates.values()) == {dt.date(2026, 4, 17)}

    out = capsys.readouterr().out
    assert "speed-up vs b" in out
    assert "(c) fetched 0 data segments: OK" in out
    assert "build:" in out
