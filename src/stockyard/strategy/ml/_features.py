"""Features over bars, computed one bar at a time by the same code in a backtest and live.

Each :class:`SymbolFeatures` keeps O(1) state per feature (running sums, Wilder and
exponential averages, a short ring of closes) and turns one bar into one row of floats,
``None`` until every feature is defined. Names follow FreqAI's convention: features start
with ``%``, targets (labels) with ``&`` (see ``_labels``).

The row of bar ``t`` uses bars ``<= t`` only: the functions read nothing but their own state
and the bar handed in, so look-ahead is impossible by construction (and a property test
checks it). Cross-asset features read the reference symbol's latest delivered row.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from stockyard.strategy._bars import BarRow
from stockyard.strategy.indicators import ATR, RollingStd

__all__ = [
    "EMA",
    "FEATURE_NAMES",
    "RSI",
    "SymbolFeatures",
    "cross_feature_names",
    "feature_matrix",
]

NAN = math.nan
_RETURN_HORIZONS = (1, 5, 15, 60)
_NS_PER_MINUTE = 60_000_000_000
_MINUTES_PER_DAY = 1440
_NS_PER_DAY = _NS_PER_MINUTE * _MINUTES_PER_DAY

FEATURE_NAMES: tuple[str, ...] = (
    *(f"%ret_{h}" for h in _RETURN_HORIZONS),
    "%vol_20",
    "%rsi_14",
    "%macd",
    "%macd_signal",
    "%atr_14",
    "%volume_z_20",
    "%range",
    "%tod_sin",
    "%tod_cos",
    "%dow",
)


def cross_feature_names(reference: str) -> tuple[str, ...]:
    """The names of the features of a symbol against ``reference`` (e.g. SPY)."""
    tag = reference.replace("/", "").lower()
    return (f"%xret_5_{tag}", f"%xret_60_{tag}")


class EMA:
    """Exponential moving average with ``alpha = 2 / (period + 1)``, seeded by the first
    value; NaN until ``period`` values were seen."""

    __slots__ = ("_alpha", "_count", "_raw", "period", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        self.period = period
        self._alpha = 2.0 / (period + 1)
        self._count = 0
        self._raw = NAN
        self.value = NAN

    def update(self, x: float) -> float:
        self._count += 1
        if self._count == 1:
            self._raw = x
        else:
            self._raw += self._alpha * (x - self._raw)
        self.value = self._raw if self._count >= self.period else NAN
        return self.value


class RSI:
    """Wilder's relative strength index over ``period`` closes, in [0, 100]."""

    __slots__ = ("_count", "_down", "_prev", "_up", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self._prev = NAN
        self._count = 0
        self._up = 0.0
        self._down = 0.0
        self.value = NAN

    def update(self, close: float) -> float:
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return NAN
        change = close - prev
        up, down = max(change, 0.0), max(-change, 0.0)
        self._count += 1
        n = self.period
        if self._count <= n:
            self._up += up / n
            self._down += down / n
            if self._count < n:
                return NAN
        else:
            self._up = (self._up * (n - 1) + up) / n
            self._down = (self._down * (n - 1) + down) / n
        total = self._up + self._down
        self.value = 50.0 if total == 0.0 else 100.0 * self._up / total
        return self.value


class SymbolFeatures:
    """The feature state of one symbol; :meth:`update` turns a bar into a row.

    ``reference`` is another :class:`SymbolFeatures` (SPY, a basket's leader) whose latest
    returns give the cross-asset features, or None for none.
    """

    __slots__ = (
        "_atr",
        "_closes",
        "_macd_fast",
        "_macd_signal",
        "_macd_slow",
        "_rsi",
        "_vol",
        "_volume",
        "names",
        "reference",
        "returns",
        "symbol",
    )

    def __init__(self, symbol: str, *, reference: SymbolFeatures | None = None) -> None:
        self.symbol = symbol
        self.reference = reference
        self._closes: deque[float] = deque(maxlen=max(_RETURN_HORIZONS) + 1)
        self._vol = RollingStd(20)
        self._rsi = RSI(14)
        self._macd_fast, self._macd_slow, self._macd_signal = EMA(12), EMA(26), EMA(9)
        self._atr = ATR(14)
        self._volume = RollingStd(20)
        self.returns: dict[int, float] = dict.fromkeys(_RETURN_HORIZONS, NAN)
        self.names: tuple[str, ...] = FEATURE_NAMES
        self.set_reference(reference)

    def set_reference(self, reference: SymbolFeatures | None) -> None:
        """Compare this symbol with ``reference`` from now on (itself: the cross features
        are 0, so the reference symbol's rows have the same columns as the others')."""
        self.reference = reference
        extra = cross_feature_names(reference.symbol) if reference is not None else ()
        self.names = FEATURE_NAMES + extra

    def update(self, bar: BarRow) -> np.ndarray | None:
        """Take bar ``t``; its feature row (float64, in ``names`` order), or None while any
        feature is still undefined (warm-up, or a bad price)."""
        close = bar.close
        if not (close > 0.0 and bar.high >= bar.low):
            return None
        closes = self._closes
        closes.append(close)
        size = len(closes)
        returns = self.returns
        for h in _RETURN_HORIZONS:
            returns[h] = math.log(close / closes[-1 - h]) if size > h else NAN
        vol = self._vol.update(returns[1]) if size > 1 else NAN
        rsi = self._rsi.update(close)
        fast, slow = self._macd_fast.update(close), self._macd_slow.update(close)
        macd = (fast - slow) / close
        signal = self._macd_signal.update(macd) if not math.isnan(macd) else NAN
        atr = self._atr.update(bar.high, bar.low, close) / close
        volume_sd = self._volume.update(bar.volume)
        mean = self._volume.mean
        volume_z = (bar.volume - mean) / volume_sd if volume_sd > 0.0 else 0.0
        if math.isnan(volume_sd):
            volume_z = NAN
        minute = (bar.ts % _NS_PER_DAY) / _NS_PER_MINUTE
        angle = 2.0 * math.pi * minute / _MINUTES_PER_DAY
        dow = float((bar.ts // _NS_PER_DAY + 3) % 7)  # 1970-01-01 was a Thursday: Monday is 0
        values = [
            returns[1],
            returns[5],
            returns[15],
            returns[60],
            vol,
            rsi / 100.0,
            macd,
            macd - signal,
            atr,
            volume_z,
            (bar.high - bar.low) / close,
            math.sin(angle),
            math.cos(angle),
            dow,
        ]
        ref = self.reference
        if ref is not None:
            values.append(returns[5] - ref.returns[5])
            values.append(returns[60] - ref.returns[60])
        if not all(map(math.isfinite, values)):
            return None
        return np.array(values, dtype=np.float64)


def feature_matrix(
    bars: Sequence[BarRow], *, reference: Sequence[BarRow] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of one symbol's ``bars`` (and the index of the bar each row is for),
    by the same incremental code as the bots; ``reference`` bars are interleaved by time,
    a reference bar first when both share a timestamp."""
    ref = SymbolFeatures(reference[0].symbol) if reference else None
    own = SymbolFeatures(bars[0].symbol, reference=ref) if bars else None
    rows: list[np.ndarray] = []
    index: list[int] = []
    j = 0
    refs = reference or ()
    for i, bar in enumerate(bars):
        while ref is not None and j < len(refs) and refs[j].ts <= bar.ts:
            ref.update(refs[j])
            j += 1
        assert own is not None  # bars is not empty inside the loop
        row = own.update(bar)
        if row is not None:
            rows.append(row)
            index.append(i)
    width = len(own.names) if own is not None else len(FEATURE_NAMES)
    matrix = np.vstack(rows) if rows else np.empty((0, width))
    return matrix, np.asarray(index, dtype=np.int64)
