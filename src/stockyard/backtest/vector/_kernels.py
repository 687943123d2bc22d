"""numba kernels of the research path: arrays in, arrays out, no Python objects.

The moving averages follow ``stockyard.strategy.indicators.MovingAveragePair`` operation
for operation (``sum += x - oldest``; ``fast - slow`` as ``sum_f / f - sum_s / s``), so
the signals here equal the event engine's ``sma_cross`` bit for bit. Fills follow the
event engine's default: an order decided on bar ``t`` fills at bar ``t + 1``'s open.

The kernels take positional parameters: numba compiles no keyword-only signatures.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cross_signals", "simulate_long", "sma_diff"]

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
