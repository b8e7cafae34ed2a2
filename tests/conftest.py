"""Fixtures shared by the self-tests; plain helpers stay in the ``*_helpers`` modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_helpers import scrub_environment


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DATAFLIGHT_*, *_API_URL, AWS or PYTEST_ADDOPTS setting from outside; no metadata."""
    scrub_environment(monkeypatch, tmp_path)
