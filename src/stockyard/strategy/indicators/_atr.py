"""Average true range (Wilder) and a rolling least-squares hedge ratio; O(1) per update."""

from __future__ import annotations

import math
from collections import deque

__all__ = ["ATR", "RollingOLS"]

NAN = math.nan


class ATR:
    """Wilder's average true range.

    True range is ``max(high - low, |high - prev_close|, |low - prev_close|)`` (just
    ``high - low`` on the first bar). The first ATR, on bar ``period``, is the mean of the
    first ``period`` true ranges; after that ``atr = (atr * (period - 1) + tr) / period``.
    """

    __slots__ = ("_count", "_prev_close", "_sum", "period", "value")

    def __init__(self, period: int = 14) -> None:
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"period must be an integer >= 1, got {period!r}")
        self.period = period
        self._prev_close = NAN
        self._count = 0
        self._sum = 0.0
        self.value = NAN

    @property
    def ready(self) -> bool:
        return self._count >= self.period

    def update(self, high: float, low: float, close: float) -> float:
        prev = self._prev_close
        self._prev_close = close
        tr = high - low
        if self._count:  # there is a previous close
            tr = max(tr, abs(high - prev), abs(low - prev))
        count = self._count = self._count + 1
        period = self.period
        if count < period:
            self._sum += tr
            return NAN
        if count == period:
            value = (self._sum + tr) / period
        else:
            value = (self.value * (period - 1) + tr) / period
        self.value = value
        return value


class RollingOLS:
    """Least-squares fit ``y = alpha + beta * x`` over the last ``period`` pairs.

    Means and co-moments are updated by Welford's method (remove the oldest pair, add the
    newest). ``update`` returns ``beta``, NaN until the window is full or while ``x`` is
    constant over it.
    """

    __slots__ = ("_buf", "_cxx", "_cxy", "_mx", "_my", "alpha", "period", "value")

    def __init__(self, period: int) -> None:
        if isinstance(period, bool) or not isinstance(period, int) or period < 2:
            raise ValueError(f"period must be an integer >= 2, got {period!r}")
        self.period = period
        self._buf: deque[tuple[float, float]] = deque()
        self._mx = self._my = self._cxx = self._cxy = 0.0
        self.alpha = NAN
        self.value = NAN

    @property
    def ready(self) -> bool:
        return len(self._buf) == self.period

    def update(self, x: float, y: float) -> float:
        buf = self._buf
        if len(buf) == self.period:
            ox, oy = buf.popleft()
            n = len(buf)  # size after removal
            mx = (self._mx * (n + 1) - ox) / n
            self._cxx -= (ox - mx) * (ox - self._mx)
            self._cxy -= (ox - mx) * (oy - self._my)
            self._my = (self._my * (n + 1) - oy) / n
            self._mx = mx
        buf.append((x, y))
        n = len(buf)
        dx = x - self._mx
        self._mx += dx / n
        self._my += (y - self._my) / n
        self._cxx += dx * (x - self._mx)
        self._cxy += dx * (y - self._my)
        if n < self.period or self._cxx <= 1e-12 * n * max(1.0, self._mx * self._mx):
            self.alpha = self.value = NAN
            return NAN
        beta = self.value = self._cxy / self._cxx
        self.alpha = self._my - beta * self._mx
        return beta
