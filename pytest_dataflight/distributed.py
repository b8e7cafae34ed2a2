"""pytest-xdist: what the controller hands its workers, and what they hand back.

Both directions use xdist's own channel (its ``test_data_exchange``
acceptance test): ``node.workerinput`` carries the resolved settings and the
mock world's address to each worker; each worker fills
``config.workeroutput`` with what only it knows (the contracts it collected,
the consumers of those it deselected, a usage error found at collection) and
the controller reads ``node.workeroutput`` in ``pytest_testnodedown``.

A run interrupted before its workers finish sends no workeroutput. For that
case the controller also keeps the node ids that xdist reports at collection
(``pytest_xdist_node_collection_finished``), so the report still lists every
contract that did not run, by node id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from .clients import Endpoints
from .settings import Settings
from .state import RunState, get_state, usage_error
from .verdicts import consumers_of, contract_json

INPUT_KEY = "dataflight"
COLLECTED = "dataflight_collected"
IDLE = "dataflight_idle_consumers"
USAGE_ERROR = "dataflight_usage_error"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def worker_settings(config: pytest.Config) -> Settings | None:
    """The controller's settings, on a worker (never resolved twice)."""
    payload = getattr(config, "workerinput", {}).get(INPUT_KEY)
    return Settings.from_json(payload["settings"]) if payload else None


def adopt_target(config: pytest.Config, state: RunState) -> None:
    """On a worker: use the target the controller started (or its failure)."""
    payload = getattr(config, "workerinput", {}).get(INPUT_KEY) or {}
    endpoints = payload.get("endpoints")
    state.endpoints = Endpoints(**endpoints) if endpoints else None
    state.start_error = payload.get("start_error")


def report_usage_error(config: pytest.Config, message: str) -> None:
    """On a worker: let the controller end the run with the same usage error."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[USAGE_ERROR] = message


class WorkerFacts:
    """On each worker: what was collected and deselected, for the controller's report."""

    def __init__(self, config: pytest.Config) -> None:
        self.output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
        self.output[IDLE] = []

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.output[IDLE] = sorted(set(self.output[IDLE]) | consumers_of(items))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Contracts that never run still belong in the report.
        self.output[COLLECTED] = [
            [item.nodeid, item.location[1], contract_json(item)] for item in session.items
        ]


class Controller:
    """On the controller: seeds once for all workers, and hears back from them."""

    def __init__(self, on_worker_facts: Any) -> None:
        # The reporter's intake; None when no report is written.
        self.on_worker_facts = on_worker_facts

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        state: RunState = get_state(node.config)
        endpoints = None
        if state.start_endpoints is not None and state.start_error is None:
            try:
                endpoints = state.get_endpoints()
            except Exception:
                # As in a serial run, each check that needs the target errors with
                # the reason (a broken seed, say), instead of an INTERNALERROR here.
                pass
        node.workerinput[INPUT_KEY] = {
            "settings": state.settings.to_json(),
            "start_error": state.start_error,
            "endpoints": dataclasses.asdict(endpoints) if endpoints is not None else None,
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.on_worker_facts is not None:
            self.on_worker_facts({COLLECTED: [[nodeid, None, None] for nodeid in ids]}, early=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", None) or {}
        if self.on_worker_facts is not None:
            self.on_worker_facts(output, early=False)
        message = output.get(USAGE_ERROR)
        if message:
            raise usage_error(node.config, message)
