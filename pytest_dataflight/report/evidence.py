"""JSON facts a contract records for the report; no pytest import."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from .size import cut_items, cut_text

# Lists longer than this are cut, with the count of what was left out (the
# report's own truncation rule, report.size.cut_items / cut_text).
MAX_LIST_ITEMS = 50
MAX_STR_CHARS = 2000


def to_jsonable(value: Any, limit: int = MAX_LIST_ITEMS) -> Any:
    """Plain JSON values from pandas, numpy, dates, sets and friends."""
    if value is None or isinstance(value, bool | int | str):
        return cut_text(value, MAX_STR_CHARS) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        # Convert only what is kept: 10,000 stale tickers cost 50 conversions.
        kept = [to_jsonable(v, limit) for v in items[:limit]]
        return cut_items(kept + items[limit:], limit)
    # numpy / pandas without importing them: scalars have .item(), timestamps .isoformat().
    if hasattr(value, "isoformat") and callable(value.isoformat):
        try:
            return str(value.isoformat())
        except Exception:
            pass
    if hasattr(value, "tolist") and callable(value.tolist):
        return to_jsonable(value.tolist(), limit)
    if hasattr(value, "item") and callable(value.item):
        try:
            return to_jsonable(value.item(), limit)
        except Exception:
            pass
    return str(value)


class Evidence(dict[str, Any]):
    """A dict whose values are made JSON-ready as they are set."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(str(key), to_jsonable(value))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def to_json(self) -> dict[str, Any]:
        return dict(self)
