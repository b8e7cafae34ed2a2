"""pytest-xdist: what the controller hands its workers, and what they hand back.

To the workers, xdist's own channel: ``node.workerinput`` carries the
resolved settings and the mock world's address. Back, a usage error found at
collection travels the same way (``config.workeroutput``, read in
``pytest_testnodedown``), as in xdist's ``test_data_exchange``.

What a worker collected (each contract's declaration, and the consumers of
those it deselected) cannot: ``workeroutput`` reaches the controller only
when the worker finishes, and an interrupted run (SIGTERM mid-run) must still
report every contract that never started, as ``not_run``, blocking its
consumers. So each worker writes its collection to a file in a directory the
controller chose, *before* it tells xdist that collection finished; the
controller reads it in ``pytest_xdist_node_collection_finished``, before
any test runs. ``tests/test_report_xdist.py`` shows the interrupted case.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..stores.clients import Endpoints
from .contract import consumers_of, contract_json
from .settings import Settings
from .state import RunState, get_state, usage_error

INPUT_KEY = "dataflight"
COLLECTED = "collected"
IDLE = "idle_consumers"
USAGE_ERROR = "dataflight_usage_error"
Intake = Callable[[dict[str, Any]], None]


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
    state.unservable = payload.get("unservable")


def adopt_policy(config: pytest.Config, state: RunState) -> None:
    """On a worker: the controller's policy, parsed from the very text it read."""
    from .policy import parse

    payload = getattr(config, "workerinput", {}).get(INPUT_KEY) or {}
    text = payload.get("policy_text")
    if text is not None and state.settings.policy:
        state.policy = parse(text.encode("utf-8"), state.settings.policy)
    state.policy_problem = payload.get("policy_problem")


def report_usage_error(config: pytest.Config, message: str) -> None:
    """On a worker: let the controller end the run with the same usage error."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[USAGE_ERROR] = message


class WorkerFacts:
    """On each worker: what was collected and deselected, for the controller's report."""

    def __init__(self, config: pytest.Config) -> None:
        payload = getattr(config, "workerinput", {}).get(INPUT_KEY) or {}
        directory = payload.get("facts_dir")
        worker = str(config.workerinput.get("workerid", "gw"))  # type: ignore[attr-defined]
        self.path = Path(directory) / f"{worker}.json" if directory else None
        self.idle: set[str] = set()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.idle |= consumers_of(items)

    # tryfirst: written before xdist's own hook tells the controller that
    # collection finished, which is when the controller reads it.
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.path is None:
            return
        facts = {
            COLLECTED: [[i.nodeid, i.location[1], contract_json(i)] for i in session.items],
            IDLE: sorted(self.idle),
        }
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(facts), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:  # a remote worker (--tx ssh): the report lists what ran, not what did not
            pass


class Controller:
    """On the controller: seeds once for all workers, and hears back from them."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake  # the reporter's
        self.facts_dir: str | None = None

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
        if self.facts_dir is None:
            self.facts_dir = tempfile.mkdtemp(prefix="dataflight-workers-")
        node.workerinput[INPUT_KEY] = {
            "settings": state.settings.to_json(),
            "start_error": state.start_error,
            "unservable": state.unservable,
            "policy_text": state.policy_text,
            "policy_problem": state.policy_problem,
            "endpoints": dataclasses.asdict(endpoints) if endpoints is not None else None,
            "facts_dir": self.facts_dir,
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        worker = str(node.workerinput.get("workerid", "gw"))
        path = Path(self.facts_dir or ".") / f"{worker}.json"
        try:
            facts = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            facts = {COLLECTED: [[nodeid, None, None] for nodeid in ids]}
        self.intake(facts)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        message = (getattr(node, "workeroutput", None) or {}).get(USAGE_ERROR)
        if message:
            raise usage_error(node.config, message)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.facts_dir is not None:
            shutil.rmtree(self.facts_dir, ignore_errors=True)
