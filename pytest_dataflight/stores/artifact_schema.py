"""Artifact schemas: one JSON Schema per artifact, both the shape check and the published file.

A suite defines each artifact's shape once, as a JSON Schema (draft 2020-12)
wrapped in :class:`ArtifactSchema`. Its contracts check documents against it
(:meth:`ArtifactSchema.violations`, each violation named by its JSON path,
``tickers[17]``, ``source_ok_ratios.news``), and ``--dataflight-catalog``
writes it to its declared path, so that a consumer team validates against
the very definition the producer's contracts use.

Why JSON Schema (jsonschema) and not Pydantic models: the thing published
*is* a JSON Schema, which consumers read in any language, here written and
reviewed as such rather than generated from classes; jsonschema is already
the report's validator; and Pydantic, unless every model is made strict,
turns ``"4.33"`` into ``4.33``, the kind of producer bug a shape check
exists to catch.

No pytest import here: contracts decide how a violation fails them.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# Violations counted before a count says "more than": a 64 MiB artifact of
# wrong values must not cost minutes to describe in one line.
MAX_COUNTED = 10_000
# Characters of one value a message quotes, and of a message of jsonschema's own.
VALUE_CHARS = 40
MESSAGE_CHARS = 120
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ARTICLE = {"array": "an array", "object": "an object", "integer": "an integer", "null": "null"}
_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
}


@dataclass(frozen=True)
class Violation:
    """One way a document breaks its schema: where (a JSON path) and how."""

    path: str  # "tickers[17]"; "" for the document itself
    problem: str  # "is 42, expected a string"
    # The path as jsonschema gives it, to sort by: indexes as numbers.
    parts: tuple[str | int, ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.path or 'the document'} {self.problem}"


@dataclass(frozen=True, eq=False)
class ArtifactSchema:
    """The shape of one artifact, published at ``path`` (relative to the rootdir).

    ``schema`` is a JSON Schema object in draft 2020-12 (``$schema`` is added
    when missing; another draft is refused). Leave objects open (no
    ``additionalProperties: false``) where producers may add fields.
    """

    path: str
    schema: Mapping[str, Any] = field(repr=False)

    def __post_init__(self) -> None:
        where = PurePosixPath(self.path)
        if where.is_absolute() or ".." in where.parts or not where.name:
            raise ValueError(f"schema path {self.path!r}: expected a path inside the rootdir")
        draft = self.schema.get("$schema", DRAFT_2020_12)
        if draft != DRAFT_2020_12:
            raise ValueError(f"{self.path}: $schema is {draft!r}, expected {DRAFT_2020_12!r}")
        object.__setattr__(self, "schema", {"$schema": DRAFT_2020_12, **self.schema})

    @functools.cached_property
    def _validator(self) -> Any:
        import jsonschema

        # A broken schema is the suite's bug: say so before judging any data with it.
        try:
            jsonschema.Draft202012Validator.check_schema(self.schema)
        except jsonschema.SchemaError as exc:
            where = json_path(exc.absolute_path) or "the top level"
            raise ValueError(
                f"{self.path} is not a valid JSON Schema (draft 2020-12): at {where}, {exc.message}"
            ) from None
        return jsonschema.Draft202012Validator(self.schema)

    def check_schema(self) -> None:
        """Raise ValueError, saying where, if ``schema`` is not a valid draft 2020-12 schema."""
        self._validator  # noqa: B018 - building the validator checks the schema

    def violations(self, document: Any, limit: int = 20) -> tuple[list[Violation], int]:
        """The first ``limit`` violations, sorted by path (array indexes as numbers), and
        how many there are; a count above MAX_COUNTED means "more than MAX_COUNTED"."""
        errors = itertools.islice(self._validator.iter_errors(document), MAX_COUNTED + 1)
        found = sorted(set(_violations(errors)), key=_path_order)
        return found[:limit], min(len(found), MAX_COUNTED + 1)

    def published(self) -> str:
        """The schema as the committed file holds it."""
        return json.dumps(self.schema, indent=2, ensure_ascii=False) + "\n"

    def outline(self, *names: str) -> ArtifactSchema:
        """Only the top-level ``names`` of this schema, each reduced to its ``type``.

        For a contract that needs a part of an artifact to be usable but leaves
        judging that part to the contract that owns the artifact, so that one
        bad entry fails one contract.
        """
        properties = self.schema.get("properties", {})
        unknown = [n for n in names if n not in properties]
        if unknown:
            raise ValueError(f"{self.path}: no property {', '.join(map(repr, unknown))} to outline")
        return ArtifactSchema(
            self.path,
            {
                "type": "object",
                "required": [n for n in self.schema.get("required", ()) if n in names],
                "properties": {
                    n: {"type": properties[n]["type"]} if "type" in properties[n] else {}
                    for n in names
                },
            },
        )


def describe_violations(violations: list[Violation], total: int) -> str:
    """One line for a message, from what :meth:`ArtifactSchema.violations` returned:
    'tickers[17] is 42, expected a string', or '5 problems: …; and 3 more'."""
    listed = "; ".join(str(v) for v in violations)
    if total <= 1:
        return listed
    if total > MAX_COUNTED:
        return f"more than {MAX_COUNTED:,} problems: {listed}; and more"
    more = total - len(violations)
    return f"{total:,} problems: {listed}" + (f"; and {more:,} more" if more > 0 else "")


def json_path(parts: Iterable[str | int]) -> str:
    """``tickers[17]``, ``source_ok_ratios.news``, ``data["BRK.B"].short_ratio``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{_printable(json.dumps(part, ensure_ascii=False))}]"
    return text


def shown(value: Any) -> str:
    """A JSON value as a message quotes it: scalars as written (cut), containers by size."""
    if isinstance(value, dict | list):
        kind, unit = ("object", "key") if isinstance(value, dict) else ("array", "item")
        if not value:
            return f"an empty {kind}"
        return f"an {kind} of {len(value):,} {unit}{'' if len(value) == 1 else 's'}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        # Python refuses to print an int of more than 4,300 digits; none is worth quoting.
        return f"an integer of about {value.bit_length() * 0.30103:,.0f} digits"
    text = _printable(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"


def _printable(text: str) -> str:
    # Lone surrogates are valid in JSON and unencodable in UTF-8: shown as escapes.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _violations(errors: Iterable[Any]) -> Iterable[Violation]:
    for error in errors:
        parts = tuple(error.absolute_path)
        if error.validator == "required":
            # One error per missing name, each phrased as prose: name them as paths.
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    where = (*parts, name)
                    yield Violation(json_path(where), "is missing", where)
            continue
        yield Violation(json_path(parts), _problem(error), parts)


def _problem(error: Any) -> str:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_ARTICLE.get(t, f"a {t}") for t in types)
    elif keyword in _BOUNDS:
        wanted = f"{_BOUNDS[keyword]} {expected}"
    elif keyword in ("pattern", "format"):
        wanted = str(error.schema.get("description") or f"to match {expected}")
    elif keyword in ("minItems", "minProperties"):
        unit = "item" if keyword == "minItems" else "key"
        wanted = f"at least {expected} {unit}{'' if expected == 1 else 's'}"
    elif keyword in ("enum", "const"):
        choices = expected if keyword == "enum" else [expected]
        wanted = "one of " + ", ".join(shown(c) for c in choices)
    else:
        # jsonschema's own words quote the whole instance: cut them.
        message = _printable(" ".join(str(error.message).split()))
        cut = message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + "…"
        return f"is {shown(value)}, breaks {keyword!r}: {cut}"
    return f"is {shown(value)}, expected {wanted}"


def _path_order(violation: Violation) -> tuple[Any, ...]:
    # Indexes sort as numbers (tickers[9] before tickers[17]), a parent before its children.
    key = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in violation.parts)
    return (*key, (-1, 0, violation.problem))
