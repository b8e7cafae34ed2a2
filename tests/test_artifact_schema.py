"""Artifact schemas: one definition gives the shape check and the published JSON Schema.

Given the schemas of datatests/ (PIPELINE.md's JSON artifacts), the healthy
mock world's and the live black box's documents hold to them, producers may
add fields, and each violation is named by its JSON path (``tickers[17]``,
``source_ok_ratios.news``) with what was found and what was expected.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import live_world
import pytest

from datatests import artifact_schemas, mock_world
from datatests.artifact_schemas import CONSTITUENTS, MACRO, MANIFEST, POINTER, SHORT_INTEREST
from datatests.layout import (
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    MACRO_JSON,
    POINTER_KEY,
    SHORT_INTEREST_JSON,
)
from pytest_dataflight import ArtifactSchema
from pytest_dataflight.artifact_schema import MAX_COUNTED, describe, json_path

RUN_DATE = dt.date(2026, 4, 18)
SCHEMA_OF = {
    POINTER_KEY: POINTER,
    MACRO_JSON: MACRO,
    CONSTITUENTS_JSON: CONSTITUENTS,
    SHORT_INTEREST_JSON: SHORT_INTEREST,
    ALTERNATIVE_MANIFEST: MANIFEST,
}


class _Recorder:
    """What seed_weekly_json writes, kept as documents (no store: the shapes are the point)."""

    def __init__(self) -> None:
        self.run_date = RUN_DATE
        self.written: dict[str, Any] = {}

    def put_json(self, key: str, doc: Any) -> None:
        self.written[key] = json.loads(json.dumps(doc))


def _schema_for(key: str) -> ArtifactSchema:
    [schema] = [s for name, s in SCHEMA_OF.items() if key.endswith(name)]
    return schema


def _problems(schema: ArtifactSchema, doc: Any) -> list[str]:
    found, _ = schema.violations(doc)
    return [str(v) for v in found]


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    for schema in artifact_schemas.ALL:
        jsonschema.Draft202012Validator.check_schema(schema.schema)
        assert schema.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema.path.startswith("datatests/schemas/")
    assert len({s.path for s in artifact_schemas.ALL}) == len(artifact_schemas.ALL)


def test_the_healthy_mock_world_holds_to_every_schema() -> None:
    world = _Recorder()
    mock_world.seed_weekly_json(world, mock_world.constituents(RUN_DATE))  # type: ignore[arg-type]
    world.put_json(
        POINTER_KEY, {"date": "2026-04-18", "s3_prefix": "market_data/weekly/2026-04-18/"}
    )
    checked = {key: _schema_for(key) for key in world.written if "alternative/" not in key}
    checked[next(k for k in world.written if k.endswith(ALTERNATIVE_MANIFEST))] = MANIFEST
    assert len(checked) == 5
    for key, schema in checked.items():
        assert _problems(schema, world.written[key]) == [], key


def test_the_live_black_box_documents_hold_to_every_schema() -> None:
    for key, doc in live_world.objects().items():
        assert _problems(_schema_for(key), doc) == [], key


def test_producers_may_add_fields_anywhere_in_an_object() -> None:
    doc = mock_world.constituents(RUN_DATE)
    doc["source"] = "wikipedia"
    doc["sector_map"]["NEWCO"] = "Industrials"  # a map may name more than the list
    assert _problems(CONSTITUENTS, doc) == []
    macro = {"fed_funds_rate": 4.33, "cpi_yoy": 2.9, "note": "FRED"}
    assert _problems(MACRO, macro) == []


@pytest.mark.parametrize(
    ("schema", "doc", "expected"),
    [
        (
            CONSTITUENTS,
            {"tickers": ["AAPL"] * 17 + [320193], "sector_map": {}},
            ["tickers[17] is 320193, expected a string"],
        ),
        (
            MANIFEST,
            {
                "tickers_requested": 60,
                "source_ok_ratios": {"news": "n/a", "eps_revision": 1.2},
                "source_min_ok_ratios": {},
            },
            [
                "source_min_ok_ratios is an empty object, expected at least 1 key",
                "source_ok_ratios.eps_revision is 1.2, expected at most 1",
                'source_ok_ratios.news is "n/a", expected a number',
            ],
        ),
        (
            SHORT_INTEREST,
            {"ticker_count": -1, "data": {"BRK.B": {"short_ratio": "1.2"}, "X": None}},
            [
                'data["BRK.B"].short_ratio is "1.2", expected a number or null',
                "ok_count is missing",
                "ticker_count is -1, expected at least 0",
            ],
        ),
        (
            POINTER,
            {"date": "2026-4-18", "s3_prefix": "market_data/weekly/2026-04-18"},
            [
                'date is "2026-4-18", expected a date, YYYY-MM-DD',
                's3_prefix is "market_data/weekly/2026-04-18", '
                "expected a prefix market_data/weekly/<date>/",
            ],
        ),
        (
            MACRO,
            [{"fed_funds_rate": 4.33}],
            ["the document is an array of 1 item, expected an object"],
        ),
        (MACRO, {"fed_funds_rate": True}, ["fed_funds_rate is true, expected a number or null"]),
        (
            CONSTITUENTS,
            {"tickers": ["AAPL", "BRK B", ""], "sector_map": {"AAPL": " "}},
            [
                'sector_map.AAPL is " ", expected a name, not blank',
                'tickers[1] is "BRK B", expected a ticker symbol, no spaces',
                'tickers[2] is "", expected a ticker symbol, no spaces',
            ],
        ),
    ],
    ids=["ticker-number", "ratios", "short-interest", "pointer-formats", "array", "bool", "blank"],
)
def test_each_violation_names_its_json_path(
    schema: ArtifactSchema, doc: Any, expected: list[str]
) -> None:
    assert _problems(schema, doc) == expected


def test_violations_sort_by_path_with_indexes_as_numbers_and_are_counted() -> None:
    doc = {"tickers": [1] * 30, "sector_map": {}}
    shown, total = CONSTITUENTS.violations(doc, limit=3)
    assert [v.path for v in shown] == ["tickers[0]", "tickers[1]", "tickers[2]"]
    assert total == 30
    assert describe(shown, total).endswith("tickers[2] is 1, expected a string; and 27 more")


def test_counting_stops_at_a_bound_and_says_so() -> None:
    doc = {"tickers": [1] * (MAX_COUNTED + 5), "sector_map": {}}
    shown, total = CONSTITUENTS.violations(doc, limit=1)
    assert total == MAX_COUNTED
    assert describe(shown, total).endswith(f"; and {MAX_COUNTED - 1:,} or more others")


def test_json_paths_quote_keys_that_are_not_names() -> None:
    assert json_path([]) == ""
    assert json_path(["tickers", 17]) == "tickers[17]"
    assert json_path(["source_ok_ratios", "news"]) == "source_ok_ratios.news"
    assert json_path(["data", "BRK.B", "short_ratio"]) == 'data["BRK.B"].short_ratio'
    assert json_path(["a b"]) == '["a b"]'


def test_an_outline_checks_only_the_named_fields_and_their_type() -> None:
    tickers_only = CONSTITUENTS.outline("tickers")
    assert _problems(tickers_only, {"tickers": [1, None]}) == []  # entries: not its business
    assert _problems(tickers_only, {"tickers": "AAPL"}) == ['tickers is "AAPL", expected an array']
    assert _problems(tickers_only, {}) == ["tickers is missing"]  # sector_map is not asked for


def test_a_schema_that_is_no_json_schema_says_where() -> None:
    broken = ArtifactSchema("x.schema.json", {"type": "object", "properties": {"a": {"type": 3}}})
    with pytest.raises(ValueError, match=r"^x.schema.json is not a valid JSON Schema"):
        broken.check_schema()


def test_the_published_text_is_the_definition() -> None:
    for schema in artifact_schemas.ALL:
        assert json.loads(schema.published()) == schema.schema
        assert schema.published().endswith("}\n")
