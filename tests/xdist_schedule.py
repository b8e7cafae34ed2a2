"""How ``pytest -n 2`` spreads the self-tests over its workers: each shared world built
once, the longest work first.

xdist's default (``--dist load``) hands tests out in collection order and in
chunks, so every worker that gets one test of a module builds that module's
module-scoped fixture. The black-box worlds of ``test_store_failures.py`` and
``test_datatests_live.py`` (850 ArcticDB symbols written to a moto_server,
25 to 30 s each) were built by both workers. Here each of those modules is one
unit of work, run by one worker (as ``--dist loadscope`` does for every module);
every other test is a unit of its own (as ``--dist load``); and a worker that
asks for work gets the unit expected to take longest, so the run ends on short
tests that both workers share, not on one long module while the other worker
idles.

The estimates (``SECONDS_PER_TEST``) only order the units: a stale one costs
some balance, never a test. Another ``--dist`` given on the command line wins.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

# Modules whose tests share one module-scoped world: each is one unit of work.
SHARED_WORLDS = ("tests/test_store_failures.py", "tests/test_datatests_live.py")

# Typical seconds per test (measured on 2 cores, 2026-11), by module. Each test of
# these runs the datatests suite on a seeded world at least once.
SECONDS_PER_TEST = {
    "tests/test_store_failures.py": 12.0,
    "tests/test_datatests_live.py": 8.0,
    "tests/test_datatests_faults.py": 8.0,
    "tests/test_datatests_boundaries.py": 8.0,
    "tests/test_datatests_selection.py": 3.0,
    "tests/test_unreadable_bodies.py": 4.0,
    "tests/test_report_golden.py": 6.0,
    "tests/test_report_properties.py": 6.0,
    "tests/test_artifact_properties.py": 4.0,
    "tests/test_workflow.py": 4.0,
    "tests/test_step_functions.py": 3.0,
}
DEFAULT_SECONDS = 1.0


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def estimate(nodeids: list[str] | dict[str, bool]) -> float:
    """Expected seconds for a unit of work: its tests, by their modules' typical cost."""
    return sum(SECONDS_PER_TEST.get(module_of(n), DEFAULT_SECONDS) for n in nodeids)


class SharedWorldScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """One unit per shared-world module, one per other test; the longest unit first."""

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        return module if module in SHARED_WORLDS else nodeid

    def _assign_work_unit(self, node: Any) -> None:
        # The base class hands out the first unit of its queue: make that the longest.
        longest = max(self.workqueue, key=lambda scope: estimate(self.workqueue[scope]))
        self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)
