"""Rolling mean, standard deviation, maximum and minimum: O(1) per update, floats in.

Each ``update(x)`` returns the indicator's value over the last ``period`` inputs, or NaN
until ``period`` inputs have been seen (NaN compares false with everything, so a rule such
as ``fast > slow`` never fires on an undefined value). ``value`` holds the last result.

The mean keeps a running sum updated as ``sum += x - oldest`` and returns ``sum / period``;
a vectorised kernel that does the same operations in the same order gets the same bits.

A running sum drifts by rounding, so two means that are *exactly* equal can come out a few
ulps apart and a rule such as ``fast > slow`` would see a cross that is not there.
:class:`MovingAveragePair` therefore settles every near tie exactly (:func:`exact_cross_sign`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

__all__ = [
    "MovingAveragePair",
    "RollingMax",
    "RollingMean",
    "RollingMin",
    "RollingStd",
    "exact_cross_sign",
    "settle_tie",
]

NAN = math.nan
# A difference of the running means within this fraction of their size may be rounding
# drift rather than a real gap (drift over millions of bars stays orders of magnitude below
# it), so its sign is settled exactly from the window itself.
TIE_TOLERANCE = 1e-9
_MAX_DECIMALS = 8  # prices with up to this many decimals are compared as whole ticks
_ON_TICK = 1e-15  # x * 10**k within this fraction of a whole number: x has <= k decimals
_MAX_TICKS = 2.0**50  # ticks this large could overflow a window's weighted sum in int64
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves
_TINY = 5e-324  # the smallest positive double: a non-zero difference below float precision


def _decimals(window: Sequence[float], slow: int) -> int:
    """The fewest decimals (0 … 8) every value of ``window`` has, or -1."""
    for k in range(_MAX_DECIMALS + 1):
        scale = 10.0**k
        for x in window:
            y = x * scale
            if abs(y) >= _MAX_TICKS / slow or abs(y - round(y)) > _ON_TICK * abs(y):
                break
        else:
            return k
    return -1


def exact_cross_sign(window: Sequence[float], fast: int, slow: int) -> int:
    """The exact sign (-1, 0, 1) of ``mean(last fast) - mean(last slow)`` of ``window``
    (its last ``slow`` values).

    Prices are decimals: ``100.1234`` read from a file or a feed means that decimal, not
    the nearest double. So when every value has at most 8 decimals the sign is computed in
    whole ticks of the fewest such decimals, exactly, in integers; otherwise on the doubles'
    exact values. Either way ``fast * slow * (fast mean - slow mean)`` is ``sum(w_i * x_i)``
    with integer weights (``slow - fast`` inside the fast window, ``-fast`` elsewhere). On
    doubles each ``x`` is split into two 26-bit halves so that every ``half * w`` is exact,
    and ``math.fsum`` of exact terms is correctly rounded, so its sign is exact.
    """
    n = len(window)
    k = _decimals(window, slow)
    if k >= 0:
        scale = 10.0**k
        total = 0
        for i, x in enumerate(window):
            total += (slow - fast if i >= n - fast else -fast) * round(x * scale)
        return (total > 0) - (total < 0)
    terms: list[float] = []
    for i, x in enumerate(window):
        w = float(slow - fast if i >= n - fast else -fast)
        c = _SPLIT * x
        hi = c - (c - x)
        terms.append(hi * w)
        terms.append((x - hi) * w)
    exact = math.fsum(terms)
    return (exact > 0.0) - (exact < 0.0)


def settle_tie(diff: float, sign: int) -> float:
    """``diff`` (a drifted ``fast - slow``) with its sign made the exact ``sign``: 0.0 for an
    exact tie, ``diff`` itself when its sign was right, else the smallest double of
    ``sign``'s sign (the gap is below what the running sums can resolve)."""
    if sign == 0:
        return 0.0
    if (diff > 0.0) == (sign > 0) and diff != 0.0:
        return diff
    return math.copysign(_TINY, sign)


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
    the exact sign of the true means of the window, so a cross is a sign change and a tie
    is 0.0: both sums follow the :class:`RollingMean` recurrence (``fast`` and ``slow`` equal
    two RollingMeans bit for bit; one ring serves both, which halves the per-bar cost on the
    event path), and a difference within rounding distance of zero is settled exactly
    (:func:`exact_cross_sign`, :func:`settle_tie`). ``backtest.vector.sma_diff`` does the
    same, bit for bit.
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
        slow_n = self.slow_period
        if size == slow_n:  # every bar once warm: ``_diff`` inlined, the same arithmetic
            fast_n = self.fast_period
            fast_sum = self.fast_sum = self.fast_sum + (x - buf[-fast_n])
            slow_sum = self.slow_sum = self.slow_sum + (x - buf[0])
            buf.append(x)
            fast = fast_sum / fast_n
            slow = slow_sum / slow_n
            diff = fast - slow
            if abs(diff) <= TIE_TOLERANCE * (abs(fast) + abs(slow)):
                return settle_tie(diff, exact_cross_sign(buf, fast_n, slow_n))
            return diff
        if size >= self.fast_period:
            self.fast_sum += x - buf[-self.fast_period]
        else:
            self.fast_sum += x
        self.slow_sum += x
        buf.append(x)
        if size + 1 < self.slow_period:
            return NAN
        return self._diff()

    def _diff(self) -> float:
        fast = self.fast_sum / self.fast_period
        slow = self.slow_sum / self.slow_period
        diff = fast - slow
        if abs(diff) <= TIE_TOLERANCE * (abs(fast) + abs(slow)):
            sign = exact_cross_sign(self._buf, self.fast_period, self.slow_period)
            return settle_tie(diff, sign)
        return diff
