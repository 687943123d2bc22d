"""Seeded bars for the ML tests: a plain synthetic set and the same with a planted signal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stockyard.backtest import BacktestConfig, BarData, parse_fees, parse_slippage
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource, plant_signal
from stockyard.execution import ExchangeConfig

SYMBOLS = ("AAPL", "SPY")
SEED = 7
START = datetime(2024, 1, 2, tzinfo=UTC)
END = datetime(2024, 1, 22, tzinfo=UTC)  # 13 sessions, 5,070 one-minute bars a symbol
SMALL = {"train_bars": 3000, "test_bars": 600, "retrain_every": 780}


def bars(*, planted: bool, end: datetime = END) -> BarData:
    tables = SyntheticSource(seed=SEED).get_bars(SYMBOLS, Timeframe.MINUTE, START, end)
    if planted:
        tables = {s: plant_signal(t, symbol=s, seed=SEED) for s, t in tables.items()}
    return BarData.from_tables(tables, timeframe=Timeframe.MINUTE)


def costly() -> BacktestConfig:
    """Fees of $0.001 a share and 0.5 bp of slippage on every fill."""
    stock, _crypto = parse_fees("per-share:0.001")
    exchange = ExchangeConfig(stock_fees=stock, slippage=parse_slippage("bps:0.5"))
    return BacktestConfig(exchange=exchange, cash=Decimal(100_000))


@pytest.fixture(scope="session")
def planted_bars() -> BarData:
    return bars(planted=True)


@pytest.fixture(scope="session")
def plain_bars() -> BarData:
    return bars(planted=False)
