"""The sweep kernel against single runs: every pair gets what its own run gets, whatever the
pair order, the thread count, ties in the averages or windows longer than a block."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numba
import numpy as np
import pyarrow as pa
import pytest

from stockyard.backtest import compute_metrics
from stockyard.backtest.vector import Costs, SweepResult, run_sma_cross, sweep_sma

_COSTS = Costs(slippage_bps=3.0, fee_per_order=0.4, fee_per_share=0.002, fee_bps=0.2)


def _bars(closes: np.ndarray, *, seed: int) -> pa.Table:
    """Five-minute bars from ``closes``; each open is near the previous close."""
    rng = np.random.default_rng(seed)
    opens = np.concatenate(([closes[0]], closes[:-1])) * (1 + rng.normal(0, 2e-4, closes.size))
    start = int(datetime(2024, 3, 4, 14, 30, tzinfo=UTC).timestamp()) * 10**9
    stamps = start + np.arange(closes.size, dtype=np.int64) * 300 * 10**9
    return pa.table(
        {
            "timestamp": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
            "open": opens,
            "close": closes,
        }
    )


def _random_walk(count: int, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))


def _tick_walk(count: int, *, seed: int) -> np.ndarray:
    """Quarter-dollar ticks that often stand still: the averages tie (fast == slow) often."""
    rng = np.random.default_rng(seed)
    return 50.0 + 0.25 * np.cumsum(rng.choice([-1, 0, 0, 0, 1], count))


def _assert_each_pair_matches_its_own_run(bars: pa.Table, sweep: SweepResult) -> None:
    for i in range(len(sweep)):
        fast, slow = int(sweep.fast[i]), int(sweep.slow[i])
        run = run_sma_cross(bars, symbol="X", fast=fast, slow=slow, qty=50, costs=_COSTS)
        m = compute_metrics(run)
        where = f"pair {i} ({fast}, {slow})"
        assert sweep.num_orders[i] == m.num_orders, where
        assert sweep.num_trades[i] == m.num_trades, where
        assert sweep.final_equity[i] == m.final_equity, where
        if m.win_rate is None:
            assert math.isnan(sweep.win_rate[i]), where
        else:
            assert sweep.win_rate[i] == m.win_rate, where
        assert sweep.max_drawdown[i] == pytest.approx(m.max_drawdown, rel=1e-12, abs=0), where
        if m.sharpe is None:
            assert math.isnan(sweep.sharpe[i]), where
        else:
            assert sweep.sharpe[i] == pytest.approx(m.sharpe, rel=1e-9), where


def test_pairs_in_any_order_with_repeats_each_get_their_own_runs_result() -> None:
    bars = _bars(_random_walk(5000, seed=3), seed=4)
    fast = [30, 2, 1, 7, 2, 45, 13, 1, 30]
    slow = [90, 5, 2, 1500, 5, 400, 14, 3000, 31]  # 1500 and 3000 outlast a 1,024-bar block
    sweep = sweep_sma(bars, symbol="X", fast=fast, slow=slow, qty=50, costs=_COSTS)
    assert sweep.fast.tolist() == fast
    assert sweep.slow.tolist() == slow
    assert sweep.num_orders[1] == sweep.num_orders[4]  # the same pair twice
    assert sweep.num_orders[0] > 20
    _assert_each_pair_matches_its_own_run(bars, sweep)


def test_averages_that_tie_cross_only_as_the_rule_says() -> None:
    bars = _bars(_tick_walk(4000, seed=5), seed=6)
    fast = [1, 2, 3, 4, 5, 8]
    slow = [2, 4, 6, 9, 20, 21]
    sweep = sweep_sma(bars, symbol="X", fast=fast, slow=slow, qty=50, costs=_COSTS)
    assert sweep.total_orders > 200
    _assert_each_pair_matches_its_own_run(bars, sweep)


def test_a_window_longer_than_the_series_trades_nothing_and_keeps_the_cash() -> None:
    bars = _bars(_random_walk(1500, seed=7), seed=8)
    sweep = sweep_sma(bars, symbol="X", fast=[10, 3], slow=[2000, 8], cash=25_000.0)
    assert sweep.num_orders[0] == 0
    assert sweep.final_equity[0] == 25_000.0
    assert sweep.max_drawdown[0] == 0.0
    assert math.isnan(sweep.win_rate[0])
    assert sweep.num_orders[1] > 0


def test_the_thread_count_changes_no_bit_of_the_result() -> None:
    bars = _bars(_random_walk(6000, seed=9), seed=10)
    rng = np.random.default_rng(11)
    fast = rng.integers(1, 40, 60)
    slow = fast + rng.integers(1, 300, 60)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sweep_sma(bars, symbol="X", fast=fast, slow=slow, costs=_COSTS)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = sweep_sma(bars, symbol="X", fast=fast, slow=slow, costs=_COSTS)
    finally:
        numba.set_num_threads(before)
    for name in ("num_orders", "num_trades", "final_equity", "max_drawdown", "sharpe"):
        assert np.array_equal(getattr(one, name), getattr(many, name), equal_nan=True), name


def test_exactly_equal_means_cross_in_the_sweep_as_in_single_runs(
    exact_ties: tuple[list[float], list[int]],
) -> None:
    closes = np.array(exact_ties[0][:20_000])  # ties fall in the middle of 1,024-bar blocks too
    bars = _bars(closes, seed=12)
    sweep = sweep_sma(bars, symbol="X", fast=[10, 3, 10], slow=[30, 30, 31], qty=50, costs=_COSTS)
    assert sweep.num_orders[0] > 100
    _assert_each_pair_matches_its_own_run(bars, sweep)
