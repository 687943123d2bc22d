"""Account arithmetic: balances, buying power, positions moved by fills. Exact decimals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stockyard.core import maker
from stockyard.execution.sim._state import HELD, Ledger, Pos, Working

__all__ = ["Balances", "apply_fill", "balances", "committed", "equity"]

_ZERO = Decimal(0)
_TWO = Decimal(2)
_FOUR = Decimal(4)


@dataclass(frozen=True, slots=True)
class Balances:
    cash: Decimal
    equity: Decimal
    long_value: Decimal
    short_value: Decimal  # <= 0
    reserved: Decimal
    buying_power: Decimal
    regt_buying_power: Decimal
    daytrading_buying_power: Decimal
    non_marginable: Decimal


_balances = maker(Balances)  # Balances(...), cheaper: every order's buying-power check


def balances(
    ledger: Ledger, price: Callable[[str], Decimal | None], *, pdt_equity: Decimal
) -> Balances:
    """Equity marks positions at ``price`` (the average entry when none is known);
    buying power is equity × multiplier less gross exposure less open orders' reservations."""
    long_value, short_value = _marked(ledger, price)
    equity = ledger.cash + long_value + short_value
    gross = long_value - short_value
    reserved = sum((w.opening * w.est for w in ledger.open.values()), _ZERO)
    multiplier = Decimal(ledger.multiplier)
    power = max(equity * multiplier - gross - reserved, _ZERO)
    regt = max(equity * min(multiplier, _TWO) - gross - reserved, _ZERO)
    day = (
        max(equity * _FOUR - gross - reserved, _ZERO)
        if ledger.multiplier == 4 and equity >= pdt_equity
        else _ZERO
    )
    cash_only = max(ledger.cash - reserved, _ZERO)
    return _balances(
        cash=ledger.cash,
        equity=equity,
        long_value=long_value,
        short_value=short_value,
        reserved=reserved,
        buying_power=power,
        regt_buying_power=regt,
        daytrading_buying_power=day,
        non_marginable=cash_only,
    )


def equity(ledger: Ledger, price: Callable[[str], Decimal | None]) -> Decimal:
    """``balances(ledger, price, ...).equity``, without the rest."""
    long_value, short_value = _marked(ledger, price)
    return ledger.cash + long_value + short_value


def _marked(ledger: Ledger, price: Callable[[str], Decimal | None]) -> tuple[Decimal, Decimal]:
    """Long and short (<= 0) market value of the positions at ``price``."""
    long_value = short_value = _ZERO
    for symbol, pos in ledger.positions.items():
        mark = price(symbol)
        value = pos.qty * (pos.avg if mark is None else mark)
        if value > 0:
            long_value += value
        else:
            short_value += value
    return long_value, short_value


def committed(ledger: Ledger, symbol: str, *, buy: bool, exclude: Working | None = None) -> Decimal:
    """Quantity that open orders on ``symbol`` and side already hold (an OCO pair once)."""
    held = _ZERO
    for w in ledger.open.values():
        if (
            w.symbol == symbol
            and w.buy is buy
            and not w.oco_secondary
            and w.where != HELD
            and w is not exclude
        ):
            held += w.remaining if w.qty is not None else w.opening
    return held


def apply_fill(
    ledger: Ledger, w: Working, *, qty: Decimal, price: Decimal, fee: Decimal, at: datetime
) -> tuple[Decimal, bool, bool]:
    """Move cash and the position; answer (new position qty, opened or grew, reduced)."""
    signed = qty if w.buy else -qty
    ledger.cash -= signed * price + fee
    symbol = w.symbol
    pos = ledger.positions.get(symbol)
    if pos is None:
        ledger.positions[symbol] = Pos(signed, price)
        return signed, True, False
    old = pos.qty
    new = old + signed
    if (old > 0) == (signed > 0):
        pos.avg = (old * pos.avg + signed * price) / new
        pos.qty = new
        return new, True, False
    if new == 0:
        del ledger.positions[symbol]
        return new, False, True
    crossed = (new > 0) != (old > 0)
    pos.qty = new
    if crossed:
        pos.avg = price
    return new, crossed, True
