"""Phase 2 postflight: the alternative-data manifest (PIPELINE.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_dataflight import Waivers, contract

from . import artifact_schemas as schemas
from .artifacts import finite_number, one_line, read_json, shape_problem
from .layout import ALTERNATIVE_MANIFEST, RESEARCH, weekly_key


@contract(stage="postflight", phases=["phase2"], consumers=[RESEARCH], schema=schemas.MANIFEST)
def test_alternative_manifest(
    s3: Any, bucket: str, run_date: dt.date, evidence: Any, waivers: Waivers
) -> None:
    """alternative/manifest.json is optional (absent: skipped); it has its shape (both ratio
    maps present), `tickers_requested` > 0, every source at or above its floor; all breached
    sources named (waivers name sources).
    """
    key = weekly_key(run_date, ALTERNATIVE_MANIFEST)
    why = " (phase 2 has not written it)"
    manifest = read_json(s3, bucket, key, optional=True, why=why)
    # Shape and floors are judged together: every breached source is named, even when
    # another one's ratio is malformed.
    shape = shape_problem(manifest, schemas.MANIFEST, f"s3://{bucket}/{key}", evidence)
    if not isinstance(manifest, dict):
        pytest.fail(str(shape), pytrace=False)  # not an object: never of its shape
    requested = manifest.get("tickers_requested")
    ratios, floors = manifest.get("source_ok_ratios"), manifest.get("source_min_ok_ratios")
    evidence.update(tickers_requested=requested, source_ok_ratios=ratios, floors=floors)
    problems = [shape] if shape else []
    if finite_number(requested) is not None and requested <= 0:
        problems.append(f"tickers_requested is {requested!r}, expected a positive integer")
    if isinstance(ratios, dict) and isinstance(floors, dict):
        kept, _ = waivers.split(
            _breached(ratios, floors), subject=lambda b: b[0], describe=lambda b: b[1]
        )
        breached = [text for _, text in kept]
        evidence["breached"] = breached
        if breached:
            problems.append(f"{len(breached)} sources not at their floor: {', '.join(breached)}")
    if problems:
        pytest.fail(
            one_line(
                f"{key}: {'; '.join(problems)}; "
                "research would publish on incomplete alternative data"
            ),
            pytrace=False,
        )


def _breached(ratios: dict[str, Any], floors: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, what is wrong) for each source below its floor; a value that is no finite
    number is named too (the schema bounds ratios to 0..1, but NaN passes a bound)."""
    breached = []
    for source in sorted(floors):
        floor, ok = finite_number(floors[source]), finite_number(ratios.get(source))
        if floor is None:
            why = f"has floor {floors[source]!r}, expected a ratio 0..1"
        elif ok is None:
            why = f"ok ratio is {ratios.get(source)!r} (floor {floor:.2f})"
        elif ok < floor:
            why = f"{ok:.2f} < {floor:.2f}"
        else:
            continue
        breached.append((source, f"{source} {why}"))
    return breached
