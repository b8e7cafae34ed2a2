"""Masking of secret values and of API keys inside URLs; no pytest import.

Secrets reach text in many ways (assertion introspection, tracebacks, ``-l``
locals, log records, exception messages such as requests' "Max retries
exceeded with url: ...?apikey=..."). Everything that leaves the process
goes through :meth:`Masker.mask` first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MASK = "***"
# Secrets shorter than this are not masked by value: masking "1" would shred
# every number in a report. Such values are not secrets anyway.
MIN_SECRET_LEN = 4

# Query parameters that carry credentials in the APIs we probe and in AWS presigned URLs.
_URL_KEY = re.compile(
    r"(?i)([?&;](?:api_?key|apikey|key|token|access_token|secret|password|"
    r"x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s'\"<>]+"
)


class Masker:
    """Knows every secret value of the run and replaces it wherever it appears."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LEN:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def mask(self, text: str) -> str:
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _URL_KEY.sub(lambda m: m.group(1) + MASK, text)


def mask_url(url: str) -> str:
    """A URL fit for a message: credentials in its query string replaced."""
    return _URL_KEY.sub(lambda m: m.group(1) + MASK, url)


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """``value`` with ``fn`` applied to every string in it, mapping keys included.

    The one walk over JSON-like data in the package: the report and pytest's
    serialised test reports are masked through it. Tuples stay tuples (pytest's
    ``user_properties`` are pairs).
    """
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {fn(str(k)): map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(map_strings(v, fn) for v in value)
    return value
