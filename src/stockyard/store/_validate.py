"""What an imported row must mean, beyond its column types: the values it builds must be valid."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from stockyard.core import Position
from stockyard.health import AlertSeverity, AlertState
from stockyard.resilience import ErrorCategory, Severity
from stockyard.store._journal import to_event, to_fill, to_intent
from stockyard.store._runs import RunMode, StrategySpec
from stockyard.store._trading_models import FillRow, OrderEventRow, OrderIntentRow

__all__ = ["check_row"]

Row = Mapping[str, object]


def _strings(name: str, value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")


def _run(row: Row) -> None:
    RunMode(str(row["mode"]))
    _strings("strategies", row["strategies"])
    _strings("symbols", row["symbols"])
    specs = row.get("specs")
    if specs is not None:
        if not isinstance(specs, list):
            raise ValueError("specs must be a list of strategy specs")
        for spec in specs:
            StrategySpec.from_json(spec)


def _book(row: Row) -> None:
    book = row["positions"]
    if not isinstance(book, list):
        raise ValueError("positions must be a list")
    for entry in book:
        if not isinstance(entry, dict) or set(entry) != {
            "symbol",
            "qty",
            "avg_entry_price",
            "current_price",
        }:
            raise ValueError("each position must be {symbol, qty, avg_entry_price, current_price}")
        price = entry["current_price"]
        Position(
            symbol=str(entry["symbol"]),
            qty=Decimal(str(entry["qty"])),
            avg_entry_price=Decimal(str(entry["avg_entry_price"])),
            current_price=None if price is None else Decimal(str(price)),
        )
        for key in ("symbol", "qty", "avg_entry_price"):
            if not isinstance(entry[key], str):
                raise ValueError(f"position {key} must be text")


def _typed_by_columns(_row: Row) -> None:
    """Its column types (decimal, UTC time) say all there is to check."""


def _state(row: Row) -> None:
    if not isinstance(row["state"], dict):
        raise ValueError("state must be a JSON object")


def _error(row: Row) -> None:
    ErrorCategory(str(row["category"]))
    if row["severity"] is not None:
        Severity(str(row["severity"]))
    count = row["count"]
    if not isinstance(count, int) or count < 1:
        raise ValueError("count must be >= 1")


def _alert(row: Row) -> None:
    AlertSeverity(str(row["severity"]))
    AlertState(str(row["state"]))


_CHECKS: dict[str, Callable[[Row], object]] = {
    "runs": _run,
    "order_intents": lambda row: to_intent(OrderIntentRow(**row)),
    "order_events": lambda row: to_event(OrderEventRow(**row)),
    "fills": lambda row: to_fill(FillRow(**row)),
    "position_snapshots": _book,
    "equity_snapshots": _typed_by_columns,
    "strategy_state": _state,
    "errors": _error,
    "alerts": _alert,
}


def check_row(table: str, row: Row) -> None:
    """Raise ValueError (or TypeError, KeyError) when ``row`` of ``table`` means nothing valid."""
    _CHECKS[table](row)
