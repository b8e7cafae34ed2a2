"""The last N rows of many ArcticDB symbols, read once per run; no pytest import.

One ``Library.read_batch`` of ``ReadRequest(symbol, row_range=(-n, None))``
requests: ArcticDB resolves each symbol's own last ``n`` rows from its index
key and fetches only the data segments that overlap them, on its IO threads.
Measured on moto (vref, index and data-segment GETs counted per symbol, 25
rows of 2,500): stored as 25 row-slices, 3 GETs against 27 for a full read;
grown by 100 daily appends (a slice each), 27 against 103; written at once
(one slice), 3 either way, because a segment is fetched whole.
``get_description_batch`` followed by a ``date_range`` read costs one index
read more per symbol and cannot say how many rows a date range holds;
``lib.tail`` is the same read, one symbol at a time.

Each symbol ends with a status, so a contract can tell bad data from a store
that failed: ``ok``, ``empty`` (no rows), ``missing`` (no such symbol),
``unreadable`` (its data cannot be read or decoded, or is not indexed by
date: the data's fault) and ``store_error`` (the store did not answer, or
answered 5xx or throttled: nobody's verdict on the data).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .clients import LibraryMissing, StoreUnreachable, is_store_failure

if TYPE_CHECKING:  # pragma: no cover - pandas loads lazily, at the first read
    import pandas as pd

Status = Literal["ok", "empty", "missing", "unreadable", "store_error"]
STATUSES: tuple[Status, ...] = ("ok", "empty", "missing", "unreadable", "store_error")

# Symbols per read_batch call. ArcticDB holds every fetched segment of a call
# in memory at once: 1,000 symbols of 2,500 rows x 50 columns peaked at 884 MB
# in one call and at 233 MB in calls of 100, in the same wall time.
BATCH = 200
REASON_CHARS = 240

_MISSING = re.compile(r"E_NO_SUCH_VERSION|E_SYMBOL_NOT_FOUND")
# "arcticdb::ArcticSpecificException<(arcticdb::ErrorCode)5021>: " and C++ namespaces
# say nothing to the reader of a report.
_NATIVE_NOISE = re.compile(r"^(?:\w+::)+|^ArcticSpecificException<[^>]*>:\s*")


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    """The first line of ``text`` without C++ decoration, cut to ``limit`` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    for _ in range(2):
        line = _NATIVE_NOISE.sub("", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def classify_error(text: str) -> Status:
    """The status of a symbol whose read ended in error ``text``; whether the store
    failed is decided by the one classifier, :func:`clients.is_store_failure`."""
    if is_store_failure(text):
        return "store_error"
    if _MISSING.search(text):
        return "missing"
    return "unreadable"


@dataclass(frozen=True)
class SymbolWindow:
    """One symbol's last rows, or why there are none.

    ``frame`` is a DataFrame indexed by naive dates (midnight) for ``ok`` and
    ``empty``, None otherwise; ``reason`` is one line for anything but ``ok``.
    """

    symbol: str
    status: Status
    frame: pd.DataFrame | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __repr__(self) -> str:
        rows = "no frame" if self.frame is None else f"{len(self.frame)} rows"
        reason = f", reason={self.reason!r}" if self.reason else ""
        return f"SymbolWindow({self.symbol!r}, {self.status!r}, {rows}{reason})"

    def last(self, rows: int) -> SymbolWindow:
        """This window cut to its last ``rows`` rows, on a copy a caller may change."""
        if self.frame is None:
            return self
        return SymbolWindow(self.symbol, self.status, self.frame.iloc[-rows:].copy(), self.reason)


@dataclass(frozen=True)
class Window:
    """The last ``rows`` rows of each requested symbol of ``library``, in request order."""

    library: str
    rows: int
    symbols: Mapping[str, SymbolWindow]

    def __getitem__(self, symbol: str) -> SymbolWindow:
        return self.symbols[symbol]

    def __iter__(self) -> Iterator[SymbolWindow]:
        return iter(self.symbols.values())

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.symbols

    def __repr__(self) -> str:
        # Short on purpose: pytest shows the arguments of each traceback frame, and the
        # dataclass repr, every frame in full, took 17 s for 900 symbols (then cut to 240).
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return (
            f"Window({self.library!r}, rows={self.rows}, {len(self)} symbols: {counts or 'none'})"
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        """symbol -> frame, for the symbols whose status is ``ok``."""
        return {s: w.frame for s, w in self.symbols.items() if w.ok and w.frame is not None}

    def with_status(self, *statuses: Status) -> dict[str, str]:
        """symbol -> reason, for the symbols in any of ``statuses``."""
        return {s: w.reason for s, w in self.symbols.items() if w.status in statuses}

    def counts(self) -> dict[str, int]:
        """status -> number of symbols, every status present (for evidence)."""
        found = Counter(w.status for w in self.symbols.values())
        return {status: found[status] for status in STATUSES}

    def raise_for_store_errors(self) -> None:
        """Raise :class:`StoreUnreachable` if any symbol could not be read because the
        store failed: the contract cannot be evaluated, whatever the others show."""
        failed = self.with_status("store_error")
        if not failed:
            return
        symbol, reason = next(iter(failed.items()))
        raise StoreUnreachable(
            f"{len(failed)} of {len(self)} symbols of ArcticDB library {self.library!r} "
            f"could not be read because the store failed; {symbol}: {reason}"
        )


# --- reading ---------------------------------------------------------------------------


def _dated(data: Any) -> tuple[Any, str]:
    """(frame indexed by naive midnight dates, "") or (None, why the index is not dates)."""
    import pandas as pd

    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):
        return None, f"holds {type(data).__name__}, not a DataFrame"
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        return None, f"is indexed by {type(index).__name__} ({index.dtype}), not by dates"
    if index.tz is not None:
        # A writer's zone is its label's zone: keep the wall-clock date it wrote
        # (a UTC or New York midnight is that session's date either way).
        index = index.tz_localize(None)
    frame = frame.copy(deep=False)
    frame.index = index.normalize()
    return frame, ""


def _from_result(symbol: str, result: Any) -> SymbolWindow:
    """One ``read_batch`` result (a VersionedItem or a DataError) as a SymbolWindow."""
    if not hasattr(result, "data"):
        text = str(getattr(result, "exception_string", None) or result)
        status = classify_error(text)
        reason = "no such symbol" if status == "missing" else one_line(text)
        return SymbolWindow(symbol, status, reason=reason)
    frame, problem = _dated(result.data)
    if frame is None:
        return SymbolWindow(symbol, "unreadable", reason=problem)
    if frame.empty:
        return SymbolWindow(symbol, "empty", frame, reason="has no rows")
    return SymbolWindow(symbol, "ok", frame)


def _failed(symbols: Iterable[str], exc: BaseException) -> list[SymbolWindow]:
    status: Status = "store_error" if is_store_failure(exc) else "unreadable"
    reason = one_line(f"{type(exc).__name__}: {exc}")
    return [SymbolWindow(s, status, reason=reason) for s in symbols]


def _read_chunk(library: Any, symbols: Sequence[str], rows: int) -> list[SymbolWindow]:
    from arcticdb import ReadRequest

    requests = [ReadRequest(s, row_range=(-rows, None)) for s in symbols]
    try:
        results = library.read_batch(requests)
    except Exception as exc:
        if is_store_failure(exc) or len(symbols) == 1:
            return _failed(symbols, exc)
        # One symbol ArcticDB refuses outright must not take the others down
        # with it: read them one by one (costs latency only when this happens).
        return [w for s in symbols for w in _read_chunk(library, [s], rows)]
    return [_from_result(s, r) for s, r in zip(symbols, results, strict=True)]


def _unusable_name(symbol: Any) -> str | None:
    if not isinstance(symbol, str) or not symbol:
        return f"symbol {symbol!r} is not a non-empty string"
    try:
        symbol.encode("utf-8")
    except UnicodeEncodeError:
        return "symbol name is not valid UTF-8"
    return None


def read_windows(
    library: Any, symbols: Iterable[str], rows: int, *, name: str = "", batch: int = BATCH
) -> Window:
    """Each symbol's own last ``rows`` rows from ArcticDB ``library``, batched.

    Never raises for one symbol's sake: each ends with a status and a one-line
    reason. ``name`` labels the library in messages (default: its own name).
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    wanted = list(dict.fromkeys(symbols))
    found: dict[str, SymbolWindow] = {}
    readable: list[str] = []
    for symbol in wanted:
        problem = _unusable_name(symbol)
        if problem:
            found[symbol] = SymbolWindow(symbol, "unreadable", reason=problem)
        else:
            readable.append(symbol)
    for start in range(0, len(readable), batch):
        for window in _read_chunk(library, readable[start : start + batch], rows):
            found[window.symbol] = window
    label = name or str(getattr(library, "name", "") or "?")
    return Window(label, rows, {s: found[s] for s in wanted})


# --- once per run ----------------------------------------------------------------------


@dataclass
class _Read:
    rows: int  # how many rows were asked for when this was read
    window: SymbolWindow

    def covers(self, rows: int) -> bool:
        # Fewer rows than asked for means the symbol has no more: any longer
        # request gets the same rows. Statuses other than ok do not depend on rows.
        frame = self.window.frame
        return (
            self.rows >= rows
            or not self.window.ok
            or (frame is not None and len(frame) < self.rows)
        )


@dataclass
class WindowCache:
    """Window reads shared by every contract of a run (one process).

    A request is served from earlier reads when they cover it: the same
    symbols and rows, a subset of the symbols, or fewer rows. Only the symbols
    not covered are read, in one batched read. A library that cannot be opened
    raises, for every later request too, without asking the store again.
    """

    open_arctic: Callable[[], Any]
    # Called before each read that goes to the store: the run's circuit breaker,
    # so a store known to be down errors at once instead of being asked again.
    before_read: Callable[[], Any] | None = None
    batch: int = BATCH
    reads: int = 0  # batched reads made (read_windows calls)
    symbols_read: int = 0
    _libraries: dict[str, Any] = field(default_factory=dict)
    _failures: dict[str, BaseException] = field(default_factory=dict)
    _done: dict[str, dict[str, _Read]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, library: str, symbols: Iterable[str], rows: int = 25) -> Window:
        return self.get(library, symbols, rows)

    def __repr__(self) -> str:
        # A contract that warns or errors shows its fixtures in the traceback: the
        # dataclass repr printed every frame read so far (17 s for 900 symbols).
        held = {library: len(done) for library, done in self._done.items()}
        return f"WindowCache(reads={self.reads}, symbols_read={self.symbols_read}, held={held})"

    def get(self, library: str, symbols: Iterable[str], rows: int = 25) -> Window:
        """The last ``rows`` rows of each of ``symbols`` in ArcticDB library ``library``;
        frames are copies the caller may change."""
        wanted = list(dict.fromkeys(symbols))
        with self._lock:
            done = self._done.setdefault(library, {})
            todo = [s for s in wanted if s not in done or not done[s].covers(rows)]
            if todo:
                if self.before_read is not None:
                    self.before_read()
                fresh = read_windows(
                    self._library(library), todo, rows, name=library, batch=self.batch
                )
                self.reads += 1
                self.symbols_read += len(todo)
                done.update({w.symbol: _Read(rows, w) for w in fresh})
            return Window(library, rows, {s: done[s].window.last(rows) for s in wanted})

    def _library(self, name: str) -> Any:
        if name in self._failures:
            raise self._failures[name]
        if name not in self._libraries:
            try:
                self._libraries[name] = _open_library(self.open_arctic(), name)
            except (LookupError, StoreUnreachable) as exc:
                self._failures[name] = exc
                raise
        return self._libraries[name]


def _open_library(arctic: Any, name: str) -> Any:
    try:
        if not arctic.has_library(name):
            raise LibraryMissing(name)
        return arctic.get_library(name)
    except LookupError:
        raise
    except Exception as exc:
        if is_store_failure(exc):
            raise StoreUnreachable(
                f"ArcticDB library {name!r} could not be opened because the store failed: "
                f"{one_line(f'{type(exc).__name__}: {exc}')}"
            ) from None
        raise
