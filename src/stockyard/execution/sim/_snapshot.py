"""``SimExchange.snapshot`` and ``restore``: the whole state as JSON-ready values.

Decimals travel as strings, times as ISO 8601, enums as Alpaca's strings, so
snapshot → restore → snapshot gives back the same document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from stockyard.core import (
    AssetClass,
    Fill,
    Order,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from stockyard.data import Phase
from stockyard.execution.sim._state import BOOK, Ledger, Pos, Working
from stockyard.execution.sim._values import Asset

if TYPE_CHECKING:
    from stockyard.execution.sim._exchange import SimExchange

__all__ = ["dump", "load"]

_VERSION = 1
_ORDER_ENUMS: dict[str, type[Enum]] = {
    "side": OrderSide,
    "type": OrderType,
    "time_in_force": TimeInForce,
    "status": OrderStatus,
    "order_class": OrderClass,
}
_ASSET_ENUMS: dict[str, type[Enum]] = {"asset_class": AssetClass}
_DECIMALS = frozenset(
    {
        "qty",
        "notional",
        "filled_qty",
        "filled_avg_price",
        "limit_price",
        "stop_price",
        "trail_price",
        "trail_percent",
        "hwm",
        "price",
        "fee",
        "cumulative_qty",
        "leaves_qty",
        "min_order_size",
        "min_trade_increment",
        "price_increment",
    }
)
_TIMES = frozenset(
    {
        "created_at",
        "updated_at",
        "submitted_at",
        "filled_at",
        "canceled_at",
        "expired_at",
        "failed_at",
        "replaced_at",
        "timestamp",
    }
)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _record(value: Order | Fill | Asset) -> dict[str, object]:
    return {
        f.name: _plain(getattr(value, f.name))
        for f in dataclasses.fields(value)
        if f.name != "legs"
    }


def _typed(data: Mapping[str, Any], enums: Mapping[str, type[Enum]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in data.items():
        if raw is None:
            out[name] = None
        elif name in _DECIMALS:
            out[name] = Decimal(raw)
        elif name in _TIMES:
            out[name] = datetime.fromisoformat(raw)
        elif name in enums:
            out[name] = enums[name](raw)
        else:
            out[name] = raw
    return out


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _working(w: Working) -> dict[str, object]:
    return {
        "order": _record(w.order),
        "account": w.account.id,
        "kind": w.kind,
        "qty": _dec(w.qty),
        "remaining": str(w.remaining),
        "filled": str(w.filled),
        "cost": str(w.cost),
        "hwm": w.hwm,
        "seen": w.seen,
        "armed": w.armed,
        "opening": str(w.opening),
        "est": str(w.est),
        "daytrade": w.daytrade,
        "where": w.where,
        "submitted": w.submitted.isoformat(),
        "whole": w.whole,
        "crypto": w.crypto,
        "parent": None if w.parent is None else w.parent.order.id,
        "children": [c.order.id for c in w.children],
        "oco": None if w.oco is None else w.oco.order.id,
        "oco_secondary": w.oco_secondary,
    }


def _ledger(ledger: Ledger) -> dict[str, object]:
    return {
        "id": ledger.id,
        "cash": str(ledger.cash),
        "multiplier": ledger.multiplier,
        "shorting": ledger.shorting,
        "pdt": ledger.pdt,
        "last_equity": str(ledger.last_equity),
        "positions": [[s, str(p.qty), str(p.avg)] for s, p in ledger.positions.items()],
        "orders": [w.order.id for w in ledger.orders],
        "open": list(ledger.open),
        "fills": [_record(f) for f in ledger.fills],
        "daytrades": [d.isoformat() for d in ledger.daytrades],
        "opened_today": {s: d.isoformat() for s, d in ledger.opened_today.items()},
        "crypto_volume": [[t.isoformat(), str(v)] for t, v in ledger.crypto_volume],
    }


def dump(ex: SimExchange) -> dict[str, object]:
    """The exchange's state (not its clock, config, calendar or id factory)."""
    return {
        "version": _VERSION,
        "phase": int(ex._phase),
        "until": ex._until.isoformat(),
        "assets": [_record(a) for a in ex._assets.values()],
        "accounts": [_ledger(ledger) for ledger in ex._accounts.values()],
        "orders": [_working(w) for w in ex._orders.values()],
        "books": {s: [w.order.id for w in book] for s, book in ex._books.items()},
        "last": dict(ex._last),
        "quotes": {s: list(q) for s, q in ex._quotes.items()},
    }


def load(ex: SimExchange, data: Mapping[str, object]) -> None:
    """Fill a fresh exchange from ``dump``'s document."""
    doc = cast(Mapping[str, Any], data)
    if doc.get("version") != _VERSION:
        raise ValueError(f"unsupported snapshot version {doc.get('version')!r}")
    ex._phase = Phase(doc["phase"])
    ex._until = datetime.fromisoformat(doc["until"])
    for raw in doc["assets"]:
        ex.add_asset(Asset(**_typed(raw, _ASSET_ENUMS)))
    ledgers: dict[str, Ledger] = {}
    for raw in doc["accounts"]:
        ledger = Ledger(
            raw["id"],
            cash=Decimal(raw["cash"]),
            multiplier=raw["multiplier"],
            shorting=raw["shorting"],
        )
        ledger.pdt = raw["pdt"]
        ledger.last_equity = Decimal(raw["last_equity"])
        ledger.positions = {s: Pos(Decimal(q), Decimal(a)) for s, q, a in raw["positions"]}
        ledger.fills = [Fill(**_typed(f, _ORDER_ENUMS)) for f in raw["fills"]]
        ledger.daytrades = [date.fromisoformat(d) for d in raw["daytrades"]]
        ledger.opened_today = {s: date.fromisoformat(d) for s, d in raw["opened_today"].items()}
        ledger.crypto_volume = [
            (datetime.fromisoformat(t), Decimal(v)) for t, v in raw["crypto_volume"]
        ]
        ledgers[ledger.id] = ledger
    ex._accounts = ledgers
    rows: dict[str, Mapping[str, Any]] = {}
    for raw in doc["orders"]:
        order = Order(**_typed(raw["order"], _ORDER_ENUMS))
        w = Working(order, ledgers[raw["account"]], crypto=raw["crypto"])
        w.kind, w.hwm, w.seen, w.armed = raw["kind"], raw["hwm"], raw["seen"], raw["armed"]
        w.qty = None if raw["qty"] is None else Decimal(raw["qty"])
        w.remaining, w.filled = Decimal(raw["remaining"]), Decimal(raw["filled"])
        w.cost, w.opening, w.est = (
            Decimal(raw["cost"]),
            Decimal(raw["opening"]),
            Decimal(raw["est"]),
        )
        w.daytrade, w.where, w.whole = raw["daytrade"], raw["where"], raw["whole"]
        w.submitted = datetime.fromisoformat(raw["submitted"])
        w.oco_secondary = raw["oco_secondary"]
        ex._orders[order.id] = w
        rows[order.id] = raw
    for order_id, raw in rows.items():
        w = ex._orders[order_id]
        w.parent = None if raw["parent"] is None else ex._orders[raw["parent"]]
        w.children = [ex._orders[c] for c in raw["children"]]
        w.oco = None if raw["oco"] is None else ex._orders[raw["oco"]]
    for raw in doc["accounts"]:
        ledger = ledgers[raw["id"]]
        ledger.orders = [ex._orders[i] for i in raw["orders"]]
        ledger.open = {i: ex._orders[i] for i in raw["open"]}
        ledger.by_client = {w.order.client_order_id: w for w in ledger.orders}
    ex._books = {s: [ex._orders[i] for i in ids] for s, ids in doc["books"].items()}
    # Prices as they came (an int stays an int), so decimals made from them match exactly.
    ex._last = dict(doc["last"])
    ex._quotes = {s: (b, a) for s, (b, a) in doc["quotes"].items()}
    assert all(w.where == BOOK for book in ex._books.values() for w in book)
