"""The latest market data a runner has delivered, the one rule for "the last price", and
the read-only view strategies get.

:class:`PriceBook` holds the last bar, trade and quote of every symbol the runner has
delivered, and answers the last price by one rule (:meth:`PriceBook.newest`). A strategy
reads it through :class:`MarketView`; the kernel's risk check and marked portfolio read the
same book (``engine._kernel_prices``), so a strategy and the risk check never disagree.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from stockyard.core import Quote, Trade, to_ns
from stockyard.execution import UnknownSymbolError
from stockyard.strategy._bars import BarHistory, BarRow

__all__ = ["MarketState", "MarketView", "PriceBook"]


class PriceBook:
    """Last bar, trade and quote per symbol, and the rule for the last price.

    ``bars`` is written by the runner's bar pusher before a bar is dispatched; ``spans``
    (bar length in ns: a bar stamped ``ts`` prints at ``ts + span``) by the host that
    knows the timeframe."""

    __slots__ = ("bars", "quotes", "spans", "trades")

    def __init__(self) -> None:
        self.bars: dict[str, BarRow] = {}
        self.spans: dict[str, int] = {}
        self.trades: dict[str, Trade] = {}
        self.quotes: dict[str, Quote] = {}

    def newest(self, symbol: str) -> tuple[float, int] | None:
        """The last price of ``symbol`` and when it printed (ns): the newer of the last trade
        and the last bar's close (a bar prints when it closes); with neither, the last
        quote's mid; ``None`` when nothing priced the symbol yet."""
        row = self.bars.get(symbol)
        trade = self.trades.get(symbol)
        if row is not None:
            bar_at = row.ts + self.spans.get(symbol, 0)
            if trade is not None:
                trade_at = to_ns(trade.timestamp)
                if trade_at >= bar_at:
                    return trade.price, trade_at
            return row.close, bar_at
        if trade is not None:
            return trade.price, to_ns(trade.timestamp)
        quote = self.quotes.get(symbol)
        if quote is not None and quote.mid > 0:
            return quote.mid, to_ns(quote.timestamp)
        return None

    def exact(self, symbol: str) -> tuple[Decimal, int] | None:
        """:meth:`newest` with its price as an exact ``Decimal`` (for money and risk)."""
        found = self.newest(symbol)
        return None if found is None else (as_decimal(found[0]), found[1])

    def price(self, symbol: str) -> Decimal | None:
        """:meth:`newest`'s price as an exact ``Decimal``."""
        found = self.newest(symbol)
        return None if found is None else as_decimal(found[0])

    def symbols(self) -> set[str]:
        """Every symbol the book holds a price for."""
        return set(self.bars) | set(self.trades) | set(self.quotes)


def as_decimal(value: float) -> Decimal:
    """``value`` as a ``Decimal``: repr gives the shortest string that round-trips, so
    101.37 becomes ``Decimal("101.37")``, not 101.36999999999999."""
    return Decimal(repr(value))


class MarketState:
    """What the runner has delivered so far: bar rings and the price book.

    Only the runner writes here, and always before it dispatches the same event.
    """

    __slots__ = ("book", "capacity", "histories", "rings")

    def __init__(self, capacity: int, book: PriceBook | None = None) -> None:
        self.capacity = capacity
        self.rings: dict[str, deque[BarRow]] = {}
        self.histories: dict[str, BarHistory] = {}
        self.book = book if book is not None else PriceBook()

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
        return self._state.book.quotes.get(symbol)

    def last_trade(self, symbol: str) -> Trade | None:
        return self._state.book.trades.get(symbol)

    def last_price(self, symbol: str) -> float | None:
        """The last price by the one rule (:meth:`PriceBook.newest`), the price the risk
        check judges an order by: the newer of the last trade and the last bar's close
        (a bar prints when it closes); with neither, the last quote's mid."""
        found = self._state.book.newest(symbol)
        return None if found is None else found[0]
