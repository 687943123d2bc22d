"""The event engine and the vectorised path make the same sma_cross trades (STYLE §8)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from stockyard.backtest import BarData, backtest
from stockyard.backtest.vector import run_sma_cross
from stockyard.core import Timeframe
from stockyard.strategy import create_strategy


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (3, 7)])
def test_the_vector_path_makes_the_same_sma_cross_trades_as_the_event_engine(
    minute_bars: pa.Table, fast: int, slow: int
) -> None:
    data = BarData.from_tables({"AAPL": minute_bars}, timeframe=Timeframe.MINUTE)
    bot = create_strategy("sma_cross", symbols=["AAPL"], params={"fast": fast, "slow": slow})
    event = backtest(data, [bot])
    vector = run_sma_cross(minute_bars, symbol="AAPL", fast=fast, slow=slow)
    assert len(event.trades) > 20
    assert [t.fill_key for t in event.trades] == [t.fill_key for t in vector.trades]
    assert np.array_equal(event.equity.timestamps, vector.equity.timestamps)
    assert np.allclose(event.equity.equity, vector.equity.equity, rtol=0, atol=1e-6)
