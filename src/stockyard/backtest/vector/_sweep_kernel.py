"""The ``sma_cross`` sweep kernel: thousands of (fast, slow) pairs over millions of bars.

Same rule, same fills and the same bits as ``simulate_long`` on ``sma_diff`` signals, but
built for throughput:

- **Threads own pairs, not blocks.** Pairs are sorted by window and dealt to one chunk per
  thread in runs, so a chunk needs few distinct windows and chunks carry alike work. Each
  thread runs its chunk from the first bar to the last with no barrier in between: a thread
  the OS pauses (the machine is shared) stalls only itself.
- **Shared work once per block.** Bars go in blocks (``_sweep_blocks``); per block a thread
  computes each window's moving average once (pairs share windows) and a range table of
  the closes, and all of its pairs run through the block while those sit in cache.
- **Jump from event to event.** Between orders nothing happens on most bars. Per pair and
  block the crosses become bit masks (SIMD compares, 64 bars a word); a flat pair jumps to
  its next upward cross, a long one to its next downward cross, after asking the range
  table whether the mark ``cash + qty × close`` left ``[drawdown floor, peak]`` on the way
  (the mark grows with the close, so the run's extreme closes answer it exactly). Only bars
  that change something run one by one.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from stockyard.backtest.vector._kernels import BUY, SELL, _fee, _fill_price
from stockyard.backtest.vector._sweep_blocks import (
    BLOCK,
    block_means,
    crosses,
    level_table,
    next_bit,
    range_tables,
    segments,
)

__all__ = ["sweep_sma_cross"]

_STATE = 13
_OUT = 8


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _mark(mark: float, peak: float, worst: float, floor: float) -> tuple[float, float, float]:
    """The drawdown bookkeeping of one mark: new ``(peak, worst, floor)``."""
    if mark > peak:
        peak = mark
        floor = peak * (1.0 + worst)
    elif mark < floor:
        worst = min(worst, mark / peak - 1.0)
        floor = peak * (1.0 + worst)
    return peak, worst, floor


@njit(cache=True, nogil=True, error_model="numpy")
def _run_block(  # noqa: PLR0912, PLR0915, PLR0917  # one flat numba loop, positional
    open_: np.ndarray,
    closes: np.ndarray,
    bounds: np.ndarray,
    means: np.ndarray,
    finite: np.ndarray,
    rows: np.ndarray,
    start: int,
    qty: float,
    costs: np.ndarray,
    states: np.ndarray,
    masks: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    levels: np.ndarray,
    close: np.ndarray,
    windows: np.ndarray,
) -> None:
    """Run every pair (``rows[i]`` = its fast and slow rows of ``means``) through one block
    (``closes`` = the block's closes). The block is cut into segments ending at ``bounds``;
    a negative bound ends a period there (its last bar's mark makes one period return).

    ``states[i]``: held, cash, pending side, entry cost, orders, trades, wins, peak, worst
    drawdown, last period mark, periods, mean and M2 (Welford) of period returns."""
    slip, per_order, per_share, rate = costs[0], costs[1], costs[2], costs[3]
    last = open_.size - 1 - start  # the series' last bar, as an offset into the block
    count = abs(bounds[-1])
    up, down = masks[0], masks[1]
    for i in range(rows.shape[0]):
        fm, sm = means[rows[i, 0]], means[rows[i, 1]]
        ok = finite[rows[i, 0]] and finite[rows[i, 1]]
        fast, slow = windows[rows[i, 0]], windows[rows[i, 1]]
        crosses(fm, sm, count, up, down, ok, close, start, fast, slow)
        state = states[i]
        held, money, pending = state[0], state[1], int(state[2])
        entry_cost, orders, trades, wins = state[3], state[4], state[5], state[6]
        peak, worst, last_mark = state[7], state[8], state[9]
        periods, mean, m2 = state[10], state[11], state[12]
        floor = peak * (1.0 + worst)
        lo = 0
        for bound in bounds:
            hi = abs(bound)
            k = lo
            while k < hi:
                if pending == 0:
                    if held == 0.0:
                        j = next_bit(up, k, hi)
                        if j >= hi or j >= last:  # a signal on the last bar never fills
                            break
                    else:
                        cross = next_bit(down, k, hi)
                        j = min(cross, hi - 1)  # the long run's marks to test: k … j
                        level = levels[j - k + 1]
                        other = j - (1 << level) + 1
                        top = max(highs[level, k], highs[level, other])
                        bottom = min(lows[level, k], lows[level, other])
                        if money + held * top > peak or money + held * bottom < floor:
                            j = k
                            while j < cross:  # the first mark out of [floor, peak]
                                mark = money + held * closes[j]
                                if mark > peak or mark < floor:
                                    break
                                j += 1
                            peak, worst, floor = _mark(money + held * closes[j], peak, worst, floor)
                            if j < cross:
                                k = j + 1
                                continue
                        elif cross >= hi:
                            break
                        if cross >= last:
                            k = cross + 1
                            continue
                        j = cross
                    pending = BUY if held == 0.0 else SELL
                    k = j + 1
                    if k >= hi:
                        break
                # The pending order fills at bar k's open.
                price = _fill_price(open_[start + k], pending, slip)
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
                peak, worst, floor = _mark(money + held * closes[k], peak, worst, floor)
                if k < last:  # a cross on the fill's own bar: read from the masks
                    if held == 0.0:
                        if next_bit(up, k, k + 1) == k:
                            pending = BUY
                    elif next_bit(down, k, k + 1) == k:
                        pending = SELL
                k += 1
            lo = hi
            if bound < 0:
                mark = money + held * closes[hi - 1] if held != 0.0 else money
                r = mark / last_mark - 1.0
                periods += 1.0
                delta = r - mean
                mean += delta / periods
                m2 += delta * (r - mean)
                last_mark = mark
        state[0], state[1], state[2] = held, money, pending
        state[3], state[4], state[5], state[6] = entry_cost, orders, trades, wins
        state[7], state[8], state[9] = peak, worst, last_mark
        state[10], state[11], state[12] = periods, mean, m2


@njit(cache=True, nogil=True, error_model="numpy")
def _run_chunk(  # noqa: PLR0917  # numba: positional parameters only
    open_: np.ndarray,
    close: np.ndarray,
    period_end: np.ndarray,
    fasts: np.ndarray,
    slows: np.ndarray,
    qty: float,
    cash0: float,
    costs: np.ndarray,
) -> np.ndarray:
    """All bars for the pairs of one chunk (one thread); one output row per pair."""
    windows = np.unique(np.concatenate((fasts, slows)))
    pairs = fasts.size
    rows = np.empty((pairs, 2), dtype=np.int64)
    rows[:, 0] = np.searchsorted(windows, fasts)
    rows[:, 1] = np.searchsorted(windows, slows)
    states = np.zeros((pairs, _STATE))
    states[:, 1] = cash0
    states[:, 7] = cash0
    states[:, 9] = cash0
    sums = np.zeros(windows.size)
    finite = np.zeros(windows.size, dtype=np.bool_)
    means = np.full((windows.size, BLOCK + 1), np.nan)  # column 0: the bar before the block
    closes = np.empty(BLOCK)
    masks = np.zeros((2, BLOCK // 64 + 1), dtype=np.uint64)
    levels = level_table()
    highs = np.empty((levels[BLOCK] + 1, BLOCK))
    lows = np.empty((levels[BLOCK] + 1, BLOCK))
    for start in range(0, close.size, BLOCK):
        count = block_means(close, windows, sums, means, finite, start)
        bounds = segments(period_end, start, count)
        closes[:count] = close[start : start + count]
        range_tables(closes, count, highs, lows)
        _run_block(
            open_,
            closes,
            bounds,
            means,
            finite,
            rows,
            start,
            qty,
            costs,
            states,
            masks,
            highs,
            lows,
            levels,
            close,
            windows,
        )
    out = np.empty((pairs, _OUT))
    for i in range(pairs):
        held, money = states[i, 0], states[i, 1]
        periods, m2 = states[i, 10], states[i, 12]
        out[i, 0] = states[i, 4]
        out[i, 1] = states[i, 5]
        out[i, 2] = states[i, 6]
        out[i, 3] = money + held * close[close.size - 1]
        out[i, 4] = states[i, 8]
        out[i, 5] = states[i, 11]
        out[i, 6] = np.sqrt(m2 / (periods - 1.0)) if periods > 1 else np.nan
        out[i, 7] = periods
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _deal(fasts: np.ndarray, slows: np.ndarray, chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """Deal the pairs to ``chunks`` chunks: sorted by (fast, slow), cut into runs, the runs
    dealt 0, 1, …, n-1, n-1, …, 1, 0, 0, 1, … so that every chunk gets few windows and a
    like share of small fast windows (which trade most). Returns the pair indexes chunk
    after chunk and each chunk's offset into them (``chunks + 1`` offsets)."""
    pairs = fasts.size
    order = np.argsort(slows, kind="mergesort")
    order = order[np.argsort(fasts[order], kind="mergesort")]
    run = max(1, pairs // (chunks * 8))
    owner = np.empty(pairs, dtype=np.int64)
    for n in range(pairs):
        m = (n // run) % (2 * chunks)
        owner[n] = m if m < chunks else 2 * chunks - 1 - m
    offsets = np.zeros(chunks + 1, dtype=np.int64)
    for n in range(pairs):
        offsets[owner[n] + 1] += 1
    for c in range(chunks):
        offsets[c + 1] += offsets[c]
    members = np.empty(pairs, dtype=np.int64)
    filled = offsets[:-1].copy()
    for n in range(pairs):
        members[filled[owner[n]]] = order[n]
        filled[owner[n]] += 1
    return members, offsets


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _sweep(  # noqa: PLR0917  # numba: positional parameters only
    open_: np.ndarray,
    close: np.ndarray,
    period_end: np.ndarray,
    fasts: np.ndarray,
    slows: np.ndarray,
    qty: float,
    cash0: float,
    costs: np.ndarray,
    chunks: int,
) -> np.ndarray:
    members, offsets = _deal(fasts, slows, chunks)
    out = np.empty((fasts.size, _OUT))
    for c in prange(chunks):
        mine = members[offsets[c] : offsets[c + 1]]
        rows = _run_chunk(open_, close, period_end, fasts[mine], slows[mine], qty, cash0, costs)
        for n in range(mine.size):
            out[mine[n]] = rows[n]
    return out


def sweep_sma_cross(  # noqa: PLR0917  # the kernel's positional signature
    open_: np.ndarray,
    close: np.ndarray,
    period_end: np.ndarray,
    fasts: np.ndarray,
    slows: np.ndarray,
    qty: float,
    cash0: float,
    costs: np.ndarray,
) -> np.ndarray:
    """``sma_cross`` for every ``(fasts[i], slows[i])`` at once, one chunk of pairs per
    numba thread. One row per pair: orders filled, closed trades, winning trades, final
    equity, max drawdown (<= 0), mean and sample std of period returns (periods end where
    ``period_end``), periods. Arrays as the kernels take them: contiguous float64 prices,
    bool ``period_end``, int64 windows with ``1 <= fast < slow``, ``costs`` as
    ``Costs.as_array``."""
    if fasts.size == 0:
        return np.empty((0, _OUT))
    chunks = min(get_num_threads(), int(fasts.size))
    out: np.ndarray = _sweep(open_, close, period_end, fasts, slows, qty, cash0, costs, chunks)
    return out
