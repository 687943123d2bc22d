"""Bars for the replay loop are checked where they are made, as a ``Bar`` checks them; the
replay loop then hands the exchange a row's values as they are."""

from __future__ import annotations

import numpy as np
import pytest

from stockyard.backtest import BarData, EventEngine, SymbolBars
from stockyard.core import Timeframe
from stockyard.strategy import BarRow, Strategy

MINUTE_NS = 60_000_000_000
T0_NS = 1_704_205_800_000_000_000


class BuyFirst(Strategy):
    name = "buy_first"

    def on_bar(self, bar: BarRow) -> None:
        if not self.position(bar.symbol) and not self.open_orders(bar.symbol):
            self.buy(bar.symbol, 10)


def one(rows: list[tuple[float, float, float, float]]) -> BarData:
    o, h, lo, c = (np.array(col) for col in zip(*rows, strict=True))
    ts = T0_NS + np.arange(len(rows), dtype=np.int64) * MINUTE_NS
    bars = SymbolBars(
        symbol="AAPL", ts=ts, open=o, high=h, low=lo, close=c, volume=np.ones(len(rows))
    )
    return BarData(symbols=(bars,), span_ns=MINUTE_NS, timeframe=Timeframe.MINUTE)


def test_a_row_a_bar_would_refuse_is_refused_with_the_bars_own_error_when_made() -> None:
    with pytest.raises(ValueError, match="open must lie within"):
        one([(100.0, 101.0, 99.0, 100.0), (98.0, 101.0, 99.0, 100.0)])  # opens below its low


def test_a_nan_close_is_refused_when_the_bars_are_made() -> None:
    with pytest.raises(ValueError, match="close"):
        one([(100.0, 101.0, 99.0, float("nan"))])


def test_valid_rows_fill_at_the_next_open() -> None:
    run = EventEngine(
        one(
            [(100.0, 101.0, 99.0, 100.0), (100.5, 101.0, 99.5, 100.0), (100.0, 100.0, 100.0, 100.0)]
        ),
        [BuyFirst(symbols=["AAPL"])],
    ).run()
    assert [str(f.price) for f in run.fills] == ["100.5"]
