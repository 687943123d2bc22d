"""A test strategy that trades all the time: on every trade print of a symbol, with no
order of its own open there, it buys one share, or sells what it holds once it has three."""

from __future__ import annotations

from stockyard.core import Trade
from stockyard.strategy import Strategy


class Churn(Strategy):
    """An order per trade print while flat of open orders; positions stay between 0 and 3."""

    name = "churn"

    def on_trade(self, trade: Trade) -> None:
        symbol = trade.symbol
        if self.open_orders(symbol):
            return
        held = self.position(symbol)
        if held >= 3:
            self.sell(symbol, held)
        else:
            self.buy(symbol, 1)
