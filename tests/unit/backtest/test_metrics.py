"""Our formulas against empyrical-reloaded (a well-kept library), and by hand."""

from __future__ import annotations

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from stockyard.backtest import EquityCurve, PriceSeries, Results, Trade, compute_metrics
from stockyard.backtest.metrics import drawdown, period_ends, period_returns
from stockyard.core import PositionSide

DAY = 86_400_000_000_000


def _daily(returns: np.ndarray, bench: np.ndarray | None = None) -> Results:
    """A run whose daily closes follow ``returns`` from 100,000 (bars stamped 05:00 UTC)."""
    days = pd.bdate_range("2021-01-04", periods=returns.size, tz="UTC") + pd.Timedelta(hours=5)
    ts = days.as_unit("ns").asi8
    equity = 100_000.0 * np.cumprod(1.0 + returns)
    benchmark = None
    if bench is not None:
        close = 50.0 * np.cumprod(1.0 + bench)
        benchmark = PriceSeries(
            symbol="SPY", timestamps=ts, open=np.r_[50.0, close[:-1]], close=close
        )
    return Results(
        strategy="demo",
        timeframe="1Day",
        starting_cash=100_000.0,
        equity=EquityCurve(timestamps=ts, equity=equity, cash=equity),
        benchmark=benchmark,
    )


@pytest.fixture(scope="module")
def returns() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    bench = rng.normal(0.0004, 0.011, 756)
    own = 0.3 * bench + rng.normal(0.0003, 0.008, 756)
    return own, bench


def test_return_and_risk_metrics_match_empyrical(returns: tuple[np.ndarray, np.ndarray]) -> None:
    own, bench = returns
    m = compute_metrics(_daily(own, bench))
    r = pd.Series(own)
    assert m.periods_per_year == 252
    assert m.total_return == pytest.approx(ep.cum_returns_final(r), rel=1e-10)
    assert m.cagr == pytest.approx(ep.cagr(r), rel=1e-10)
    assert m.annual_volatility == pytest.approx(ep.annual_volatility(r), rel=1e-10)
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(r), rel=1e-10)
    assert m.sortino == pytest.approx(ep.sortino_ratio(r), rel=1e-10)
    assert m.max_drawdown == pytest.approx(ep.max_drawdown(r), rel=1e-10)
    assert m.calmar == pytest.approx(ep.calmar_ratio(r), rel=1e-10)
    alpha, beta = ep.alpha_beta(r, pd.Series(bench))
    assert m.alpha == pytest.approx(alpha, rel=1e-9)
    assert m.beta == pytest.approx(beta, rel=1e-9)
    assert m.benchmark_return == pytest.approx(ep.cum_returns_final(pd.Series(bench)), rel=1e-10)


def test_a_risk_free_rate_is_taken_off_like_empyrical_does(
    returns: tuple[np.ndarray, np.ndarray],
) -> None:
    own, _ = returns
    daily_rf = 1.04 ** (1 / 252) - 1
    m = compute_metrics(_daily(own), risk_free=0.04)
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(pd.Series(own), risk_free=daily_rf), rel=1e-10)
    assert m.alpha is None
    assert m.beta is None


def test_intraday_bars_are_measured_on_daily_returns(minute_run: Results) -> None:
    periods = period_ends(minute_run.equity.timestamps)
    assert periods.kind == "day"
    assert periods.per_year == 252
    daily = period_returns(minute_run.equity.equity, periods.ends, start_value=100_000.0)
    m = compute_metrics(minute_run)
    assert m.periods == daily.size == 21  # the NYSE sessions of January 2024 from the 2nd
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(pd.Series(daily)), rel=1e-10)


def test_bars_on_weekends_make_a_365_day_year() -> None:
    ts = np.arange(10, dtype=np.int64) * DAY + 1_704_067_200_000_000_000  # from Mon 2024-01-01
    assert period_ends(ts).per_year == 365
    weekly = np.arange(10, dtype=np.int64) * 7 * DAY
    assert period_ends(weekly).per_year == 52


def test_drawdown_depth_and_longest_time_under_water_by_hand() -> None:
    ts = np.arange(6, dtype=np.int64) * DAY
    # peak 110 at day 1, down to 88 (-20 %) at day 3, back to 110 at day 4; then below again
    dd = drawdown(ts, np.array([100.0, 110.0, 99.0, 88.0, 110.0, 109.0]), start_value=100.0)
    assert dd.max_drawdown == pytest.approx(-0.2)
    assert dd.max_duration_days == pytest.approx(3.0)  # day 1 to day 4


def _trade(pnl: float, fees: float = 1.0) -> Trade:
    return Trade(
        symbol="X",
        side=PositionSide.LONG,
        qty=10.0,
        entry_time=0,
        entry_price=100.0,
        exit_time=1,
        exit_price=100.0 + (pnl + fees) / 10.0,
        fees=fees,
        pnl=pnl,
    )


def test_trade_figures_by_hand() -> None:
    base = _daily(np.full(5, 0.001))
    run = Results(
        strategy="demo",
        timeframe="1Day",
        starting_cash=100_000.0,
        equity=base.equity,
        trades=(_trade(30.0), _trade(-10.0), _trade(20.0), _trade(-20.0)),
    )
    m = compute_metrics(run)
    assert m.num_trades == 4
    assert m.win_rate == 0.5
    assert m.profit_factor == pytest.approx(50.0 / 30.0)
    assert m.expectancy == pytest.approx(5.0)
    assert m.avg_trade == pytest.approx(5.0 / 1000.0)
    assert m.avg_win == 25.0
    assert m.avg_loss == -15.0
    assert m.best_trade == pytest.approx(0.03)
    assert m.worst_trade == pytest.approx(-0.02)


def test_undefined_metrics_are_none_not_a_made_up_number() -> None:
    flat = _daily(np.zeros(10))
    m = compute_metrics(flat)
    assert m.sharpe is None
    assert m.sortino is None
    assert m.calmar is None
    assert m.win_rate is None
    assert m.profit_factor is None
    assert m.max_drawdown == 0.0
    assert m.max_drawdown_days == 0.0
    assert m.total_return == 0.0


def test_exposure_and_turnover_of_a_real_run(daily_run: Results) -> None:
    m = compute_metrics(daily_run)
    held = daily_run.equity.positions["MSFT"] != 0
    assert m.exposure == pytest.approx(held.mean())
    notional = sum(o.qty * (o.fill_price or 0) for o in daily_run.orders)
    assert m.turnover == pytest.approx(notional / daily_run.equity.equity.mean())
    assert m.num_orders == len([o for o in daily_run.orders if o.fill_price is not None])
