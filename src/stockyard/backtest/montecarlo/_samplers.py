"""How each Monte Carlo method draws a path's returns (vectorised, from one generator)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["Sampler", "block_sampler", "delay_slippage_sampler", "trade_sampler"]

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def trade_sampler(returns: np.ndarray, *, replace: bool) -> Sampler:
    """Each path takes the trades' returns in a random order: drawn with replacement (a
    bootstrap) or a permutation of all of them (``replace=False``)."""
    values = np.asarray(returns, dtype=np.float64)

    def draw(rng: np.random.Generator, m: int) -> np.ndarray:
        if replace:
            picks = rng.integers(0, values.size, size=(m, values.size))
        else:
            picks = rng.permuted(np.broadcast_to(np.arange(values.size), (m, values.size)), axis=1)
        return values[picks]

    return draw


def block_sampler(
    returns: np.ndarray, *, steps: int, block_length: float, stationary: bool
) -> Sampler:
    """Blocks of consecutive returns from random starts, wrapping round the end (circular).

    ``stationary``: block lengths are geometric with mean ``block_length`` (Politis and
    Romano's stationary bootstrap); otherwise every block is ``round(block_length)`` long.
    """
    values = np.asarray(returns, dtype=np.float64)
    n = values.size
    # The data repeated past its end: a block starting anywhere runs on without a modulo.
    circular = np.resize(values, n + steps)
    p = 1.0 / block_length
    fixed = max(1, round(block_length))
    positions = np.arange(steps, dtype=np.int64)

    def draw(rng: np.random.Generator, m: int) -> np.ndarray:
        if stationary:
            lengths = _geometric_lengths(rng, m, steps, p)
        else:
            lengths = np.full((m, math.ceil(steps / fixed)), fixed, dtype=np.int64)
        starts = rng.integers(0, n, size=lengths.shape)
        begins = np.cumsum(lengths, axis=1) - lengths
        np.clip(steps - begins, 0, lengths, out=lengths)  # the last block stops at ``steps``
        # Within a block, index = start + (t - begin): a per-block offset plus t.
        offsets = np.repeat((starts - begins).ravel(), lengths.ravel()).reshape(m, steps)
        offsets += positions
        drawn: np.ndarray = circular[offsets]
        return drawn

    return draw


def _geometric_lengths(rng: np.random.Generator, m: int, steps: int, p: float) -> np.ndarray:
    """Block lengths per path whose sum reaches ``steps`` on every path."""
    count = math.ceil(steps * p * 1.5) + 16
    lengths = rng.geometric(p, size=(m, count))
    while bool((lengths.sum(axis=1) < steps).any()):
        lengths = np.concatenate((lengths, rng.geometric(p, size=(m, count))), axis=1)
    return lengths.astype(np.int64, copy=False)


def delay_slippage_sampler(
    *,
    entry_index: np.ndarray,
    exit_index: np.ndarray,
    exit_price: np.ndarray,
    sign: np.ndarray,
    qty: np.ndarray,
    fees: np.ndarray,
    equity_before: np.ndarray,
    opens: list[np.ndarray],
    symbol_of: np.ndarray,
    max_delay: int,
    max_slippage: float,
) -> Sampler:
    """Each trade enters ``0…max_delay`` bars late (uniform; at the open of that bar, never
    after its exit bar) and pays a uniform ``0…max_slippage`` (fraction) against it on
    entry and exit. Its P&L is recomputed and taken as a return on the equity before it."""
    count = entry_index.size

    def draw(rng: np.random.Generator, m: int) -> np.ndarray:
        delay = rng.integers(0, max_delay + 1, size=(m, count))
        slip = rng.uniform(0.0, max_slippage, size=(2, m, count))
        late = np.minimum(entry_index + delay, exit_index)
        entry = np.empty((m, count))
        for k, opens_k in enumerate(opens):
            mine = symbol_of == k
            entry[:, mine] = opens_k[late[:, mine]]
        entry *= 1.0 + sign * slip[0]
        leave = exit_price * (1.0 - sign * slip[1])
        pnl = sign * (leave - entry) * qty - fees
        returns: np.ndarray = pnl / equity_before
        return returns

    return draw
