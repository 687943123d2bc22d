"""The trading kernel shared by the live node and the backtester (DESIGN.md §3).

Floor 4. One object graph — ``StrategyRunner`` → ``RiskEngine`` → order manager → broker,
with the ``Portfolio`` booked from fills — driven by an injected clock and a market-data
input. Only the clock, the feed and the broker differ between live trading and a backtest.
"""

from stockyard.engine._kernel import Kernel, OrderRouter
from stockyard.engine._kernel_clock import SimClock, WallClock
from stockyard.engine._kernel_prices import LastPrices, MarkedView, PriceBook

__all__ = [
    "Kernel",
    "LastPrices",
    "MarkedView",
    "OrderRouter",
    "PriceBook",
    "SimClock",
    "WallClock",
]
