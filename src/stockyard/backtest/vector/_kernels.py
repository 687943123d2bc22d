"""numba kernels of the research path: arrays in, arrays out, no Python objects.

The moving averages follow ``stockyard.strategy.indicators.MovingAveragePair`` operation
for operation (``sum += x - oldest``; ``fast - slow`` as ``sum_f / f - sum_s / s``; a near
tie settled exactly from the window), so the signals here equal the event engine's
``sma_cross`` bit for bit. Fills follow the
event engine's default: an order decided on bar ``t`` fills at bar ``t + 1``'s open.

The kernels take positional parameters: numba compiles no keyword-only signatures.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cross_signals", "exact_cross_sign", "settle_tie", "simulate_long", "sma_diff"]

BUY = 1
SELL = -1
TIE_TOLERANCE = 1e-9  # as strategy.indicators._rolling: the twins below decide alike
_MAX_DECIMALS = 8
_ON_TICK = 1e-15
_MAX_TICKS = 2.0**50
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split into two 26-bit halves
_TINY = 5e-324


@njit(cache=True, nogil=True, error_model="numpy")
def _grow(partials: np.ndarray, size: int, x: float) -> int:
    """Add ``x`` exactly to the non-overlapping expansion ``partials[:size]`` (Shewchuk's
    summation, the algorithm behind ``math.fsum``); returns the new size."""
    i = 0
    for j in range(size):
        y = partials[j]
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[i] = lo
            i += 1
        x = hi
    partials[i] = x
    return i + 1


@njit(cache=True, nogil=True, error_model="numpy")
def _decimals(close: np.ndarray, lo: int, hi: int, slow: int) -> int:
    for k in range(_MAX_DECIMALS + 1):
        scale = 10.0**k
        ok = True
        for i in range(lo, hi):
            y = close[i] * scale
            if abs(y) >= _MAX_TICKS / slow or abs(y - round(y)) > _ON_TICK * abs(y):
                ok = False
                break
        if ok:
            return k
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def exact_cross_sign(close: np.ndarray, t: int, fast: int, slow: int) -> int:
    """Exact sign of ``mean(close[t-fast+1 … t]) - mean(close[t-slow+1 … t])``: the numba
    twin of ``strategy.indicators._rolling.exact_cross_sign`` (prices with up to 8 decimals
    in whole ticks, in integers; others on the doubles' exact values, as an exact expansion
    whose largest part carries the sign)."""
    lo = t - slow + 1
    k = _decimals(close, lo, t + 1, slow)
    if k >= 0:
        scale = 10.0**k
        total = np.int64(0)
        for i in range(lo, t + 1):
            w = slow - fast if i > t - fast else -fast
            total += w * np.int64(round(close[i] * scale))
        return 1 if total > 0 else (-1 if total < 0 else 0)
    partials = np.empty(4 * slow + 2)
    size = 0
    for i in range(lo, t + 1):
        x = close[i]
        weight = float(slow - fast) if i > t - fast else float(-fast)
        c = _SPLIT * x
        hi = c - (c - x)
        size = _grow(partials, size, hi * weight)
        size = _grow(partials, size, (x - hi) * weight)
    for j in range(size - 1, -1, -1):
        if partials[j] != 0.0:
            return 1 if partials[j] > 0.0 else -1
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def settle_tie(diff: float, sign: int) -> float:
    """As ``strategy.indicators._rolling.settle_tie``: ``diff`` with the exact sign."""
    if sign == 0:
        return 0.0
    if (diff > 0.0) == (sign > 0) and diff != 0.0:
        return diff
    return _TINY if sign > 0 else -_TINY


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_diff(  # noqa: PLR0917  # numba: positional parameters only
    close: np.ndarray, t: int, fast_sum: float, slow_sum: float, fast: int, slow: int
) -> float:
    f = fast_sum / fast
    s = slow_sum / slow
    diff = f - s
    if abs(diff) <= TIE_TOLERANCE * (abs(f) + abs(s)):
        return settle_tie(diff, exact_cross_sign(close, t, fast, slow))
    return diff


@njit(cache=True, nogil=True, error_model="numpy")
def sma_diff(close: np.ndarray, fast: int, slow: int) -> np.ndarray:
    """``fast SMA - slow SMA`` at each bar (each SMA includes bar ``t``); NaN until ``slow``
    closes were seen. Same recurrence, same bits as ``MovingAveragePair.update``."""
    n = close.size
    out = np.full(n, np.nan)
    fast_sum = 0.0
    slow_sum = 0.0
    for t in range(n):
        x = close[t]
        if t >= slow:
            fast_sum += x - close[t - fast]
            slow_sum += x - close[t - slow]
            out[t] = _pair_diff(close, t, fast_sum, slow_sum, fast, slow)
            continue
        if t >= fast:
            fast_sum += x - close[t - fast]
        else:
            fast_sum += x
        slow_sum += x
        if t + 1 >= slow:
            out[t] = _pair_diff(close, t, fast_sum, slow_sum, fast, slow)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def cross_signals(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries where ``diff`` turns positive (``diff[t-1] <= 0 < diff[t]``) and exits where
    it turns negative (``diff[t-1] >= 0 > diff[t]``); NaN never signals."""
    n = diff.size
    entries = np.zeros(n, dtype=np.bool_)
    exits = np.zeros(n, dtype=np.bool_)
    for t in range(1, n):
        d = diff[t]
        p = diff[t - 1]
        if d > 0.0:
            entries[t] = p <= 0.0
        elif d < 0.0:
            exits[t] = p >= 0.0
    return entries, exits


@njit(cache=True, nogil=True, error_model="numpy")
def _fill_price(price: float, side: int, slip: float) -> float:
    return price * (1.0 + slip) if side == BUY else price * (1.0 - slip)


@njit(cache=True, nogil=True, error_model="numpy")
def _fee(price: float, qty: float, per_order: float, per_share: float, rate: float) -> float:
    return per_order + per_share * qty + rate * price * qty


@njit(cache=True, nogil=True, error_model="numpy")
def simulate_long(  # noqa: PLR0917  # numba: positional parameters only
    open_: np.ndarray,
    close: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    qty: float,
    cash0: float,
    costs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Long-only signal portfolio. When flat, an entry on bar ``t`` buys ``qty`` at
    ``open[t+1]``; when long, an exit sells it all at ``open[t+1]``. A signal on the last
    bar has no bar to fill at: its order is reported with fill bar ``-1``.

    ``costs`` = ``[slippage (fraction), fee per order, fee per share, fee rate of notional]``.
    Returns ``position``, ``cash`` and ``equity`` at each bar's close and the orders as rows
    ``[decision bar, fill bar, side (+1/-1), fill price, fee]``.
    """
    n = close.size
    slip, per_order, per_share, rate = costs[0], costs[1], costs[2], costs[3]
    position = np.zeros(n)
    cash = np.empty(n)
    equity = np.empty(n)
    orders = np.empty((n + 1, 5))
    count = 0
    held = 0.0
    money = cash0
    pending = 0
    for t in range(n):
        if pending != 0:
            price = _fill_price(open_[t], pending, slip)
            fee = _fee(price, qty, per_order, per_share, rate)
            money -= pending * price * qty + fee
            held += pending * qty
            orders[count - 1, 1] = t
            orders[count - 1, 3] = price
            orders[count - 1, 4] = fee
            pending = 0
        if held == 0.0 and entries[t]:
            pending = BUY
        elif held > 0.0 and exits[t]:
            pending = SELL
        if pending != 0:
            orders[count, 0] = t
            orders[count, 1] = -1
            orders[count, 2] = pending
            orders[count, 3] = np.nan
            orders[count, 4] = 0.0
            count += 1
        position[t] = held
        cash[t] = money
        equity[t] = money + held * close[t]
    return position, cash, equity, orders[:count].copy()
