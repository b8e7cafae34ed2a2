"""Phase 2 postflight: the alternative-data manifest (PIPELINE.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_dataflight import contract

from .artifacts import finite_number, read_json, require_mapping
from .layout import ALTERNATIVE_MANIFEST, RESEARCH, weekly_key


@contract(stage="postflight", phases=["phase2"], consumers=[RESEARCH])
def test_alternative_manifest(s3: Any, bucket: str, run_date: dt.date, evidence: Any) -> None:
    """alternative/manifest.json is optional (absent: skipped); `tickers_requested` > 0, both
    ratio maps present, every source at or above its floor; all breached sources named.
    """
    key = weekly_key(run_date, ALTERNATIVE_MANIFEST)
    manifest = require_mapping(
        read_json(s3, bucket, key, optional=True, why=" (phase 2 has not written it)"), key
    )
    requested = manifest.get("tickers_requested")
    ratios, floors = manifest.get("source_ok_ratios"), manifest.get("source_min_ok_ratios")
    evidence.update(tickers_requested=requested, source_ok_ratios=ratios, floors=floors)
    problems = []
    if not isinstance(requested, int) or isinstance(requested, bool) or requested <= 0:
        problems.append(f"tickers_requested is {requested!r}, expected a positive integer")
    for field, value in (("source_ok_ratios", ratios), ("source_min_ok_ratios", floors)):
        if not isinstance(value, dict) or not value:
            problems.append(f"{field} is {value!r}, expected a non-empty object")
    if isinstance(ratios, dict) and isinstance(floors, dict):
        breached = []
        for source in sorted(floors):
            floor, ok = finite_number(floors[source]), finite_number(ratios.get(source))
            if floor is None or not 0 <= floor <= 1:
                breached.append(f"{source} has floor {floors[source]!r}, expected a ratio 0..1")
            elif ok is None or not 0 <= ok <= 1:
                breached.append(f"{source} ok ratio is {ratios.get(source)!r} (floor {floor:.2f})")
            elif ok < floor:
                breached.append(f"{source} {ok:.2f} < {floor:.2f}")
        evidence["breached"] = breached
        if breached:
            problems.append(f"{len(breached)} sources not at their floor: {', '.join(breached)}")
    if problems:
        pytest.fail(
            f"{key}: {'; '.join(problems)}; research would publish on incomplete alternative data",
            pytrace=False,
        )
