"""Our core values as Alpaca's JSON: the one place the sandbox spells the wire format.

Money and quantities are strings (exact decimals), ids are UUIDs, enums are Alpaca's own
spellings, times are RFC 3339 in UTC. Every shape here parses in alpaca-py's models.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from stockyard.core import Account, AssetClass, Fill, Order, OrderSide, Position, TimeInForce
from stockyard.data import MarketCalendar
from stockyard.execution import Asset, TradeUpdate

__all__ = [
    "account_json",
    "activity_json",
    "asset_id",
    "asset_json",
    "calendar_json",
    "clock_json",
    "crypto_position_symbol",
    "num",
    "order_json",
    "position_json",
    "rfc3339",
    "settlement_date",
    "trade_update_json",
]


def num(value: Decimal | None) -> str | None:
    """A decimal as Alpaca writes it: plain notation, no trailing zeros (``"150.25"``)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def rfc3339(value: datetime | None) -> str | None:
    """``2024-01-02T14:30:00.123456Z``."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)
def asset_id(symbol: str) -> str:
    """The asset's stable UUID, the same the exchange gives it (Alpaca's ``asset_id``)."""
    return Asset(symbol=symbol, asset_class=AssetClass.of_symbol(symbol)).id


def _asset_class(symbol: str) -> str:
    return "crypto" if AssetClass.of_symbol(symbol) is AssetClass.CRYPTO else "us_equity"


def crypto_position_symbol(symbol: str) -> str:
    """Alpaca names crypto positions without the slash (``BTC/USD`` → ``BTCUSD``)."""
    return symbol.replace("/", "")


_GTC_DAYS = 90  # Alpaca cancels a good-til-canceled order after 90 days


@functools.lru_cache(maxsize=4096)
def _expires_at(created_at: datetime, gtc: bool) -> str | None:
    """When Alpaca would expire the order: the close of the session it was placed for
    (day, ioc, fok, opg, cls), or that of the session 90 days on (gtc)."""
    at = created_at + timedelta(days=_GTC_DAYS) if gtc else created_at
    return rfc3339(MarketCalendar.nyse().next_close(at))


def order_json(order: Order) -> dict[str, object]:
    """An ``Order`` as ``GET /v2/orders/{id}`` returns it (legs nested)."""
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": rfc3339(order.created_at),
        "updated_at": rfc3339(order.updated_at),
        "submitted_at": rfc3339(order.submitted_at or order.created_at),
        "filled_at": rfc3339(order.filled_at),
        "expired_at": rfc3339(order.expired_at),
        "expires_at": _expires_at(
            order.created_at.replace(second=0, microsecond=0),
            order.time_in_force is TimeInForce.GTC,
        ),
        "canceled_at": rfc3339(order.canceled_at),
        "failed_at": rfc3339(order.failed_at),
        "replaced_at": rfc3339(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": asset_id(order.symbol),
        "symbol": order.symbol,
        "asset_class": _asset_class(order.symbol),
        "notional": num(order.notional),
        "qty": num(order.qty),
        "filled_qty": num(order.filled_qty),
        "filled_avg_price": num(order.filled_avg_price),
        "order_class": order.order_class.value,
        "order_type": order.type.value,
        "type": order.type.value,
        "side": order.side.value,
        # Alpaca's paper venue reports the intent of a plain buy or sell this way.
        "position_intent": "buy_to_open" if order.side is OrderSide.BUY else "sell_to_close",
        "time_in_force": order.time_in_force.value,
        "limit_price": num(order.limit_price),
        "stop_price": num(order.stop_price),
        "status": order.status.value,
        "extended_hours": order.extended_hours,
        "legs": [order_json(leg) for leg in order.legs] if order.legs else None,
        "trail_percent": num(order.trail_percent),
        "trail_price": num(order.trail_price),
        "hwm": num(order.hwm),
    }


def position_json(position: Position, *, lastday_price: Decimal | None = None) -> dict[str, object]:
    """A ``Position`` as ``GET /v2/positions`` returns it."""
    crypto = AssetClass.of_symbol(position.symbol) is AssetClass.CRYPTO
    price = position.current_price
    qty = position.qty
    market_value = position.market_value
    cost = position.cost_basis
    pl = position.unrealized_pl
    plpc = (pl / abs(cost)) if pl is not None and cost else None
    last = lastday_price if lastday_price is not None else price
    intraday = (price - last) * qty if price is not None and last is not None else None
    change = (price - last) / last if price is not None and last else None
    return {
        "asset_id": asset_id(position.symbol),
        "symbol": crypto_position_symbol(position.symbol) if crypto else position.symbol,
        "exchange": "CRYPTO" if crypto else "NASDAQ",
        "asset_class": "crypto" if crypto else "us_equity",
        "asset_marginable": not crypto,
        "avg_entry_price": num(position.avg_entry_price),
        "qty": num(qty),
        "qty_available": num(qty),
        "side": position.side.value,
        "market_value": num(market_value),
        "cost_basis": num(cost),
        "unrealized_pl": num(pl),
        "unrealized_plpc": num(plpc.quantize(Decimal("1e-10")) if plpc is not None else None),
        "unrealized_intraday_pl": num(intraday),
        "unrealized_intraday_plpc": num(
            (intraday / abs(last * qty)).quantize(Decimal("1e-10"))
            if intraday is not None and last and qty
            else None
        ),
        "current_price": num(price),
        "lastday_price": num(last),
        "change_today": num(change.quantize(Decimal("1e-10")) if change is not None else None),
    }


def account_json(
    account: Account, *, account_id: str, created_at: datetime, suspended: bool = False
) -> dict[str, object]:
    """An ``Account`` as ``GET /v2/account`` returns it."""
    digits = "".join(c for c in account_id if c.isdigit())[:10].ljust(10, "0")
    return {
        "id": account_id,
        "account_number": f"PA{digits}",
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": account.currency,
        "buying_power": num(account.buying_power),
        "regt_buying_power": num(account.buying_power),
        "daytrading_buying_power": num(account.buying_power),
        "non_marginable_buying_power": num(account.cash),
        "cash": num(account.cash),
        "accrued_fees": "0",
        "pending_transfer_out": "0",
        "pending_transfer_in": "0",
        "portfolio_value": num(account.equity),
        "pattern_day_trader": account.pattern_day_trader,
        "trading_blocked": account.trading_blocked,
        "transfers_blocked": False,
        "account_blocked": False,
        "created_at": rfc3339(created_at),
        "trade_suspended_by_user": suspended,
        "multiplier": num(account.multiplier),
        "shorting_enabled": account.shorting_enabled,
        "equity": num(account.equity),
        "last_equity": num(account.equity),
        "long_market_value": num(account.long_market_value),
        "short_market_value": num(account.short_market_value),
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "daytrade_count": account.daytrade_count,
    }


def asset_json(asset: Asset) -> dict[str, object]:
    """An ``Asset`` as ``GET /v2/assets/{symbol}`` returns it."""
    row: dict[str, object] = {
        "id": asset.id,
        "class": "crypto" if asset.is_crypto else "us_equity",
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name or asset.symbol,
        "status": asset.status,
        "tradable": asset.tradable,
        "marginable": asset.marginable,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.easy_to_borrow,
        "fractionable": asset.fractionable,
        "attributes": ["fractional_eh_enabled"]
        if asset.fractionable and not asset.is_crypto
        else [],
    }
    if not asset.is_crypto:
        row["maintenance_margin_requirement"] = 30 if asset.marginable else 100
        row["margin_requirement_long"] = "30" if asset.marginable else "100"
        row["margin_requirement_short"] = "30" if asset.marginable else "100"
    # Crypto-only fields are absent from stocks, as Alpaca sends them.
    for name in ("min_order_size", "min_trade_increment", "price_increment"):
        value = getattr(asset, name)
        if value is not None:
            row[name] = num(value)
    return row


def clock_json(
    *, now: datetime, is_open: bool, next_open: datetime, next_close: datetime
) -> dict[str, object]:
    """``GET /v2/clock``."""
    return {
        "timestamp": rfc3339(now),
        "is_open": is_open,
        "next_open": rfc3339(next_open),
        "next_close": rfc3339(next_close),
    }


def settlement_date(calendar: MarketCalendar, day: date) -> date:
    """T+1: the next session's date."""
    later = calendar.sessions(day + timedelta(days=1), day + timedelta(days=10))
    return later[0][0] if later else day + timedelta(days=1)


def calendar_json(
    sessions: Sequence[tuple[date, datetime, datetime]], *, calendar: MarketCalendar
) -> list[dict[str, str]]:
    """``GET /v2/calendar``: each session's open and close in New York time, ``HH:MM``."""
    new_york = ZoneInfo("America/New_York")
    return [
        {
            "date": day.isoformat(),
            "open": opened.astimezone(new_york).strftime("%H:%M"),
            "close": closed.astimezone(new_york).strftime("%H:%M"),
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": settlement_date(calendar, day).isoformat(),
        }
        for day, opened, closed in sessions
    ]


def activity_json(fill: Fill, *, account_id: str, order_status: str) -> dict[str, object]:
    """A ``Fill`` as a ``FILL`` account activity."""
    at = fill.timestamp.astimezone(UTC)
    leaves = fill.leaves_qty if fill.leaves_qty is not None else Decimal(0)
    return {
        "id": f"{at.strftime('%Y%m%d%H%M%S%f')[:17]}::{fill.id}",
        "account_id": account_id,
        "activity_type": "FILL",
        "transaction_time": rfc3339(at),
        "type": "partial_fill" if leaves > 0 else "fill",
        "price": num(fill.price),
        "qty": num(fill.qty),
        "side": fill.side.value,
        "symbol": fill.symbol,
        "leaves_qty": num(leaves),
        "order_id": fill.order_id,
        "cum_qty": num(fill.cumulative_qty if fill.cumulative_qty is not None else fill.qty),
        "order_status": order_status,
    }


def trade_update_json(update: TradeUpdate) -> dict[str, object]:
    """A ``trade_updates`` message for the trading stream; ``order`` is the REST Order JSON."""
    data: dict[str, object] = {
        "event": str(update.event),
        "timestamp": rfc3339(update.timestamp),
        "order": order_json(update.order),
    }
    if update.execution_id is not None:
        data["execution_id"] = update.execution_id
    if update.price is not None:
        data["price"] = num(update.price)
    if update.qty is not None:
        data["qty"] = num(update.qty)
    if update.position_qty is not None:
        data["position_qty"] = num(update.position_qty)
    return {"stream": "trade_updates", "data": data}
