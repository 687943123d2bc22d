"""The latest market data a runner has delivered, and the read-only view strategies get."""

from __future__ import annotations

from collections import deque

from stockyard.core import Quote, Trade, to_ns
from stockyard.execution import UnknownSymbolError
from stockyard.strategy._bars import BarHistory, BarRow

__all__ = ["MarketState", "MarketView"]


class MarketState:
    """What the runner has delivered so far: bar rings, last quote and trade per symbol.

    Only the runner writes here, and always before it dispatches the same event.
    """

    __slots__ = ("capacity", "histories", "quotes", "rings", "trades")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.rings: dict[str, deque[BarRow]] = {}
        self.histories: dict[str, BarHistory] = {}
        self.quotes: dict[str, Quote] = {}
        self.trades: dict[str, Trade] = {}

    def ring(self, symbol: str) -> deque[BarRow]:
        """The bar ring of ``symbol``, made on first use."""
        ring = self.rings.get(symbol)
        if ring is None:
            ring = self.rings[symbol] = deque(maxlen=self.capacity)
            self.histories[symbol] = BarHistory(symbol, ring)
        return ring


class MarketView:
    """Read-only access to the data delivered so far: bar history, last quote, trade, price."""

    __slots__ = ("_state",)

    def __init__(self, state: MarketState) -> None:
        self._state = state

    def history(self, symbol: str) -> BarHistory:
        """Bars of ``symbol`` delivered so far (up to the runner's history size)."""
        found = self._state.histories.get(symbol)
        if found is None:
            raise UnknownSymbolError(
                symbol, code=404, message=f"no bars for {symbol!r}: the runner does not carry it"
            )
        return found

    def last_bar(self, symbol: str) -> BarRow | None:
        """The bar of ``symbol`` delivered last, if any."""
        ring = self._state.rings.get(symbol)
        return ring[-1] if ring else None

    def last_quote(self, symbol: str) -> Quote | None:
        return self._state.quotes.get(symbol)

    def last_trade(self, symbol: str) -> Trade | None:
        return self._state.trades.get(symbol)

    def last_price(self, symbol: str) -> float | None:
        """The newest of: the last trade's price, the last bar's close; else the quote's mid."""
        bar = self.last_bar(symbol)
        trade = self._state.trades.get(symbol)
        if trade is not None and (bar is None or to_ns(trade.timestamp) >= bar.ts):
            return trade.price
        if bar is not None:
            return bar.close
        quote = self._state.quotes.get(symbol)
        return quote.mid if quote is not None and quote.mid > 0 else None
