"""The books: positions, average cost, P&L, cash, fees, equity curve; exact decimals.

Average cost: adding to a position (or opening one) moves the average to the
quantity-weighted mean of the old average and the fill price; reducing one realises
``closed_qty × (price − average)`` (sign flipped for a short) and leaves the average as it
was; a fill that goes through zero closes the whole position first and opens the rest at
the fill price. Realised P&L is before fees; fees are counted apart and taken from cash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from stockyard.core import Fill, Position, to_decimal
from stockyard.obs import get_logger
from stockyard.portfolio._values import Correction, EquityPoint, Exposure, PortfolioView

__all__ = ["Portfolio"]

_ZERO = Decimal(0)
_log = get_logger("trading")


class _Lot:
    """Mutable state of one symbol, private to the portfolio."""

    __slots__ = ("avg", "qty", "realized")

    def __init__(self) -> None:
        self.qty = _ZERO
        self.avg = _ZERO
        self.realized = _ZERO


class Portfolio:
    """Positions, cash and P&L of one account, changed only by fills and reconciliation."""

    def __init__(self, cash: Decimal | int | str = 0) -> None:
        self._cash = to_decimal(cash, "cash")
        self._lots: dict[str, _Lot] = {}
        self._marks: dict[str, Decimal] = {}
        self._seen: set[str] = set()
        self._fees = _ZERO
        self._curve: list[EquityPoint] = []

    # -- changes ---------------------------------------------------------------------------

    def apply(self, fill: Fill) -> bool:
        """Book ``fill``; a fill id seen before changes nothing and returns False."""
        if fill.id in self._seen:
            return False
        self._seen.add(fill.id)
        lot = self._lots.get(fill.symbol)
        if lot is None:
            lot = self._lots[fill.symbol] = _Lot()
        qty, price = fill.qty, fill.price
        signed = qty if fill.side.sign > 0 else -qty
        held = lot.qty
        if held == 0 or (held > 0) == (signed > 0):
            total = abs(held) + qty
            lot.avg = (abs(held) * lot.avg + qty * price) / total
        else:
            closed = min(abs(held), qty)
            lot.realized += closed * (price - lot.avg) * (1 if held > 0 else -1)
            if qty > abs(held):  # through zero: the rest opens at the fill price
                lot.avg = price
            elif qty == abs(held):
                lot.avg = _ZERO
        lot.qty = held + signed
        self._cash -= signed * price + fill.fee
        self._fees += fill.fee
        self._marks[fill.symbol] = price
        return True

    def mark(self, now: datetime, prices: Mapping[str, Decimal | float | str]) -> Decimal:
        """Take ``prices`` as the latest marks, append (now, equity) to the curve, return it."""
        for symbol, price in prices.items():
            self._marks[symbol] = to_decimal(price, f"price of {symbol}")
        equity = self.equity()
        self._curve.append(EquityPoint(now, equity))
        return equity

    def reconcile(
        self, broker_positions: Iterable[Position], broker_cash: Decimal
    ) -> list[Correction]:
        """Make our positions and cash equal the broker's; return (and log) each difference.

        A corrected position takes the broker's quantity and average entry price.
        """
        corrections: list[Correction] = []
        theirs = {p.symbol: p for p in broker_positions}
        for symbol in sorted(set(theirs) | {s for s, lot in self._lots.items() if lot.qty}):
            ours = self.qty(symbol)
            broker = theirs.get(symbol)
            their_qty = broker.qty if broker is not None else _ZERO
            if ours == their_qty:
                continue
            corrections.append(
                Correction(kind="position", symbol=symbol, ours=ours, theirs=their_qty)
            )
            lot = self._lots.setdefault(symbol, _Lot())
            lot.qty = their_qty
            lot.avg = broker.avg_entry_price if broker is not None and their_qty else _ZERO
        if broker_cash != self._cash:
            corrections.append(
                Correction(kind="cash", symbol=None, ours=self._cash, theirs=broker_cash)
            )
            self._cash = broker_cash
        for correction in corrections:
            _log.warning(
                "portfolio corrected to the broker's books",
                kind=correction.kind,
                symbol=correction.symbol,
                ours=str(correction.ours),
                broker=str(correction.theirs),
                detail=correction.describe(),
            )
        return corrections

    # -- reads (PortfolioView) ---------------------------------------------------------------

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def fees(self) -> Decimal:
        """Every fee paid so far."""
        return self._fees

    def qty(self, symbol: str) -> Decimal:
        lot = self._lots.get(symbol)
        return lot.qty if lot is not None else _ZERO

    def price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    def position(self, symbol: str) -> Position:
        lot = self._lots.get(symbol)
        if lot is None:
            return Position(symbol=symbol, qty=_ZERO, avg_entry_price=_ZERO)
        return Position(
            symbol=symbol,
            qty=lot.qty,
            avg_entry_price=lot.avg,
            current_price=self._marks.get(symbol),
        )

    def positions(self) -> dict[str, Position]:
        return {s: self.position(s) for s, lot in self._lots.items() if lot.qty}

    def held(self) -> list[str]:
        """The symbols of :meth:`positions`, in the same order, without making positions."""
        return [s for s, lot in self._lots.items() if lot.qty]

    def realized_pl(self, symbol: str | None = None) -> Decimal:
        """Realised P&L before fees, of one symbol or of all."""
        if symbol is not None:
            lot = self._lots.get(symbol)
            return lot.realized if lot is not None else _ZERO
        return sum((lot.realized for lot in self._lots.values()), _ZERO)

    def unrealized_pl(self, symbol: str | None = None) -> Decimal:
        """(mark − average) × qty at the last marks, of one symbol or of all."""
        symbols = [symbol] if symbol is not None else list(self._lots)
        total = _ZERO
        for name in symbols:
            lot = self._lots.get(name)
            if lot is not None and lot.qty:
                total += (self._mark(name, lot) - lot.avg) * lot.qty
        return total

    def equity(self) -> Decimal:
        value = self._cash
        for symbol, lot in self._lots.items():
            if lot.qty:
                value += lot.qty * self._mark(symbol, lot)
        return value

    def exposure(self) -> Exposure:
        long = short = _ZERO
        for symbol, lot in self._lots.items():
            if lot.qty > 0:
                long += lot.qty * self._mark(symbol, lot)
            elif lot.qty < 0:
                short -= lot.qty * self._mark(symbol, lot)
        return Exposure(long=long, short=short)

    @property
    def equity_curve(self) -> tuple[EquityPoint, ...]:
        """Every ``mark`` so far, in order."""
        return tuple(self._curve)

    def view(self) -> PortfolioView:
        """A read-only view of these books, for strategies and risk checks."""
        return _ReadOnly(self)

    def _mark(self, symbol: str, lot: _Lot) -> Decimal:
        # Never marked and never filled cannot happen for a held lot except after a
        # reconciliation; the average entry price is the best price we know then.
        return self._marks.get(symbol, lot.avg)


class _ReadOnly:
    """Forwards the reads of a Portfolio and nothing else."""

    __slots__ = ("_books",)

    def __init__(self, books: Portfolio) -> None:
        self._books = books

    @property
    def cash(self) -> Decimal:
        return self._books.cash

    def position(self, symbol: str) -> Position:
        return self._books.position(symbol)

    def positions(self) -> Mapping[str, Position]:
        return self._books.positions()

    def qty(self, symbol: str) -> Decimal:
        return self._books.qty(symbol)

    def price(self, symbol: str) -> Decimal | None:
        return self._books.price(symbol)

    def equity(self) -> Decimal:
        return self._books.equity()

    def exposure(self) -> Exposure:
        return self._books.exposure()
