"""Streaming indicators agree with numpy on random data."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from stockyard.strategy.indicators import (
    ATR,
    MovingAveragePair,
    RollingMax,
    RollingMean,
    RollingMin,
    RollingOLS,
    RollingStd,
)

RNG = np.random.default_rng(7)
PRICES = 100.0 + np.cumsum(RNG.normal(0.0, 1.0, 2_000))


def _stream(update, values) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([update(float(v)) for v in values])


def _expect_windows(values: np.ndarray, period: int, reduce) -> np.ndarray:  # type: ignore[no-untyped-def]
    full = reduce(sliding_window_view(values, period), axis=1)
    return np.concatenate([np.full(period - 1, np.nan), full])


@pytest.mark.parametrize("period", [1, 2, 5, 30])
def test_rolling_mean_matches_numpy(period: int) -> None:
    got = _stream(RollingMean(period).update, PRICES)
    np.testing.assert_allclose(got, _expect_windows(PRICES, period, np.mean), rtol=1e-10)


@pytest.mark.parametrize(("period", "ddof"), [(2, 1), (20, 1), (20, 0), (1, 0)])
def test_rolling_std_matches_numpy(period: int, ddof: int) -> None:
    indicator = RollingStd(period, ddof=ddof)
    got = _stream(indicator.update, PRICES)
    expect = _expect_windows(PRICES, period, lambda w, axis: np.std(w, axis=axis, ddof=ddof))
    np.testing.assert_allclose(got, expect, rtol=1e-8, atol=1e-9)
    assert indicator.mean == pytest.approx(PRICES[-period:].mean())


def test_rolling_std_keeps_precision_on_a_large_level_with_a_small_spread() -> None:
    values = 1e6 + RNG.normal(0.0, 1e-3, 500)
    got = _stream(RollingStd(50).update, values)
    expect = _expect_windows(values, 50, lambda w, axis: np.std(w, axis=axis, ddof=1))
    np.testing.assert_allclose(got, expect, rtol=1e-5)


@pytest.mark.parametrize("period", [1, 3, 20])
def test_rolling_max_and_min_match_numpy(period: int) -> None:
    np.testing.assert_array_equal(
        _stream(RollingMax(period).update, PRICES), _expect_windows(PRICES, period, np.max)
    )
    np.testing.assert_array_equal(
        _stream(RollingMin(period).update, PRICES), _expect_windows(PRICES, period, np.min)
    )


def test_moving_average_pair_equals_two_rolling_means_bit_for_bit() -> None:
    pair, fast, slow = MovingAveragePair(10, 30), RollingMean(10), RollingMean(30)
    for value in PRICES:
        diff = pair.update(float(value))
        expect = fast.update(float(value)) - slow.update(float(value))
        assert diff == expect or (math.isnan(diff) and math.isnan(expect))
        if pair.ready:
            assert (pair.fast, pair.slow) == (fast.value, slow.value)


def test_atr_matches_wilders_definition_computed_with_numpy() -> None:
    period = 14
    close = PRICES
    high = close + RNG.uniform(0.0, 2.0, close.size)
    low = close - RNG.uniform(0.0, 2.0, close.size)
    previous = np.concatenate([[np.nan], close[:-1]])
    true_range = np.nanmax(
        np.stack([high - low, np.abs(high - previous), np.abs(low - previous)]), axis=0
    )
    expect = np.full(close.size, np.nan)
    expect[period - 1] = true_range[:period].mean()
    for i in range(period, close.size):
        expect[i] = (expect[i - 1] * (period - 1) + true_range[i]) / period
    atr = ATR(period)
    got = np.array([atr.update(h, lo, c) for h, lo, c in zip(high, low, close, strict=True)])
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_rolling_ols_matches_numpy_polyfit() -> None:
    x = PRICES
    y = 3.0 + 1.7 * x + RNG.normal(0.0, 0.5, x.size)
    ols = RollingOLS(40)
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        beta = ols.update(float(xi), float(yi))
        if i < 39:
            assert math.isnan(beta)
        elif i % 97 == 0:
            slope, intercept = np.polyfit(x[i - 39 : i + 1], y[i - 39 : i + 1], 1)
            assert beta == pytest.approx(slope, rel=1e-7)
            assert ols.alpha == pytest.approx(intercept, rel=1e-6, abs=1e-6)


def test_rolling_ols_is_undefined_while_x_is_constant() -> None:
    ols = RollingOLS(3)
    assert [math.isnan(ols.update(5.0, y)) for y in (1.0, 2.0, 3.0)] == [True, True, True]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_a_bad_period_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="period"):
        RollingMean(bad)  # type: ignore[arg-type]


def test_means_that_are_exactly_equal_are_a_tie_and_never_a_cross(
    exact_ties: tuple[list[float], list[int]],
) -> None:
    fast, slow = 10, 30
    closes, ties = exact_ties
    assert len(ties) >= 20
    pair = MovingAveragePair(fast, slow)
    diffs = [pair.update(c) for c in closes]
    assert all(diffs[t] == 0.0 for t in ties)
    # The plain running-sum difference (the rule before ties were settled) gets some of
    # these wrong, so this test would catch the drift coming back.
    fast_mean, slow_mean = RollingMean(fast), RollingMean(slow)
    naive = [fast_mean.update(c) - slow_mean.update(c) for c in closes]
    assert any(naive[t] != 0.0 for t in ties)
    # Everywhere else the sign is the exact sign of the true means.
    for t in range(slow - 1, len(closes), 97):
        window = [Fraction(repr(c)) for c in closes[t - slow + 1 : t + 1]]
        exact = sum(window[-fast:]) / fast - sum(window) / slow
        assert (diffs[t] > 0) == (exact > 0)
        assert (diffs[t] < 0) == (exact < 0)
