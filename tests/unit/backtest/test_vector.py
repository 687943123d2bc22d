"""The research path: the same bits as the event path's indicators, the same trades as a
plain reading of the rule, and a sweep that agrees with single runs."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from stockyard.backtest import Results, compute_metrics
from stockyard.backtest.vector import (
    Costs,
    parse_range,
    run_signals,
    run_sma_cross,
    sma_cross_signals,
    sma_diff,
    sma_pairs,
    sweep_sma,
)
from stockyard.core import OrderStatus
from stockyard.strategy.indicators import MovingAveragePair


def _reference_sma_cross(
    opens: list[float], closes: list[float], *, fast: int, slow: int, qty: float, costs: Costs
) -> list[tuple[int, float, int, float, float]]:
    """The bot's rule read plainly, one bar at a time: (entry bar, price, exit bar, price,
    pnl). Fills at the next bar's open; slippage against; fees per fill."""
    pair = MovingAveragePair(fast, slow)
    slip = costs.slippage_bps / 10_000
    prev = math.nan
    held = False
    pending: str | None = None
    entry: tuple[int, float, float] | None = None
    trades = []

    def fee(price: float) -> float:
        return (
            costs.fee_per_order + costs.fee_per_share * qty + costs.fee_bps / 10_000 * price * qty
        )

    for t, (o, c) in enumerate(zip(opens, closes, strict=True)):
        if pending == "buy":
            price = o * (1 + slip)
            entry, held = (t, price, fee(price)), True
        elif pending == "sell" and entry is not None:
            price = o * (1 - slip)
            pnl = price * qty - fee(price) - (entry[1] * qty + entry[2])
            trades.append((entry[0], entry[1], t, price, pnl))
            held, entry = False, None
        pending = None
        diff = pair.update(c)
        if diff > 0 and prev <= 0 and not held:
            pending = "buy"
        elif diff < 0 and prev >= 0 and held:
            pending = "sell"
        prev = diff
    return trades


def test_sma_difference_has_the_same_bits_as_the_strategy_indicator(minute_bars: pa.Table) -> None:
    closes = minute_bars.column("close").to_numpy()[:5000]
    for fast, slow in ((10, 30), (3, 7), (50, 200)):
        pair = MovingAveragePair(fast, slow)
        expected = np.array([pair.update(float(c)) for c in closes])
        got = sma_diff(closes, fast, slow)
        assert np.array_equal(got, expected, equal_nan=True)


@pytest.mark.parametrize(
    "costs",
    [Costs(), Costs(slippage_bps=5.0, fee_per_order=1.0, fee_per_share=0.005, fee_bps=0.3)],
)
def test_sma_cross_makes_the_trades_the_rule_says(minute_bars: pa.Table, costs: Costs) -> None:
    results = run_sma_cross(minute_bars, symbol="AAPL", fast=10, slow=30, qty=100, costs=costs)
    opens = minute_bars.column("open").to_pylist()
    closes = minute_bars.column("close").to_pylist()
    ts = minute_bars.column("timestamp").cast(pa.int64()).to_pylist()
    expected = _reference_sma_cross(opens, closes, fast=10, slow=30, qty=100.0, costs=costs)
    assert len(expected) > 100
    got = [(t.entry_time, t.entry_price, t.exit_time, t.exit_price, t.pnl) for t in results.trades]
    assert got == [(ts[a], pa_, ts[b], pb, pnl) for a, pa_, b, pb, pnl in expected]


def test_signals_fire_only_once_both_averages_are_defined() -> None:
    closes = np.array([5.0, 4, 3, 2, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])
    entries, exits = sma_cross_signals(closes, fast=2, slow=4)
    assert not entries[:4].any()
    assert not exits[:4].any()
    assert np.flatnonzero(entries).tolist() == [6]
    assert np.flatnonzero(exits).tolist() == [11]


def test_a_signal_on_the_last_bar_has_no_fill_and_the_position_stays_open(
    daily_bars: pa.Table,
) -> None:
    n = daily_bars.num_rows
    entries = np.zeros(n, dtype=bool)
    exits = np.zeros(n, dtype=bool)
    entries[n - 10] = True
    exits[n - 1] = True
    results = run_signals(daily_bars, entries, exits, symbol="MSFT", qty=10)
    assert [o.status for o in results.orders] == [OrderStatus.FILLED, OrderStatus.CANCELED]
    assert results.trades == ()
    position = results.equity.positions["MSFT"]
    assert position[n - 10] == 0
    assert position[n - 9] == 10
    assert position[-1] == 10
    close = daily_bars.column("close").to_numpy()
    cash = results.equity.cash[-1]
    assert results.equity.equity[-1] == cash + 10 * close[-1]


def test_a_sweep_agrees_with_single_runs_pair_by_pair(minute_bars: pa.Table) -> None:
    fast, slow = sma_pairs([3, 10, 25], [20, 30, 60])
    costs = Costs(slippage_bps=2.0, fee_per_order=0.5)
    sweep = sweep_sma(minute_bars, symbol="AAPL", fast=fast, slow=slow, costs=costs)
    assert len(sweep) == 8  # (25, 20) has fast >= slow
    for i in range(len(sweep)):
        run = run_sma_cross(
            minute_bars, symbol="AAPL", fast=int(fast[i]), slow=int(slow[i]), costs=costs
        )
        m = compute_metrics(run)
        assert sweep.num_orders[i] == m.num_orders
        assert sweep.num_trades[i] == m.num_trades
        assert sweep.final_equity[i] == m.final_equity
        assert sweep.win_rate[i] == pytest.approx(m.win_rate, abs=0)
        assert sweep.max_drawdown[i] == pytest.approx(m.max_drawdown, rel=1e-12)
        assert sweep.sharpe[i] == pytest.approx(m.sharpe, rel=1e-9)


def test_a_sweep_reports_progress_and_picks_the_best_pair(minute_bars: pa.Table) -> None:
    fast, slow = sma_pairs(range(2, 30, 3), range(20, 80, 10))
    seen: list[tuple[int, int]] = []
    sweep = sweep_sma(
        minute_bars,
        symbol="AAPL",
        fast=fast,
        slow=slow,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (len(sweep), len(sweep))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    best = sweep.best("total_return")
    assert sweep.total_return[best] == np.nanmax(sweep.total_return)
    assert sweep.rows()[best]["fast"] == int(sweep.fast[best])


@pytest.mark.parametrize(
    ("text", "values"),
    [("5:20:5", [5, 10, 15, 20]), ("3:5", [3, 4, 5]), ("30,10,20", [10, 20, 30])],
)
def test_ranges_include_their_stop(text: str, values: list[int]) -> None:
    assert parse_range(text) == values


@pytest.mark.parametrize("text", ["5:x", "0:10", "10:5", "5:10:0", "", "1:2:3:4"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad range"):
        parse_range(text)


def test_bad_inputs_get_clear_errors(minute_bars: pa.Table) -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        run_sma_cross(minute_bars, symbol="AAPL", fast=30, slow=30)
    with pytest.raises(ValueError, match="one value per bar"):
        run_signals(minute_bars, np.zeros(3, bool), np.zeros(3, bool), symbol="AAPL")
    with pytest.raises(ValueError, match="slippage_bps"):
        Costs(slippage_bps=-1.0)
    with pytest.raises(ValueError, match="1 <= fast < slow"):
        sweep_sma(minute_bars, symbol="AAPL", fast=[30], slow=[20])
    with pytest.raises(ValueError, match="no bars"):
        run_sma_cross(minute_bars.slice(0, 0), symbol="AAPL")


def test_the_same_data_gives_byte_identical_json(minute_bars: pa.Table) -> None:
    def once() -> bytes:
        run = run_sma_cross(minute_bars, symbol="AAPL", costs=Costs(slippage_bps=1.0))
        return run.to_json(extra={"metrics": compute_metrics(run).to_dict()})

    first = once()
    assert once() == first
    assert (
        Results.from_json(first).to_json(
            extra={"metrics": compute_metrics(Results.from_json(first)).to_dict()}
        )
        == first
    )


def test_exactly_equal_means_are_no_cross_on_the_research_path_either(
    exact_ties: tuple[list[float], list[int]],
) -> None:
    closes, ties = exact_ties
    array = np.array(closes)
    pair = MovingAveragePair(10, 30)
    expected = np.array([pair.update(c) for c in closes])
    got = sma_diff(array, 10, 30)
    assert np.array_equal(got, expected, equal_nan=True)
    assert all(got[t] == 0.0 for t in ties)
    entries, exits = sma_cross_signals(array, fast=10, slow=30)
    assert not entries[ties].any()
    assert not exits[ties].any()
