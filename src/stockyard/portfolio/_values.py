"""Read-only portfolio values and the view strategies and risk checks read through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

from stockyard.core import Position

__all__ = ["Correction", "EquityPoint", "Exposure", "PortfolioView"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """Market value held: ``long`` and ``short`` (both >= 0), ``gross`` and ``net``."""

    long: Decimal = _ZERO
    short: Decimal = _ZERO

    @property
    def gross(self) -> Decimal:
        return self.long + self.short

    @property
    def net(self) -> Decimal:
        return self.long - self.short


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """One point of the equity curve."""

    timestamp: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """A difference between our books and the broker's, and the value we took (theirs)."""

    kind: Literal["position", "cash"]
    symbol: str | None
    ours: Decimal
    theirs: Decimal

    @property
    def delta(self) -> Decimal:
        return self.theirs - self.ours

    def describe(self) -> str:
        what = f"position {self.symbol}" if self.kind == "position" else "cash"
        return f"{what}: ours {self.ours}, broker {self.theirs} (delta {self.delta})"


class PortfolioView(Protocol):
    """What strategies and risk checks may read of a portfolio; nothing here changes it."""

    @property
    def cash(self) -> Decimal:
        """Cash balance (fees paid already taken out)."""
        ...

    def position(self, symbol: str) -> Position:
        """The position in ``symbol``; qty 0 when flat. ``current_price`` is the last mark."""
        ...

    def positions(self) -> Mapping[str, Position]:
        """Every non-flat position by symbol."""
        ...

    def qty(self, symbol: str) -> Decimal:
        """Signed quantity held in ``symbol`` (negative is short, 0 when flat)."""
        ...

    def price(self, symbol: str) -> Decimal | None:
        """The last mark (or fill price) of ``symbol``, None if never seen."""
        ...

    def equity(self) -> Decimal:
        """Cash plus the market value of every position at its last mark."""
        ...

    def exposure(self) -> Exposure:
        """Long, short, gross and net market value at the last marks."""
        ...
