"""What the order manager writes down: an intent before it is sent, then each event.

These values cross floors: the order manager (``execution``) produces them and the store
(``store``) persists them, so they live here, below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stockyard.core._orders import OrderRequest, OrderStatus

__all__ = ["OrderEvent", "OrderEventKind", "OrderIntent"]


class OrderEventKind(StrEnum):
    """Why an order's recorded state changed."""

    SUBMITTING = "submitting"  # about to call the broker (after the intent is durable)
    SUBMITTED = "submitted"  # the broker acknowledged it
    SUBMIT_FAILED = "submit_failed"  # the call failed; whether the broker has it is unknown
    UPDATE = "update"  # a trade update from the broker (new, partial_fill, fill, canceled, ...)
    CANCEL_REQUESTED = "cancel_requested"
    REJECTED = "rejected"  # refused by risk or by the broker
    RECONCILED = "reconciled"  # corrected from the broker's view after a restart or reconnect


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """An order the node decided to send, persisted *before* it is sent.

    ``client_order_id`` is deterministic (strategy id and sequence), so a restarted node
    that finds the intent can ask the broker whether it arrived instead of sending it twice.
    """

    client_order_id: str
    strategy_id: str
    sequence: int
    request: OrderRequest
    created_at: datetime

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if self.sequence < 0:
            raise ValueError(f"sequence must be >= 0, got {self.sequence}")
        if self.request.client_order_id not in (None, self.client_order_id):
            raise ValueError("the request's client_order_id differs from the intent's")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """One change in an order's recorded state."""

    client_order_id: str
    kind: OrderEventKind
    status: OrderStatus | None
    timestamp: datetime
    broker_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
