from __future__ import annotations

import numpy as np
import pytest

from stockyard.backtest import Results, compute_metrics, monte_carlo
from stockyard.backtest.montecarlo import BAND_PERCENTILES, bootstrap_returns


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(daily_run: Results) -> None:
    for method in ("trades", "permutation", "blocks", "fixed-blocks", "delay"):
        a = monte_carlo(daily_run, method=method, paths=300, seed=4)
        b = monte_carlo(daily_run, method=method, paths=300, seed=4)
        assert np.array_equal(a.final_equity, b.final_equity)
        assert np.array_equal(a.bands, b.bands)
        assert a.to_dict().keys() == b.to_dict().keys()
    c = monte_carlo(daily_run, method="trades", paths=300, seed=5)
    assert not np.array_equal(c.final_equity, a.final_equity)


def test_a_permutation_keeps_the_final_equity_and_changes_only_the_path(daily_run: Results) -> None:
    mc = monte_carlo(daily_run, method="permutation", paths=200, seed=1)
    closed = daily_run.starting_cash + sum(t.pnl for t in daily_run.trades)
    assert np.allclose(mc.final_equity, closed, rtol=1e-12)
    assert mc.max_drawdown.std() > 0
    assert mc.prob_loss in (0.0, 1.0)


def test_no_delay_and_no_slippage_reproduce_the_trades(daily_run: Results) -> None:
    mc = monte_carlo(daily_run, method="delay", paths=50, seed=1, max_delay=0, max_slippage_bps=0)
    closed = daily_run.starting_cash + sum(t.pnl for t in daily_run.trades)
    assert np.allclose(mc.final_equity, closed, rtol=1e-12)
    worse = monte_carlo(daily_run, method="delay", paths=500, seed=1, max_slippage_bps=50)
    assert np.median(worse.final_equity) < closed


def test_bands_are_ordered_and_start_at_the_starting_cash(minute_run: Results) -> None:
    mc = monte_carlo(minute_run, method="blocks", paths=1000, seed=2, steps=600)
    assert mc.steps == 600
    assert mc.years == pytest.approx(600 / 252)
    assert mc.bands.shape[0] == len(BAND_PERCENTILES)
    assert np.all(mc.bands[:, 0] == minute_run.starting_cash)
    assert np.all(np.diff(mc.bands, axis=0) >= 0)
    assert mc.band_steps[0] == 0
    assert mc.band_steps[-1] == 600
    for i, p in enumerate(BAND_PERCENTILES):
        assert mc.bands[i, -1] == pytest.approx(np.percentile(mc.final_equity, p), rel=1e-12)


def test_probabilities_of_loss_and_ruin_count_paths() -> None:
    crash = np.array([-0.3, 0.01, 0.02, -0.01, 0.0])
    mc = bootstrap_returns(crash, paths=2000, steps=50, seed=3, block_length=1, ruin_level=0.5)
    assert 0 < mc.prob_ruin < 1
    assert mc.prob_ruin == np.mean(mc.ruined)
    assert mc.prob_loss == np.mean(mc.final_equity < 1.0)
    assert np.all(mc.max_drawdown <= 0)
    assert np.all(mc.max_drawdown >= -1)
    # touching half the start means falling at least half from a peak (>= the start)
    assert np.all(mc.max_drawdown[mc.ruined] <= -0.5)


def test_cagr_follows_final_equity_over_the_span(daily_run: Results) -> None:
    mc = monte_carlo(daily_run, method="trades", paths=100, seed=9)
    years = compute_metrics(daily_run).years
    assert mc.years == pytest.approx(years)
    expected = (mc.final_equity / daily_run.starting_cash) ** (1 / years) - 1
    assert np.allclose(mc.cagr, expected)


def test_fixed_blocks_copy_runs_of_consecutive_returns() -> None:
    values = np.arange(1, 101, dtype=float) / 10_000
    mc = bootstrap_returns(values, paths=5, steps=40, seed=1, block_length=10, stationary=False)
    assert mc.method == "fixed-blocks"
    assert mc.steps == 40


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "nope"}, "unknown Monte Carlo method"),
        ({"paths": 0}, "paths"),
        ({"ruin_level": 1.5}, "ruin_level"),
        ({"method": "blocks", "block_length": 0.5}, "block_length"),
        ({"method": "delay", "max_delay": -1}, "max_delay"),
    ],
)
def test_bad_settings_are_refused(
    daily_run: Results, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        monte_carlo(daily_run, **kwargs)  # type: ignore[arg-type]


def test_trade_methods_need_trades(daily_run: Results) -> None:
    empty = Results(
        strategy="idle", timeframe="1Day", starting_cash=1000.0, equity=daily_run.equity
    )
    with pytest.raises(ValueError, match="needs trades"):
        monte_carlo(empty, method="trades")
