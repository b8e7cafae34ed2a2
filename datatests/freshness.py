"""Last index dates of many ArcticDB symbols, without reading their data.

``get_description_batch`` reads each symbol's version reference and index
key (two requests per symbol, issued concurrently on ArcticDB's IO threads)
and returns the index's date range and the total row count; no data segment is
fetched. ``universe_fresh`` reads last dates this way (the benchmark compares
it with per-symbol ``read(columns=["Close"])``), and ``universe_prices_sane``
reads the row counts that decide warm-up.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from typing import Any

from pytest_dataflight import StoreUnreachable, is_store_failure

from .layout import MACRO_LIBRARY, NOT_STOCKS, REFERENCE_SYMBOL

# Bounded batches keep one request's memory and failure radius small.
BATCH = 500


def _as_date(value: Any) -> dt.date | None:
    import pandas as pd

    if value is None:
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    if ts.tzinfo is not None:
        # Some writers index daily rows at midnight UTC; the label is the session date.
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()


def _descriptions(library: Any, symbols: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(symbol, its description or the per-symbol error) in bounded batches; raises
    StoreUnreachable for a symbol the store failed to serve."""
    for start in range(0, len(symbols), BATCH):
        chunk = list(symbols[start : start + BATCH])
        for symbol, desc in zip(chunk, library.get_description_batch(chunk), strict=True):
            if getattr(desc, "date_range", None) is None:
                _raise_if_store_failed(library, symbol, desc, len(chunk))
            yield symbol, desc


def last_index_dates(library: Any, symbols: Sequence[str]) -> dict[str, dt.date | None | str]:
    """symbol -> date of its last row; None when it has no rows; a text saying why otherwise."""
    out: dict[str, dt.date | None | str] = {}
    for symbol, desc in _descriptions(library, symbols):
        date_range = getattr(desc, "date_range", None)
        if date_range is None:
            out[symbol] = f"unreadable: {str(desc).splitlines()[0][:200]}"
            continue
        last = _as_date(date_range[1])
        rows = getattr(desc, "row_count", 0) or 0
        # No last date but rows: the frame is not indexed by date at all.
        out[symbol] = f"{rows} rows without a date index" if last is None and rows else last
    return out


def row_counts(library: Any, symbols: Sequence[str]) -> dict[str, int | None]:
    """symbol -> its total number of rows, from the version's index (no data segment is
    read); None when its description cannot be read (the window read names why)."""
    out: dict[str, int | None] = {}
    for symbol, desc in _descriptions(library, symbols):
        rows = getattr(desc, "row_count", None)
        readable = getattr(desc, "date_range", None) is not None
        out[symbol] = int(rows) if readable and rows is not None else None
    return out


def _raise_if_store_failed(library: Any, symbol: str, error: Any, asked: int) -> None:
    """A batch hands back the store's failures (no answer, 5xx, throttling) per symbol
    instead of raising: such a symbol is not stale, the contract cannot be evaluated."""
    if is_store_failure(str(error)):
        why = str(getattr(error, "exception_string", None) or error).splitlines()[0][:200]
        raise StoreUnreachable(
            f"{symbol} (of {asked} symbols read from ArcticDB library "
            f"{getattr(library, 'name', '?')!r}) could not be read because the store failed: {why}"
        )


def last_close_date(library: Any, symbol: str) -> dt.date | None:
    """The old method, for comparison: read the Close column, take its last index value."""
    frame = library.read(symbol, columns=["Close"]).data
    return _as_date(frame.index[-1]) if len(frame.index) else None


def sample(symbols: Sequence[str], size: int, seed: str) -> list[str]:
    """A deterministic sample (same run date, same sample) for very large universes."""
    if size >= len(symbols):
        return sorted(symbols)
    return sorted(random.Random(seed).sample(sorted(symbols), size))


def spy_last_row(arctic: Any) -> tuple[dt.date | None, str | None]:
    """(last row date of macro.SPY, None) or (None, why it could not be read)."""
    if not arctic.has_library(MACRO_LIBRARY):
        return None, f"ArcticDB library {MACRO_LIBRARY!r} does not exist"
    last = last_index_dates(arctic.get_library(MACRO_LIBRARY), [REFERENCE_SYMBOL])[REFERENCE_SYMBOL]
    if isinstance(last, str):
        return None, f"{MACRO_LIBRARY}.{REFERENCE_SYMBOL} is {last}"
    if last is None:
        return None, f"{MACRO_LIBRARY}.{REFERENCE_SYMBOL} has no rows"
    return last, None


def universe_stocks(library: Any) -> list[str]:
    """Every symbol of the universe library except the macro symbols and sector ETFs."""
    return sorted(s for s in library.list_symbols() if s not in NOT_STOCKS)
