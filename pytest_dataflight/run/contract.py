"""Declaring a contract next to its code, and reading the declaration back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import pytest

from ..stores.artifact_schema import ArtifactSchema
from .policy import Policy, Threshold

STAGES = ("preflight", "postflight")


class Severity(StrEnum):
    """What a contract's violation does: ``error`` blocks its consumers, ``warn`` reports."""

    ERROR = "error"
    WARN = "warn"


SEVERITIES = tuple(s.value for s in Severity)
MARKER = "contract"

F = TypeVar("F", bound=Callable[..., Any])


def contract(
    name: str | None = None,
    *,
    stage: str,
    phases: Sequence[str],
    consumers: Sequence[str],
    severity: str = Severity.ERROR,
    schema: str | ArtifactSchema | None = None,
    thresholds: Mapping[str, Threshold] | None = None,
) -> Callable[[F], F]:
    """Mark a test function as a data contract.

    Applies ordinary markers (``contract`` and the stage here; each phase at
    collection, see :func:`add_phase_markers`) so that ``-m "postflight and
    phase1"``, ``-k``, ``--lf`` and ``--collect-only`` work as usual. ``name``
    defaults to the function name without ``test_``; ``schema`` is the
    artifact schema the contract checks: an :class:`ArtifactSchema` (the
    catalog links it and ``--dataflight-catalog`` writes it to its path) or
    the path of a schema file kept by hand. ``thresholds`` names every number
    the contract judges by, with its default (``{"max_sessions_behind":
    Threshold(2, "count", "sessions")}``): the test reads the value in force
    from the ``thresholds`` fixture, and a policy file may change it.
    """
    if stage not in STAGES:
        raise ValueError(f"contract stage must be one of {STAGES}, got {stage!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"contract severity must be one of {SEVERITIES}, got {severity!r}")
    if isinstance(phases, str) or isinstance(consumers, str):
        raise TypeError("phases and consumers are lists of names, not a single string")
    for key, value in (thresholds or {}).items():
        if not isinstance(value, Threshold):
            raise TypeError(f"threshold {key!r} must be a Threshold(default, kind), got {value!r}")

    def apply(func: F) -> F:
        contract_name = name or func.__name__.removeprefix("test_")
        marks = [
            getattr(pytest.mark, MARKER)(
                contract_name,
                stage=stage,
                phases=list(phases),
                consumers=list(consumers),
                severity=severity,
                **({"schema": schema} if schema else {}),
                **({"thresholds": dict(thresholds)} if thresholds else {}),
            ),
            getattr(pytest.mark, stage),
        ]
        for mark in marks:
            func = mark(func)
        return func

    return apply


@dataclass(frozen=True)
class ContractInfo:
    name: str
    stage: str | None
    phases: tuple[str, ...]
    consumers: tuple[str, ...]
    severity: str
    schema: str | None = None  # its path: shown in the catalog, not in the report
    # The definition behind ``schema``, when the suite declared one: the catalog writes it.
    artifact_schema: ArtifactSchema | None = field(default=None, compare=False, repr=False)
    # Every number it judges by, with its default (a policy file may change them).
    thresholds: Mapping[str, Threshold] = field(default_factory=dict, compare=False)

    @classmethod
    def from_item(cls, item: pytest.Item) -> ContractInfo | None:
        mark = item.get_closest_marker(MARKER)
        if mark is None:
            return None
        name = mark.args[0] if mark.args else item.name.removeprefix("test_")
        stage = mark.kwargs.get("stage") or next(
            (s for s in STAGES if item.get_closest_marker(s)), None
        )
        phases = tuple(mark.kwargs.get("phases", ()))
        schema = mark.kwargs.get("schema")
        return cls(
            name=str(name),
            stage=stage,
            phases=phases,
            consumers=tuple(mark.kwargs.get("consumers", ())),
            severity=str(mark.kwargs.get("severity", Severity.ERROR)),
            schema=schema.path if isinstance(schema, ArtifactSchema) else schema,
            artifact_schema=schema if isinstance(schema, ArtifactSchema) else None,
            thresholds=dict(mark.kwargs.get("thresholds") or {}),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "contract": self.name,
            "stage": self.stage,
            "phases": list(self.phases),
            "consumers": list(self.consumers),
            "severity": self.severity,
        }
        if self.thresholds:
            # Their defaults: the controller of an xdist run states the policy's overrides.
            data["thresholds"] = {name: t.default for name, t in self.thresholds.items()}
        return data


def add_phase_markers(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each contract its phases as markers, registering any phase not yet known.

    Phases belong to a suite, not to the plugin: registering them here saves
    every suite an ini entry and keeps ``--strict-markers`` happy.
    """
    known = {line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")}
    for item in items:
        info = ContractInfo.from_item(item)
        if info is None:
            continue
        for phase in info.phases:
            if phase not in known:
                config.addinivalue_line("markers", f"{phase}: pipeline phase (from @contract)")
                known.add(phase)
            if item.get_closest_marker(phase) is None:
                item.add_marker(phase)


def contract_json(item: pytest.Item) -> dict[str, Any] | None:
    """The contract's declaration; parametrized contracts are told apart by their id."""
    info = ContractInfo.from_item(item)
    if info is None:
        return None
    data = info.to_json()
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.id:
        data["contract"] = f"{data['contract']}[{callspec.id}]"
    return data


def consumers_of(items: Iterable[pytest.Item]) -> set[str]:
    """Consumers named by the contracts among ``items``."""
    names: set[str] = set()
    for item in items:
        info = ContractInfo.from_item(item)
        if info is not None:
            names.update(info.consumers)
    return names


def declared_thresholds(items: Iterable[pytest.Item]) -> dict[str, Mapping[str, Threshold]]:
    """Contract name -> its declared thresholds, for every contract among ``items``."""
    declared: dict[str, Mapping[str, Threshold]] = {}
    for item in items:
        info = ContractInfo.from_item(item)
        if info is not None:
            declared.setdefault(info.name, info.thresholds)
    return declared


def apply_severities(items: Iterable[pytest.Item], policy: Policy) -> None:
    """Promote or demote the contracts the policy names: their marker is re-applied
    with the policy's severity, so every reader of the declaration sees it."""
    for item in items:
        mark = item.get_closest_marker(MARKER)
        info = ContractInfo.from_item(item)
        if mark is None or info is None or info.name not in policy.severities:
            continue
        kwargs = {**mark.kwargs, "severity": policy.severities[info.name]}
        item.add_marker(getattr(pytest.mark, MARKER)(*mark.args, **kwargs), append=False)
