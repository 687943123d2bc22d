"""A backtest starts cold unless asked: ``BacktestConfig(warmup=N)`` feeds the first N bars
through the strategies' warm-up (no order leaves it) and trading starts after them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.backtest.test_engine import data, series

from stockyard.backtest import BacktestConfig, EventEngine, backtest_config
from stockyard.config import load_settings
from stockyard.strategy import BarRow, Strategy


class EveryBar(Strategy):
    """Buys 1 on every bar; remembers the history length behind each accepted order."""

    name = "every_bar"

    def on_start(self) -> None:
        self.accepted: list[int] = []

    def on_bar(self, bar: BarRow) -> None:
        if self.buy(bar.symbol, 1).accepted:
            self.accepted.append(len(self.history(bar.symbol)))


def _bars() -> list[tuple[float, float, float, float]]:
    return [(100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i) for i in range(12)]


@pytest.mark.parametrize(("warmup", "first"), [(0, 1), (5, 6)])
def test_orders_start_after_the_warm_up_bars(warmup: int, first: int) -> None:
    bot = EveryBar(symbols=["AAPL"])
    run = EventEngine(data(series(_bars())), [bot], BacktestConfig(warmup=warmup)).run()
    assert bot.accepted[0] == first  # the first order sees the warm-up bars behind it
    assert len(bot.accepted) == 12 - warmup
    assert bot.context.warmup_signals == warmup  # refused, never sent
    assert len(run.refusals) == 0


def test_a_negative_warm_up_is_refused() -> None:
    with pytest.raises(ValueError, match="warmup must be >= 0"):
        BacktestConfig(warmup=-1)


def test_the_setting_asks_for_it_and_the_default_is_cold(tmp_path: Path) -> None:
    home = {"STOCKYARD_HOME": str(tmp_path)}
    assert backtest_config(load_settings(env=home)).warmup == 0
    asked = load_settings(env={**home, "STOCKYARD_BACKTEST__WARMUP": "30"})
    assert backtest_config(asked).warmup == 30
