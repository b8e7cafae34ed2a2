"""Soft thresholds: one contract that can end ``warned`` or ``failed`` (dbt's warn_if / error_if).

A contract calls :func:`warn` (or :func:`soft_threshold`) from inside the test.
Its verdict is then ``warned``: reported with its message and evidence, shown
in the terminal table and the headline, but the exit code is unaffected and
its consumers are not blocked. ``verdicts.decide`` turns the exception raised
here into that verdict on whichever process ran the test.
"""

from __future__ import annotations

from typing import NoReturn

import pytest


class ContractWarned(Exception):
    """Raised by :func:`warn`; never seen by the user as a failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def warn(message: str) -> NoReturn:
    """End this contract as ``warned`` with ``message`` (observed vs expected).

    Evidence recorded before the call is kept. The exit code, ``-x`` and
    ``--maxfail`` ignore it, and no consumer is blocked.
    """
    raise ContractWarned(message)


def soft_threshold(
    observed: float,
    *,
    warn_above: float | None = None,
    fail_above: float | None = None,
    message: str,
) -> None:
    """Fail when ``observed`` is above ``fail_above``; warn when it is above only
    ``warn_above``; return when neither. "Above" is strict.

    ``message`` states what was measured (``"churn 7.1% against 2026-04-11"``);
    the limit crossed is added to it.
    """
    if warn_above is not None and fail_above is not None and warn_above > fail_above:
        raise ValueError(f"warn_above {warn_above} is above fail_above {fail_above}")
    if fail_above is not None and observed > fail_above:
        pytest.fail(f"{message}: above the hard limit {fail_above:g}", pytrace=False)
    if warn_above is not None and observed > warn_above:
        hard = f", within the hard limit {fail_above:g}" if fail_above is not None else ""
        warn(f"{message}: above the soft limit {warn_above:g}{hard}")
