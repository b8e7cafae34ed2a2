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
from contract_calls import policy_fixtures

from datatests import artifact_schemas, mock_world
from datatests.artifact_schemas import CONSTITUENTS, MACRO, MANIFEST, POINTER, SHORT_INTEREST
from datatests.layout import (
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    MACRO_JSON,
    POINTER_KEY,
    SHORT_INTEREST_JSON,
)
from pytest_dataflight import ArtifactSchema, describe_violations
from pytest_dataflight.stores.artifact_schema import MAX_COUNTED, json_path, shown

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
            {"tickers": ["AAPL", "BRK B", "", "NVDA\n"], "sector_map": {"AAPL": 7, "GONE": None}},
            [
                "sector_map.AAPL is 7, expected a string or null",
                'tickers[1] is "BRK B", expected a ticker symbol, no spaces',
                'tickers[2] is "", expected a ticker symbol, no spaces',
                # Python's "$" alone would match before the final newline; ECMA-262's would not.
                'tickers[3] is "NVDA\\n", expected a ticker symbol, no spaces',
            ],
        ),
        (
            SHORT_INTEREST,
            {"ticker_count": 2**53, "ok_count": 0, "data": {}, "fetched_at": "2026-04-18 00:12"},
            ["ticker_count is 9007199254740992, expected at most 9007199254740991"],
        ),
    ],
    ids=[
        "ticker-number",
        "ratios",
        "short-interest",
        "pointer-formats",
        "array",
        "bool",
        "blank",
        "count-bound",
    ],
)
def test_each_violation_names_its_json_path(
    schema: ArtifactSchema, doc: Any, expected: list[str]
) -> None:
    assert _problems(schema, doc) == expected


def test_violations_sort_by_path_with_indexes_as_numbers_and_are_counted() -> None:
    doc = {"tickers": [1] * 30, "sector_map": {}}
    found, total = CONSTITUENTS.violations(doc, limit=3)
    assert [v.path for v in found] == ["tickers[0]", "tickers[1]", "tickers[2]"]
    assert total == 30
    assert describe_violations(found, total) == (
        "30 problems: tickers[0] is 1, expected a string; tickers[1] is 1, expected a string; "
        "tickers[2] is 1, expected a string; and 27 more"
    )
    assert describe_violations(found[:1], 1) == "tickers[0] is 1, expected a string"


def test_counting_stops_at_a_bound_and_says_so() -> None:
    exactly = {"tickers": [1] * MAX_COUNTED, "sector_map": {}}
    assert CONSTITUENTS.violations(exactly, limit=1)[1] == MAX_COUNTED
    beyond = {"tickers": [1] * (MAX_COUNTED + 5), "sector_map": {}}
    found, total = CONSTITUENTS.violations(beyond, limit=1)
    assert total == MAX_COUNTED + 1
    assert describe_violations(found, total) == (
        f"more than {MAX_COUNTED:,} problems: tickers[0] is 1, expected a string; and more"
    )


def test_odd_keys_and_values_never_break_the_message() -> None:
    # Keys that read as digits or brackets, lone surrogates, numbers beyond any use (json
    # itself refuses integers of more than 4,300 digits: a body with one is "not valid JSON").
    doc = {
        "tickers": [10**4000, " " + "x" * 100],
        "sector_map": {"a.\u00b2.b": 1, "x]\u00b2[y": 2, "\ud800": 3, "17": 4, "": 5},
    }
    found, total = CONSTITUENTS.violations(doc)
    assert total == 7
    text = describe_violations(found, total)
    text.encode("utf-8")  # printable: no lone surrogate left
    assert 'sector_map["\\ud800"] is 3' in text
    assert 'sector_map[""] is 5' in text
    assert "tickers[0] is an integer of about 4,000 digits" in text
    assert 'tickers[1] is " ' + "x" * 38 + "…, expected a ticker" in text
    assert shown(float("nan")) == "NaN" and shown(True) == "true"


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


@pytest.mark.parametrize(
    ("path", "schema", "error"),
    [
        ("../x.json", {}, "schema path '../x.json': expected a path inside the rootdir"),
        ("/etc/x.json", {}, "schema path '/etc/x.json': expected a path inside the rootdir"),
        (
            "x.json",
            {"$schema": "http://json-schema.org/draft-07/schema#"},
            "x.json: $schema is 'http://json-schema.org/draft-07/schema#', "
            "expected 'https://json-schema.org/draft/2020-12/schema'",
        ),
    ],
)
def test_a_declaration_outside_the_rootdir_or_of_another_draft_is_refused(
    path: str, schema: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError) as info:
        ArtifactSchema(path, schema)
    assert str(info.value) == error


def test_an_outline_of_an_unknown_field_says_which() -> None:
    with pytest.raises(ValueError, match="no property 'nope' to outline"):
        CONSTITUENTS.outline("tickers", "nope")


def test_the_published_text_is_the_definition() -> None:
    for schema in artifact_schemas.ALL:
        assert json.loads(schema.published()) == schema.schema
        assert schema.published().endswith("}\n")


# --- shape next to meaning: a shape violation never hides a finding -----------------


@pytest.fixture(scope="module")
def s3() -> Any:
    import boto3

    from pytest_dataflight.mock.moto_server import FAKE_CREDENTIALS, MotoServer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = MotoServer().start()
        try:
            client = boto3.client(
                "s3",
                endpoint_url=server.endpoint,
                region_name="us-east-1",
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
            client.create_bucket(Bucket="shapes")
            yield client
        finally:
            server.stop()


def _message(s3: Any, contract: Any, key: str, doc: Any) -> str:
    from pytest_dataflight import Evidence

    s3.put_object(Bucket="shapes", Key=key, Body=json.dumps(doc).encode())
    with pytest.raises(pytest.fail.Exception) as info:
        contract(s3, "shapes", RUN_DATE, Evidence(), **policy_fixtures(contract, RUN_DATE))
    return str(info.value.msg)


def test_a_malformed_manifest_still_names_every_breached_source(s3: Any) -> None:
    from datatests.test_postflight_phase2 import test_alternative_manifest

    ratios = {"news": "n/a", "options_flow": 0.42, "eps_revision": 0.95}
    floors = {"news": 0.8, "options_flow": 0.85, "eps_revision": 0.8}
    doc = {"tickers_requested": 60, "source_ok_ratios": ratios, "source_min_ok_ratios": floors}
    message = _message(
        s3, test_alternative_manifest, f"market_data/weekly/{RUN_DATE}/{ALTERNATIVE_MANIFEST}", doc
    )
    assert 'source_ok_ratios.news is "n/a", expected a number' in message
    assert "options_flow 0.42 < 0.85" in message


def test_a_malformed_pointer_still_says_it_names_last_week(s3: Any) -> None:
    from datatests.test_postflight_phase1 import test_latest_weekly_pointer

    doc = {"date": "2026-04-11", "s3_prefix": "market_data/weekly/2026-04-11"}
    message = _message(s3, test_latest_weekly_pointer, POINTER_KEY, doc)
    assert message.startswith(
        "market_data/latest_weekly.json did not roll forward to run_date 2026-04-18: "
        "date is '2026-04-11', expected '2026-04-18'"
    )
    assert 's3_prefix is "market_data/weekly/2026-04-11", expected a prefix' in message
