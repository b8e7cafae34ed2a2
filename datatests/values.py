"""Value rules on the universe's recent rows (PIPELINE.md, "Precisely, for the universe_*
contracts"): pure functions of one symbol's frame, no pytest, no store.

A finding is one (symbol, session, column, value) that breaks a rule, with
the words a message shows for it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRICE_COLUMNS = ["Open", "High", "Low", "Close", "Volume"]
# Not features: the bar, and VWAP, which the producer leaves NaN on every row its
# fallback source served (it writes only a true volume-weighted VWAP).
NOT_FEATURES = frozenset([*PRICE_COLUMNS, "VWAP"])
PRICE_WINDOW_ROWS = 5  # each symbol's own last rows judged by universe_prices_sane
VOLUME_MEDIAN_ROWS = 20  # rows before the judged one whose median Volume is the baseline
WINDOW_ROWS = PRICE_WINDOW_ROWS + VOLUME_MEDIAN_ROWS  # one read shared by both contracts
# The defaults of the named thresholds the universe_* contracts declare (PIPELINE.md,
# "Named thresholds"): the rules below take the values in force as parameters.
GAP_WINDOW_SESSIONS = 20  # universe_session_gaps' window_sessions
# The producer's longest feature window is 252 rows (52-week high/low): a symbol with
# fewer rows than this in total has NaN features by design, anywhere.
WARM_UP_ROWS = 265  # universe_prices_sane's warm_up_rows
MAX_MOVE = 0.5  # universe_prices_sane's max_move: close-to-close, either direction
VOLUME_SPIKE_FACTOR = 10.0  # universe_prices_sane's volume_spike_factor
# A feature NaN on the last row of every stock past warm-up fails only when at least this
# many such stocks have it: fewer say too little about "everyone".
MIN_STOCKS_FOR_ALL_NAN = 20
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


def numeric_columns(frame: Any) -> list[str]:
    """Columns of int, unsigned or float numbers: the kinds a NaN/inf rule applies to
    (not bool, text or dates, which no rule judges)."""
    return [str(c) for c, t in frame.dtypes.items() if t.kind in "iuf"]


def feature_columns(frame: Any) -> list[str]:
    """Numeric columns other than Open High Low Close Volume VWAP."""
    return [c for c in numeric_columns(frame) if c not in NOT_FEATURES]


def unusable_price_columns(frame: Any) -> list[str]:
    """Why Open High Low Close Volume cannot be judged: absent or not numbers."""
    out = []
    for column in PRICE_COLUMNS:
        if column not in frame.columns:
            out.append(f"no column {column}")
        elif frame[column].dtype.kind not in "iuf":
            out.append(f"{column} holds {frame[column].dtype}, not numbers")
    return out


@dataclass(frozen=True)
class Rows:
    """One symbol's window as numbers, converted once: every rule reads these arrays
    (pandas indexing per rule and per symbol was most of the contract's time)."""

    symbol: str
    sessions: list[dt.date]
    columns: list[str]  # numeric columns; Open High Low Close Volume first
    values: Any  # float64 array, rows x columns

    @classmethod
    def of(cls, symbol: str, frame: Any) -> Rows:
        """``frame`` must hold Open High Low Close Volume as numbers (unusable_price_columns)."""
        others = [c for c in numeric_columns(frame) if c not in PRICE_COLUMNS]
        columns = PRICE_COLUMNS + others
        values = frame[columns].to_numpy(dtype="float64")
        return cls(symbol, list(frame.index.date), columns, values)

    @property
    def features(self) -> list[int]:
        """Positions of the feature columns."""
        return [i for i, c in enumerate(self.columns) if c not in NOT_FEATURES]

    def judged(self) -> Any:
        """The last PRICE_WINDOW_ROWS rows."""
        return self.values[-PRICE_WINDOW_ROWS:]


def _bar_rules(symbol: str, day: dt.date, bar: Sequence[float]) -> list[Finding]:
    out: list[Finding] = []
    o, h, low, c, v = (float(x) for x in bar)

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


def hard_findings(rows: Rows) -> list[Finding]:
    """Rules whose breach fails, on the last PRICE_WINDOW_ROWS rows: the bar, a positive
    close, volume, NaN in Open High Low Close Volume, ±inf in any numeric column.

    NaN elsewhere is never a finding here: VWAP is NaN wherever the fallback
    source served the row, and a NaN feature is judged by warm-up (the contract).
    """
    import numpy as np

    judged = rows.judged()
    bars, others = judged[:, : len(PRICE_COLUMNS)], judged[:, len(PRICE_COLUMNS) :]
    if not np.isinf(others).any() and _bars_look_sane(bars):
        return []
    out: list[Finding] = []
    first_other = len(PRICE_COLUMNS)
    others_named = rows.columns[first_other:]
    for day, row in zip(rows.sessions[-len(judged) :], judged, strict=True):
        out += _bar_rules(rows.symbol, day, row[:first_other])
        for column, value in zip(others_named, row[first_other:].tolist(), strict=True):
            if math.isinf(value):
                out.append(Finding(rows.symbol, day, column, value, f"{column} {num(value)}"))
    return out


def nan_features(rows: Rows) -> list[Finding]:
    """Each (session, feature) NaN in the last PRICE_WINDOW_ROWS rows, in row order."""
    import numpy as np

    features = rows.features
    nan = np.isnan(rows.judged()[:, features])
    if not nan.any():
        return []
    sessions = rows.sessions[-PRICE_WINDOW_ROWS:]
    found = zip(*np.nonzero(nan), strict=True)
    return [
        Finding(
            rows.symbol, sessions[r], rows.columns[features[c]], math.nan, rows.columns[features[c]]
        )
        for r, c in found
    ]


def last_row_features(rows: Rows) -> tuple[frozenset[str], frozenset[str]]:
    """(the feature columns a symbol has, those NaN on its last row)."""
    import numpy as np

    features = rows.features
    names = frozenset(rows.columns[i] for i in features)
    if not len(rows.values) or not features:
        return names, frozenset()
    last = rows.values[-1, features]
    return names, frozenset(rows.columns[features[i]] for i in np.flatnonzero(np.isnan(last)))


def nan_on_every_last_row(
    stocks: Mapping[str, tuple[frozenset[str], frozenset[str]]],
    past_warm_up: Callable[[Sequence[str]], set[str]],
    minimum: int = MIN_STOCKS_FOR_ALL_NAN,
) -> dict[str, int]:
    """feature -> how many stocks have it, for each feature NaN on the last row of every stock
    past warm-up that has the column, when at least ``minimum`` of them have it.

    ``stocks``: symbol -> ``last_row_features``; ``past_warm_up(symbols)``: those of
    ``symbols`` past warm-up (``warm_up_rows`` rows, the contract's threshold). Asked only
    about the symbols that can decide a feature, so a healthy universe costs no row count.
    """
    every = sorted({f for _, nan in stocks.values() for f in nan})
    out: dict[str, int] = {}
    for feature in every:
        nan = [s for s, (_, n) in stocks.items() if feature in n]
        if len(nan) < minimum:
            continue  # too few, even if every one of them is past warm-up
        have = [s for s, (f, n) in stocks.items() if feature in f and feature not in n]
        if past_warm_up(have):
            continue  # a stock past warm-up computed it: not everyone's computation broke
        judged = past_warm_up(nan)
        if len(judged) >= minimum:
            out[feature] = len(judged)
    return out


def _move(symbol: str, day: dt.date, before: float, now: float, max_move: float) -> Finding | None:
    if not before > 0:
        return None
    move = now / before - 1
    if math.isfinite(move) and abs(move) > max_move:
        text = f"Close {move:+.1%} from {num(before)} to {num(now)}"
        return Finding(symbol, day, "Close", now, text)
    return None


def volume_baseline(volume: Any, i: int) -> float | None:
    """The median of the positive volumes among the VOLUME_MEDIAN_ROWS rows before row ``i``;
    None (not judged) with fewer rows before it or none of them positive."""
    import numpy as np

    if i < VOLUME_MEDIAN_ROWS:
        return None
    earlier = volume[i - VOLUME_MEDIAN_ROWS : i]
    positive = earlier[earlier > 0]
    return float(np.median(positive)) if len(positive) else None


def soft_findings(rows: Rows, *, max_move: float, volume_spike_factor: float) -> list[Finding]:
    """Rules whose breach only warns: a close-to-close move above ``max_move`` (0.5 is
    50 %), no volume, a volume above ``volume_spike_factor`` times its baseline."""
    close = rows.values[:, PRICE_COLUMNS.index("Close")]
    volume = rows.values[:, PRICE_COLUMNS.index("Volume")]
    out: list[Finding] = []
    for i in range(max(len(close) - PRICE_WINDOW_ROWS, 0), len(close)):
        day = rows.sessions[i]
        # From the row just before the window into it, too.
        if i > 0:
            move = _move(rows.symbol, day, float(close[i - 1]), float(close[i]), max_move)
            out += [move] if move is not None else []
        v = float(volume[i])
        if v == 0:
            out.append(Finding(rows.symbol, day, "Volume", v, "Volume 0"))
        baseline = volume_baseline(volume, i)
        if baseline is not None and v > volume_spike_factor * baseline:
            text = f"Volume {num(v)} > {volume_spike_factor:g}x median {num(baseline)}"
            out.append(Finding(rows.symbol, day, "Volume", v, text))
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
    window_sessions: int,
) -> list[dt.date]:
    """NYSE sessions absent from ``frame`` among the ``window_sessions`` ending at the
    session of its last row; a symbol whose rows start later is checked from its first row."""
    dates = {stamp.date() for stamp in frame.index}
    last = last_session_on_or_before(max(dates))
    first = min(dates)
    expected = [d for d in previous_sessions(last, window_sessions) if d >= first]
    return [d for d in expected if d not in dates]
