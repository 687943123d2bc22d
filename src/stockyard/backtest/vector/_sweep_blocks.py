"""What the sweep kernel prepares once per block of bars, and the bit tricks it reads it with.

A block's moving averages (one row per window, shared by every pair that uses the window),
its period ends, a range table of its closes (highest and lowest close of any run of bars
in two look-ups) and, per pair, its crosses as bit masks: one bit per bar, 64 bars a word.
Indexes are unsigned where numba would otherwise test for negative (wraparound) indexes,
which keeps the loops free of branches and lets them compile to SIMD.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from stockyard.backtest.vector._kernels import TIE_TOLERANCE, exact_cross_sign, settle_tie

__all__ = [
    "BLOCK",
    "block_means",
    "crosses",
    "level_table",
    "next_bit",
    "range_tables",
    "segments",
]

BLOCK = 1024  # bars per block (a multiple of 64): a thread's block data stay in its L2 cache

_ONE = uint64(1)
_ALL = uint64(0xFFFFFFFFFFFFFFFF)
_DEBRUIJN = 0x03F79D71B4CB0A89  # a De Bruijn sequence: every 6-bit window occurs once
# Bit index of a word's lowest set bit b, looked up at (b * _DEBRUIJN mod 2**64) >> 58.
_DEBRUIJN_INDEX = np.zeros(64, dtype=np.int64)
for _bit in range(64):
    _DEBRUIJN_INDEX[((_DEBRUIJN << _bit) % 2**64) >> 58] = _bit
_DEBRUIJN_U64 = uint64(_DEBRUIJN)


@njit(cache=True, nogil=True, error_model="numpy")
def _sums4(  # noqa: PLR0917  # numba: positional parameters only
    close: np.ndarray,
    start: int,
    count: int,
    windows: np.ndarray,
    sums: np.ndarray,
    means: np.ndarray,
    w: int,
) -> None:
    """Running sums of windows ``w … w+3`` (all full before ``start``) at once: four
    independent additions per bar instead of one dependent chain."""
    a, b, c, d = windows[w], windows[w + 1], windows[w + 2], windows[w + 3]
    ta, tb, tc, td = sums[w], sums[w + 1], sums[w + 2], sums[w + 3]
    ra, rb, rc, rd = means[w], means[w + 1], means[w + 2], means[w + 3]
    for t in range(start, start + count):
        i = uint64(t)
        x = close[i]
        ta += x - close[i - uint64(a)]
        tb += x - close[i - uint64(b)]
        tc += x - close[i - uint64(c)]
        td += x - close[i - uint64(d)]
        k = uint64(t - start + 1)
        ra[k] = ta
        rb[k] = tb
        rc[k] = tc
        rd[k] = td
    sums[w], sums[w + 1], sums[w + 2], sums[w + 3] = ta, tb, tc, td


@njit(cache=True, nogil=True, error_model="numpy")
def block_means(  # noqa: PLR0917  # numba: positional parameters only
    close: np.ndarray,
    windows: np.ndarray,
    sums: np.ndarray,
    means: np.ndarray,
    finite: np.ndarray,
    start: int,
) -> int:
    """Fill ``means[w, 1 + k]`` with the SMA of ``windows[w]`` (sorted) at bar ``start + k``
    (NaN until the window is full) and ``means[w, 0]`` with the bar before's (the last
    block's last; NaN at first); carry each running sum in ``sums``; set ``finite[w]`` when
    the row has no NaN or infinity. The ``RollingMean`` recurrence (``sum += x - oldest``,
    then ``sum / window``), so the bits are the event engine's. Returns the bar count."""
    count = min(BLOCK, close.size - start)
    n = windows.size
    for w in range(n):
        means[w, 0] = means[w, BLOCK]
    w = 0
    if start >= windows[n - 1]:
        while w + 4 <= n:
            _sums4(close, start, count, windows, sums, means, w)
            w += 4
    for v in range(w, n):
        window = windows[v]
        total = sums[v]
        row = means[v]
        for t in range(start, start + count):
            x = close[t]
            total += x - close[t - window] if t >= window else x
            row[t - start + 1] = total
        sums[v] = total
    for v in range(n):
        window = windows[v]
        row = means[v]
        for k in range(count):
            row[uint64(k + 1)] = row[uint64(k + 1)] / window
        for t in range(start, min(start + count, window - 1)):
            row[t - start + 1] = np.nan
        ok = True
        for k in range(count + 1):
            ok &= np.isfinite(row[uint64(k)])
        finite[v] = ok
    return count


@njit(cache=True, nogil=True, error_model="numpy")
def segments(period_end: np.ndarray, start: int, count: int) -> np.ndarray:
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


@njit(cache=True, nogil=True, error_model="numpy")
def level_table() -> np.ndarray:
    """``floor(log2(n))`` for ``n`` in ``0 … BLOCK`` (0 for 0): a range table's level."""
    out = np.zeros(BLOCK + 1, dtype=np.int64)
    for n in range(2, BLOCK + 1):
        out[n] = out[n // 2] + 1
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def range_tables(closes: np.ndarray, count: int, highs: np.ndarray, lows: np.ndarray) -> None:
    """Sparse tables of the block's closes: ``highs[l, k]`` is the highest of the ``2**l``
    closes from bar ``k`` (``lows`` the lowest), so any run's extremes take two look-ups."""
    highs[0, :count] = closes[:count]
    lows[0, :count] = closes[:count]
    step = 1
    level = 1
    while 2 * step <= count:
        below_high, high = highs[level - 1], highs[level]
        below_low, low = lows[level - 1], lows[level]
        for k in range(count - 2 * step + 1):
            a = uint64(k)
            b = a + uint64(step)
            high[a] = max(below_high[a], below_high[b])
            low[a] = min(below_low[a], below_low[b])
        step *= 2
        level += 1


@njit(cache=True, nogil=True, error_model="numpy")
def _settled(  # noqa: PLR0917  # numba: positional parameters only
    fm: np.ndarray, sm: np.ndarray, i: int, close: np.ndarray, t: int, fast: int, slow: int
) -> float:
    """``fm[i] - sm[i]`` (the means at bar ``t``), a near tie settled exactly as
    ``sma_diff`` settles it."""
    f = fm[i]
    s = sm[i]
    d = float(f - s)
    if abs(d) <= TIE_TOLERANCE * (abs(f) + abs(s)):
        return settle_tie(d, exact_cross_sign(close, t, fast, slow))
    return d


@njit(cache=True, nogil=True, error_model="numpy")
def crosses(  # noqa: PLR0917  # numba: positional parameters only
    fm: np.ndarray,
    sm: np.ndarray,
    count: int,
    up: np.ndarray,
    down: np.ndarray,
    finite: bool,
    close: np.ndarray,
    start: int,
    fast: int,
    slow: int,
) -> None:
    """One pair's crosses in a block as bit masks (bit ``k % 64`` of word ``k // 64`` for
    bar ``k``): ``up`` where ``fast - slow`` turns ``> 0`` from ``<= 0``, ``down`` where it
    turns ``< 0`` from ``>= 0``; a NaN on either bar is no cross. Bar ``k``'s means are at
    index ``k + 1`` of ``fm`` and ``sm``, the bar before's at ``k``. ``finite``: neither row
    holds a NaN or infinity, so the NaN mask can be skipped. A difference within rounding
    distance of zero (rare) is settled exactly from ``close`` (the whole series; the block
    starts at bar ``start``), so an exact tie is no cross, as in ``sma_diff``."""
    d = fm[0] - sm[0]
    if start >= slow:  # the bar before the block has both means
        d = _settled(fm, sm, 0, close, start - 1, fast, slow)
    above = uint64(d > 0.0)
    below = uint64(d < 0.0)
    nan = uint64(d != d)  # noqa: PLR0124  # NaN test numba compiles to SIMD
    for q in range((count + 63) >> 6):
        first = uint64(q << 6) + _ONE
        pos = uint64(0)
        neg = uint64(0)
        bad = uint64(0)
        near = uint64(0)
        if finite:
            for u in range(64):
                i = first + uint64(u)
                f = fm[i]
                s = sm[i]
                d = f - s
                pos |= uint64(d > 0.0) << uint64(u)
                neg |= uint64(d < 0.0) << uint64(u)
                near |= uint64(abs(d) <= TIE_TOLERANCE * (abs(f) + abs(s))) << uint64(u)
        else:
            for u in range(64):
                i = first + uint64(u)
                f = fm[i]
                s = sm[i]
                d = f - s
                pos |= uint64(d > 0.0) << uint64(u)
                neg |= uint64(d < 0.0) << uint64(u)
                near |= uint64(abs(d) <= TIE_TOLERANCE * (abs(f) + abs(s))) << uint64(u)
                bad |= uint64(d != d) << uint64(u)  # noqa: PLR0124  # NaN test, as above
        if near:
            for u in range(min(64, count - (q << 6))):
                if (near >> uint64(u)) & _ONE:
                    d = _settled(fm, sm, (q << 6) + 1 + u, close, start + (q << 6) + u, fast, slow)
                    bit = _ONE << uint64(u)
                    pos = (pos | bit) if d > 0.0 else (pos & ~bit)
                    neg = (neg | bit) if d < 0.0 else (neg & ~bit)
        bad_before = (bad << _ONE) | nan
        up[q] = pos & ~((pos << _ONE) | above) & ~bad_before
        down[q] = neg & ~((neg << _ONE) | below) & ~bad_before
        above = pos >> uint64(63)
        below = neg >> uint64(63)
        nan = bad >> uint64(63)


@njit(cache=True, nogil=True, error_model="numpy")
def next_bit(words: np.ndarray, k: int, hi: int) -> int:
    """The first bar in ``[k, hi)`` whose bit is set in ``words``; ``hi`` if none."""
    w = k >> 6
    word = words[w] & (_ALL << uint64(k & 63))
    while word == 0:
        w += 1
        if (w << 6) >= hi:
            return hi
        word = words[w]
    lowest = word & (~word + _ONE)
    bit: int = _DEBRUIJN_INDEX[(lowest * _DEBRUIJN_U64) >> uint64(58)]
    return min((w << 6) + bit, hi)
