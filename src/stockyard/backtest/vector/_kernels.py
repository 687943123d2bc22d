"""numba kernels of the research path: arrays in, arrays out, no Python objects.

The moving averages follow ``stockyard.strategy.indicators.MovingAveragePair`` operation
for operation (``sum += x - oldest``; ``fast - slow`` as ``sum_f / f - sum_s / s``), so
the signals here equal the event engine's ``sma_cross`` bit for bit. Fills follow the
event engine's default: an order decided on bar ``t`` fills at bar ``t + 1``'s open.

The kernels take positional parameters: numba compiles no keyword-only signatures.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["cross_signals", "simulate_long", "sma_diff", "sweep_sma_cross"]

BUY = 1
SELL = -1


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
            out[t] = fast_sum / fast - slow_sum / slow
            continue
        if t >= fast:
            fast_sum += x - close[t - fast]
        else:
            fast_sum += x
        slow_sum += x
        if t + 1 >= slow:
            out[t] = fast_sum / fast - slow_sum / slow
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


_BLOCK = 2048  # bars per block: every window's means for a block stay in cache
_STATE = 14


@njit(cache=True, nogil=True, error_model="numpy")
def _block_means(
    close: np.ndarray, windows: np.ndarray, sums: np.ndarray, means: np.ndarray, start: int
) -> None:
    """Fill ``means[w, :]`` with the SMA of ``windows[w]`` over bars ``start…`` (NaN until
    the window is full), carrying each running sum in ``sums`` from block to block: the
    ``RollingMean`` recurrence, so the bits are the event engine's."""
    stop = min(close.size, start + means.shape[1])
    for w in range(windows.size):
        window = windows[w]
        total = sums[w]
        for t in range(start, stop):
            x = close[t]
            if t >= window:
                total += x - close[t - window]
            else:
                total += x
            means[w, t - start] = total / window if t + 1 >= window else np.nan
        sums[w] = total


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_block(  # noqa: PLR0912, PLR0915, PLR0917  # one flat numba loop, positional
    open_: np.ndarray,
    close: np.ndarray,
    bounds: np.ndarray,
    fast_means: np.ndarray,
    slow_means: np.ndarray,
    start: int,
    qty: float,
    costs: np.ndarray,
    state: np.ndarray,
) -> None:
    """Run one pair through one block of bars, its state carried in ``state``. The block
    is cut into segments ending at ``bounds`` (exclusive offsets); a negative bound ends a
    period there (its last bar's mark makes one period return)."""
    slip, per_order, per_share, rate = costs[0], costs[1], costs[2], costs[3]
    prev, held, money, pending = state[0], state[1], state[2], int(state[3])
    entry_cost, orders, trades, wins = state[4], state[5], state[6], state[7]
    peak, worst, last_mark = state[8], state[9], state[10]
    periods, mean, m2 = state[11], state[12], state[13]
    floor = peak * (1.0 + worst)
    last = close.size - 1
    mark = money + held * close[start]
    lo = 0
    for bound in bounds:
        hi = abs(bound)
        for k in range(lo, hi):
            t = start + k
            moved = pending != 0
            if moved:
                price = _fill_price(open_[t], pending, slip)
                fee = _fee(price, qty, per_order, per_share, rate)
                money -= pending * price * qty + fee
                orders += 1
                if pending == BUY:
                    held = qty
                    entry_cost = price * qty + fee
                else:
                    held = 0.0
                    trades += 1
                    if price * qty - fee - entry_cost > 0.0:  # as Trade.pnl is computed
                        wins += 1
                pending = 0
            diff = fast_means[k] - slow_means[k]
            if diff > 0.0:
                if prev <= 0.0 and held == 0.0 and t < last:
                    pending = BUY
            elif diff < 0.0 and prev >= 0.0 and held > 0.0 and t < last:
                pending = SELL
            prev = diff
            # Flat, the mark only moves on the bar of a fill: skip the peak test otherwise.
            if moved or held != 0.0:
                mark = money + held * close[t]
                if mark > peak:
                    peak = mark
                    floor = peak * (1.0 + worst)
                elif mark < floor:
                    worst = min(worst, mark / peak - 1.0)
                    floor = peak * (1.0 + worst)
        lo = hi
        if bound < 0:
            r = mark / last_mark - 1.0
            periods += 1.0
            delta = r - mean
            mean += delta / periods
            m2 += delta * (r - mean)
            last_mark = mark
    state[0], state[1], state[2], state[3] = prev, held, money, pending
    state[4], state[5], state[6], state[7] = entry_cost, orders, trades, wins
    state[8], state[9], state[10] = peak, worst, last_mark
    state[11], state[12], state[13] = periods, mean, m2


@njit(cache=True, nogil=True, error_model="numpy")
def _segments(period_end: np.ndarray, start: int, count: int) -> np.ndarray:
    """Segment ends (exclusive offsets) of a block: ``-(k + 1)`` after a bar ``k`` that ends
    a period, and ``count`` for the block's end if no period ends there."""
    out = np.empty(count + 1, dtype=np.int64)
    n = 0
    for k in range(count):
        if period_end[start + k]:
            out[n] = -(k + 1)
            n += 1
    if n == 0 or out[n - 1] != -count:
        out[n] = count
        n += 1
    return out[:n]


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def sweep_sma_cross(  # noqa: PLR0917  # numba: positional parameters only
    open_: np.ndarray,
    close: np.ndarray,
    period_end: np.ndarray,
    fasts: np.ndarray,
    slows: np.ndarray,
    qty: float,
    cash0: float,
    costs: np.ndarray,
) -> np.ndarray:
    """``sma_cross`` for every ``(fasts[i], slows[i])`` at once, in parallel. One row per
    pair: orders filled, closed trades, winning trades, final equity, max drawdown (<= 0),
    mean and sample std of period returns (periods end where ``period_end``), periods.

    Bars go in blocks: each window's means are computed once per block (pairs share
    windows), then every pair runs through the block from cache.
    """
    windows = np.unique(np.concatenate((fasts, slows)))
    row = np.full(windows[-1] + 1, -1, dtype=np.int64)
    for w in range(windows.size):
        row[windows[w]] = w
    pairs = fasts.size
    state = np.zeros((pairs, _STATE))
    for i in range(pairs):
        state[i, 0] = np.nan
        state[i, 2] = cash0
        state[i, 8] = cash0
        state[i, 10] = cash0
    sums = np.zeros(windows.size)
    means = np.empty((windows.size, _BLOCK))
    for start in range(0, close.size, _BLOCK):
        _block_means(close, windows, sums, means, start)
        bounds = _segments(period_end, start, min(_BLOCK, close.size - start))
        for i in prange(pairs):
            _pair_block(
                open_,
                close,
                bounds,
                means[row[fasts[i]]],
                means[row[slows[i]]],
                start,
                qty,
                costs,
                state[i],
            )
    out = np.empty((pairs, 8))
    for i in range(pairs):
        held, money = state[i, 1], state[i, 2]
        periods, m2 = state[i, 11], state[i, 13]
        out[i, 0] = state[i, 5]
        out[i, 1] = state[i, 6]
        out[i, 2] = state[i, 7]
        out[i, 3] = money + held * close[close.size - 1]
        out[i, 4] = state[i, 9]
        out[i, 5] = state[i, 12]
        out[i, 6] = np.sqrt(m2 / (periods - 1.0)) if periods > 1 else np.nan
        out[i, 7] = periods
    return out
