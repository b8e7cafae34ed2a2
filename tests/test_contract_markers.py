"""@contract declares stage and phases as ordinary markers, with no registration needed."""

from __future__ import annotations

import pytest

CONTRACTS = """
from pytest_dataflight import contract

@contract(stage="postflight", phases=["weekly"], consumers=["reports"])
def test_weekly_file():
    pass

@contract(stage="preflight", phases=["weekly", "nightly"], consumers=["producer"])
def test_bucket():
    pass

def test_plain():
    pass
"""


@pytest.mark.parametrize(
    "expression, selected",
    [
        ("weekly", ["test_bucket", "test_weekly_file"]),
        ("nightly", ["test_bucket"]),
        ("postflight and weekly", ["test_weekly_file"]),
        ("not contract", ["test_plain"]),
    ],
)
def test_phases_select_under_strict_markers(
    pytester: pytest.Pytester, expression: str, selected: list[str]
) -> None:
    # Given contracts whose phases no ini registers, when selecting with -m under
    # --strict-markers and warnings as errors, then selection works and nothing warns.
    pytester.makepyfile(test_contracts=CONTRACTS)
    result = pytester.runpytest(
        "--strict-markers", "-W", "error", "-m", expression, "--collect-only", "-q"
    )
    assert result.ret == pytest.ExitCode.OK
    listed = sorted(line.rsplit("::", 1)[-1] for line in result.outlines if "::" in line)
    assert listed == selected
