"""Risk verdicts: a refusal is a value with a machine code and a human reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

__all__ = ["LastPrice", "RiskCode", "RiskRejection"]


class RiskCode(StrEnum):
    """Why risk refused an order; one code per rule (see docs/risk.md)."""

    KILL_SWITCH = "kill_switch"
    DAILY_LOSS = "daily_loss"
    UNKNOWN_SYMBOL = "unknown_symbol"
    MARKET_CLOSED = "market_closed"
    NO_PRICE = "no_price"
    PRICE_BAND = "price_band"
    MAX_ORDER_QTY = "max_order_qty"
    MAX_NOTIONAL = "max_notional"
    MAX_POSITION = "max_position"
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    MAX_OPEN_ORDERS = "max_open_orders"
    THROTTLE = "throttle"
    BOT_PAUSED = "bot_paused"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskRejection:
    """An order risk refused. ``deferrable``: only the market is closed; the node may hold
    the order and submit it again at the open (``when_closed = "queue"``)."""

    code: RiskCode
    reason: str
    symbol: str | None = None
    deferrable: bool = False

    def __str__(self) -> str:
        return f"{self.code.value}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LastPrice:
    """The last trade price of a symbol and when it printed."""

    price: Decimal
    at: datetime
