"""Fixtures of the unit tests that several packages share."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest


def exact_tie_series(
    count: int, *, fast: int, slow: int, seed: int
) -> tuple[list[float], list[int]]:
    """Four-decimal prices (a random walk in 0.0001 ticks) in which, at chosen bars, the fast
    and slow means of the decimal prices are *exactly* equal (checked with fractions): the
    closing tick of such a bar is set to ``(sum of the slow window's other ticks - (slow/fast)
    * the fast window's other ticks) / (slow/fast - 1)`` whenever that is a whole tick near
    the last price."""
    rng = random.Random(seed)
    ticks = [1_000_000]
    ties: list[int] = []
    ratio = Fraction(slow, fast)
    while len(ticks) < count:
        t = len(ticks)
        if t >= slow and (not ties or t - ties[-1] > slow):
            rest_fast = sum(ticks[t - fast + 1 :])
            rest_slow = sum(ticks[t - slow + 1 :])
            x = (rest_slow - ratio * rest_fast) / (ratio - 1)
            if x.denominator == 1 and abs(x - ticks[-1]) <= 40:
                ticks.append(int(x))
                ties.append(t)
                continue
        ticks.append(ticks[-1] + rng.choice((-3, -2, -1, 0, 1, 2, 3)))
    closes = [tick / 10_000 for tick in ticks]  # 4 decimals, as a CSV of prices reads
    for t in ties:
        window = [Fraction(repr(c)) for c in closes[t - slow + 1 : t + 1]]
        assert sum(window[-fast:]) / fast == sum(window) / slow
    return closes, ties


@pytest.fixture(scope="session")
def exact_ties() -> tuple[list[float], list[int]]:
    """200,000 four-decimal closes whose 10- and 30-bar means tie exactly at the listed bars."""
    return exact_tie_series(200_000, fast=10, slow=30, seed=21)
