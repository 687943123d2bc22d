"""The kernel's readings of the price book: risk's last prices and the marked portfolio.

The book itself, and its one rule for the last price, is the strategies' own
(``stockyard.strategy.PriceBook``, written by the runner as it delivers each bar, trade and
quote): risk reads it through :class:`LastPrices`; strategies and risk read the books
through :class:`MarkedView`, which values positions at those prices *when read*. Nothing is
converted or marked per bar, so the backtester's bar loop stays a few attribute stores, and
the answer is the same as marking on every bar: marks are a pure function of the last
prices, which both paths record identically.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

from stockyard.core import Position, ns_to_datetime
from stockyard.portfolio import Exposure, Portfolio
from stockyard.risk import LastPrice
from stockyard.strategy import PriceBook

__all__ = ["LastPrices", "MarkedView", "PriceBook"]

_ZERO = Decimal(0)


def last_price(book: PriceBook, symbol: str) -> LastPrice | None:
    """The book's last price of ``symbol`` as risk reads it (exact, with when it printed)."""
    found = book.exact(symbol)
    return None if found is None else LastPrice(found[0], ns_to_datetime(found[1]))


class LastPrices(Mapping[str, LastPrice]):
    """``symbol -> LastPrice`` over a :class:`PriceBook`, made on lookup (risk's ``prices``)."""

    __slots__ = ("_book",)

    def __init__(self, book: PriceBook) -> None:
        self._book = book

    def __getitem__(self, symbol: str) -> LastPrice:
        found = last_price(self._book, symbol)
        if found is None:
            raise KeyError(symbol)
        return found

    def get(  # type: ignore[override]  # one signature for Mapping.get's two overloads
        self, symbol: str, default: LastPrice | None = None
    ) -> LastPrice | None:
        found = last_price(self._book, symbol)  # Mapping.get, without raising and catching KeyError
        return default if found is None else found

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._book.symbols()))

    def __len__(self) -> int:
        return len(self._book.symbols())


class MarkedView:
    """A read-only ``PortfolioView`` whose marks are the kernel's last prices at read time.

    A symbol with no price seen yet is valued at the portfolio's own mark (its last fill).
    """

    __slots__ = ("_book", "_books")

    def __init__(self, books: Portfolio, prices: PriceBook) -> None:
        self._books = books
        self._book = prices

    @property
    def cash(self) -> Decimal:
        return self._books.cash

    def qty(self, symbol: str) -> Decimal:
        return self._books.qty(symbol)

    def price(self, symbol: str) -> Decimal | None:
        found = self._book.price(symbol)
        return found if found is not None else self._books.price(symbol)

    def position(self, symbol: str) -> Position:
        held = self._books.position(symbol)
        mark = self._book.price(symbol)
        if mark is None or not held.qty:
            return held
        return Position(
            symbol=symbol, qty=held.qty, avg_entry_price=held.avg_entry_price, current_price=mark
        )

    def positions(self) -> Mapping[str, Position]:
        return {s: self.position(s) for s in self._books.positions()}

    def equity(self) -> Decimal:
        value = self._books.cash
        for symbol, held in self._books.positions().items():
            value += held.qty * self._mark(symbol, held)
        return value

    def exposure(self) -> Exposure:
        long = short = _ZERO
        for symbol, held in self._books.positions().items():
            worth = held.qty * self._mark(symbol, held)
            if worth > 0:
                long += worth
            else:
                short -= worth
        return Exposure(long=long, short=short)

    def _mark(self, symbol: str, held: Position) -> Decimal:
        found = self._book.price(symbol)
        if found is not None:
            return found
        return held.current_price if held.current_price is not None else held.avg_entry_price
