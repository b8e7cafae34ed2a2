"""Value rules on the universe's recent rows (PIPELINE.md, "Precisely, for the universe_*
contracts"): pure functions of one symbol's frame, no pytest, no store.

A finding is one (symbol, session, column, value) that breaks a rule, with
the words a message shows for it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PRICE_COLUMNS = ["Open", "High", "Low", "Close", "Volume"]
PRICE_WINDOW_ROWS = 5  # each symbol's own last rows judged by universe_prices_sane
VOLUME_MEDIAN_ROWS = 20  # rows before the judged one whose median Volume is the baseline
WINDOW_ROWS = PRICE_WINDOW_ROWS + VOLUME_MEDIAN_ROWS  # one read shared by both contracts
GAP_WINDOW_SESSIONS = 20
WARM_UP_ROWS = 60  # features may be NaN only in a symbol with fewer rows than this
MAX_MOVE = 0.5  # close-to-close, either direction
MAX_VOLUME_MULTIPLE = 10.0
SHOWN = 20  # findings named in a message; evidence carries the rest (cut with a count)


@dataclass(frozen=True)
class Finding:
    symbol: str
    session: dt.date
    column: str
    value: float
    text: str  # "High 101.2 < Low 103.0"

    def __str__(self) -> str:
        return f"{self.symbol} {self.session} {self.text}"


def num(value: Any) -> str:
    """A value as a message shows it: 101.2, 3e+07, nan, inf."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 symbol', '40 symbols'."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def listing(findings: Sequence[Any], limit: int = SHOWN, sep: str = "; ") -> str:
    """'A; B; …; and N more' for messages."""
    shown = sep.join(str(f) for f in findings[:limit])
    return shown + (f"{sep}and {len(findings) - limit} more" if len(findings) > limit else "")


def feature_columns(frame: Any) -> list[str]:
    """Numeric columns other than Open High Low Close Volume (VWAP included)."""
    # int, unsigned, float (not bool, text, dates): the kinds a NaN/inf rule applies to.
    return [str(c) for c, t in frame.dtypes.items() if t.kind in "iuf" and c not in PRICE_COLUMNS]


def unusable_price_columns(frame: Any) -> list[str]:
    """Why Open High Low Close Volume cannot be judged: absent or not numbers."""
    out = []
    for column in PRICE_COLUMNS:
        if column not in frame.columns:
            out.append(f"no column {column}")
        elif frame[column].dtype.kind not in "iuf":
            out.append(f"{column} holds {frame[column].dtype}, not numbers")
    return out


def _rows(frame: Any, rows: int) -> Iterable[tuple[dt.date, Any]]:
    for stamp, row in frame.iloc[-rows:].iterrows():
        yield stamp.date(), row


def _bar_rules(symbol: str, day: dt.date, row: Any) -> list[Finding]:
    out: list[Finding] = []
    o, h, low, c, v = (float(row[k]) for k in PRICE_COLUMNS)

    def add(column: str, value: float, text: str) -> None:
        out.append(Finding(symbol, day, column, value, text))

    for column, value in zip(PRICE_COLUMNS, (o, h, low, c, v), strict=True):
        if not math.isfinite(value):
            add(column, value, f"{column} {num(value)}")
    if h < low:
        add("High", h, f"High {num(h)} < Low {num(low)}")
    for column, value in (("Open", o), ("Close", c)):
        if math.isfinite(value) and h >= low and not low <= value <= h:
            add(column, value, f"{column} {num(value)} outside [Low {num(low)}, High {num(h)}]")
    if c <= 0:
        add("Close", c, f"Close {num(c)} <= 0")
    if v < 0:
        add("Volume", v, f"Volume {num(v)} < 0")
    return out


def _bars_look_sane(prices: Any) -> bool:
    """Fast path: True when no row of (Open High Low Close Volume) breaks a hard rule."""
    import numpy as np

    o, h, low, c, v = prices.T
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(prices).all()
            and (h >= low).all()
            and ((low <= o) & (o <= h) & (low <= c) & (c <= h)).all()
            and (c > 0).all()
            and (v >= 0).all()
        )


def hard_findings(symbol: str, frame: Any, *, warm_up: bool) -> list[Finding]:
    """Rules whose breach fails: the bar, positive close, volume, NaN/inf.

    ``warm_up``: the symbol has fewer than WARM_UP_ROWS rows in total, so NaN
    in its feature columns is indicator warm-up, not a fault (±inf still is).
    """
    import numpy as np

    tail = frame.iloc[-PRICE_WINDOW_ROWS:]
    features = feature_columns(frame)
    values = tail[features].to_numpy(dtype="float64")
    features_ok = not np.isinf(values).any() and (warm_up or not np.isnan(values).any())
    if features_ok and _bars_look_sane(tail[PRICE_COLUMNS].to_numpy(dtype="float64")):
        return []
    out: list[Finding] = []
    for day, row in _rows(frame, PRICE_WINDOW_ROWS):
        out += _bar_rules(symbol, day, row)
        for column in features:
            value = float(row[column])
            if math.isinf(value) or (math.isnan(value) and not warm_up):
                out.append(Finding(symbol, day, column, value, f"{column} {num(value)}"))
    return out


def nan_features_in_window(frame: Any) -> bool:
    """True when a feature column holds NaN in the judged rows (warm-up decides)."""
    import numpy as np

    features = feature_columns(frame)
    values = frame.iloc[-PRICE_WINDOW_ROWS:][features].to_numpy(dtype="float64")
    return bool(features) and bool(np.isnan(values).any())


def soft_findings(symbol: str, frame: Any) -> list[Finding]:
    """Rules whose breach only warns: a big move, no volume, a volume spike."""
    import numpy as np

    close = frame["Close"].to_numpy(dtype="float64")
    volume = frame["Volume"].to_numpy(dtype="float64")
    out: list[Finding] = []
    for i in range(max(len(frame) - PRICE_WINDOW_ROWS, 0), len(frame)):
        day = frame.index[i].date()
        if i > 0 and close[i - 1] > 0:
            before, now = float(close[i - 1]), float(close[i])
            move = now / before - 1
            if math.isfinite(move) and abs(move) > MAX_MOVE:
                text = f"Close {move:+.1%} from {num(before)} to {num(now)}"
                out.append(Finding(symbol, day, "Close", now, text))
        v = float(volume[i])
        if v == 0:
            out.append(Finding(symbol, day, "Volume", v, "Volume 0"))
        earlier = volume[max(i - VOLUME_MEDIAN_ROWS, 0) : i]
        baseline = float(np.median(earlier)) if len(earlier) else math.nan
        if math.isfinite(baseline) and v > MAX_VOLUME_MULTIPLE * baseline:
            text = f"Volume {num(v)} > {MAX_VOLUME_MULTIPLE:g}x median {num(baseline)}"
            out.append(Finding(symbol, day, "Volume", v, text))
    return out


@dataclass(frozen=True)
class Gap:
    symbol: str
    sessions: list[dt.date]

    def __str__(self) -> str:
        return f"{self.symbol} {', '.join(str(d) for d in self.sessions)}"


def missing_sessions(
    frame: Any,
    last_session_on_or_before: Callable[[dt.date], dt.date],
    previous_sessions: Callable[[dt.date, int], list[dt.date]],
) -> list[dt.date]:
    """NYSE sessions absent from ``frame`` among the GAP_WINDOW_SESSIONS ending at the session
    of its last row; a symbol whose rows start later is checked from its first row."""
    dates = {stamp.date() for stamp in frame.index}
    last = last_session_on_or_before(max(dates))
    first = min(dates)
    expected = [d for d in previous_sessions(last, GAP_WINDOW_SESSIONS) if d >= first]
    return [d for d in expected if d not in dates]
