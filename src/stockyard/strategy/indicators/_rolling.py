"""Rolling mean, standard deviation, maximum and minimum: O(1) per update, floats in.

Each ``update(x)`` returns the indicator's value over the last ``period`` inputs, or NaN
until ``period`` inputs have been seen (NaN compares false with everything, so a rule such
as ``fast > slow`` never fires on an undefined value). ``value`` holds the last result.

The mean keeps a running sum updated as ``sum += x - oldest`` and returns ``sum / period``;
a vectorised kernel that does the same operations in the same order gets the same bits.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["MovingAveragePair", "RollingMax", "RollingMean", "RollingMin", "RollingStd"]

NAN = math.nan


def _check_period(period: int, least: int = 1) -> int:
    if isinstance(period, bool) or not isinstance(period, int) or period < least:
        raise ValueError(f"period must be an integer >= {least}, got {period!r}")
    return period


class RollingMean:
    """Simple moving average of the last ``period`` values."""

    __slots__ = ("_buf", "period", "sum", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._buf: deque[float] = deque(maxlen=period)
        self.sum = 0.0
        self.value = NAN

    @property
    def ready(self) -> bool:
        return len(self._buf) == self.period

    def update(self, x: float) -> float:
        buf = self._buf
        if len(buf) == self.period:
            self.sum += x - buf[0]
            buf.append(x)
        else:
            self.sum += x
            buf.append(x)
            if len(buf) < self.period:
                return NAN
        value = self.value = self.sum / self.period
        return value


class RollingStd:
    """Mean and standard deviation (``ddof`` 1: sample, 0: population) of the last values.

    Welford's update for a sliding window, so a large mean over a small spread does not
    cancel away the variance the way a sum of squares would; every ``period`` updates the
    mean and sum of squares are recomputed from the window (amortised O(1)), so rounding
    cannot drift over millions of bars.
    """

    __slots__ = ("_buf", "_m2", "_until_exact", "ddof", "mean", "period", "value")

    def __init__(self, period: int, *, ddof: int = 1) -> None:
        if ddof not in (0, 1):
            raise ValueError(f"ddof must be 0 or 1, got {ddof!r}")
        self.period = _check_period(period, least=ddof + 1)
        self.ddof = ddof
        self._buf: deque[float] = deque(maxlen=period)
        self.mean = 0.0
        self._m2 = 0.0
        self._until_exact = period
        self.value = NAN

    @property
    def ready(self) -> bool:
        return len(self._buf) == self.period

    def update(self, x: float) -> float:
        buf = self._buf
        n = len(buf)
        if n == self.period:
            old = buf[0]
            old_mean = self.mean
            self.mean = mean = old_mean + (x - old) / n
            self._m2 += (x - old) * (x - mean + old - old_mean)
            self._until_exact -= 1
            if not self._until_exact:
                buf.append(x)
                self._exact()
                return self.value
        else:
            n += 1
            delta = x - self.mean
            self.mean += delta / n
            self._m2 += delta * (x - self.mean)
        buf.append(x)
        if n < self.period:
            return NAN
        m2 = self._m2 if self._m2 > 0.0 else 0.0  # rounding can leave a tiny negative
        value = self.value = math.sqrt(m2 / (n - self.ddof))
        return value

    def _exact(self) -> None:
        buf = self._buf
        n = len(buf)
        self.mean = mean = math.fsum(buf) / n
        self._m2 = math.fsum((v - mean) * (v - mean) for v in buf)
        self.value = math.sqrt(self._m2 / (n - self.ddof))
        self._until_exact = self.period


class _RollingExtreme:
    __slots__ = ("_count", "_queue", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._queue: deque[tuple[int, float]] = deque()
        self._count = 0
        self.value = NAN

    @property
    def ready(self) -> bool:
        return self._count >= self.period


class RollingMax(_RollingExtreme):
    """Highest of the last ``period`` values (monotonic deque: amortised O(1))."""

    __slots__ = ()

    def update(self, x: float) -> float:
        queue = self._queue
        while queue and queue[-1][1] <= x:
            queue.pop()
        count = self._count = self._count + 1
        queue.append((count, x))
        if queue[0][0] <= count - self.period:
            queue.popleft()
        if count < self.period:
            return NAN
        value = self.value = queue[0][1]
        return value


class RollingMin(_RollingExtreme):
    """Lowest of the last ``period`` values (monotonic deque: amortised O(1))."""

    __slots__ = ()

    def update(self, x: float) -> float:
        queue = self._queue
        while queue and queue[-1][1] >= x:
            queue.pop()
        count = self._count = self._count + 1
        queue.append((count, x))
        if queue[0][0] <= count - self.period:
            queue.popleft()
        if count < self.period:
            return NAN
        value = self.value = queue[0][1]
        return value


class MovingAveragePair:
    """A fast and a slow simple moving average of one series, in one update.

    ``update(x)`` returns ``fast - slow`` (NaN until ``slow`` values were seen). Its sign is
    the sign of ``fast`` versus ``slow`` exactly (the difference of two floats is zero only
    when they are equal), so a cross is a sign change. Both sums follow the
    :class:`RollingMean` recurrence, so ``fast`` and ``slow`` equal two RollingMeans bit for
    bit; one ring serves both, which halves the per-bar cost on the event path.
    """

    __slots__ = ("_buf", "fast_period", "fast_sum", "slow_period", "slow_sum")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast_period = _check_period(fast)
        self.slow_period = _check_period(slow)
        if fast >= slow:
            raise ValueError(f"fast must be < slow, got fast={fast} slow={slow}")
        self._buf: deque[float] = deque(maxlen=slow)
        self.fast_sum = 0.0
        self.slow_sum = 0.0

    @property
    def ready(self) -> bool:
        return len(self._buf) == self.slow_period

    @property
    def fast(self) -> float:
        """The fast mean (NaN until ``fast`` values were seen)."""
        if len(self._buf) < self.fast_period:
            return NAN
        return self.fast_sum / self.fast_period

    @property
    def slow(self) -> float:
        """The slow mean (NaN until ``slow`` values were seen)."""
        return self.slow_sum / self.slow_period if self.ready else NAN

    def update(self, x: float) -> float:
        buf = self._buf
        size = len(buf)
        if size == self.slow_period:
            self.fast_sum += x - buf[-self.fast_period]
            self.slow_sum += x - buf[0]
            buf.append(x)
            return self.fast_sum / self.fast_period - self.slow_sum / self.slow_period
        if size >= self.fast_period:
            self.fast_sum += x - buf[-self.fast_period]
        else:
            self.fast_sum += x
        self.slow_sum += x
        buf.append(x)
        if size + 1 < self.slow_period:
            return NAN
        return self.fast_sum / self.fast_period - self.slow_sum / self.slow_period
