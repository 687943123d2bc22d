"""Bars and runs the backtest tests share (seeded synthetic data)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from stockyard.backtest import Results
from stockyard.backtest.vector import run_sma_cross
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource


@pytest.fixture(scope="session")
def minute_bars() -> pa.Table:
    return SyntheticSource(seed=11).get_bars(
        ["AAPL"],
        Timeframe.MINUTE,
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 2, 1, tzinfo=UTC),
    )["AAPL"]


@pytest.fixture(scope="session")
def daily_bars() -> pa.Table:
    return SyntheticSource(seed=12).get_bars(
        ["MSFT"], Timeframe.DAY, datetime(2019, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    )["MSFT"]


@pytest.fixture(scope="session")
def minute_run(minute_bars: pa.Table) -> Results:
    return run_sma_cross(minute_bars, symbol="AAPL", timeframe="1Min")


@pytest.fixture(scope="session")
def daily_run(daily_bars: pa.Table) -> Results:
    return run_sma_cross(daily_bars, symbol="MSFT", fast=5, slow=20, timeframe="1Day")
