"""What a strategy's verbs hand orders to, and what comes back: the one gate out.

A strategy never holds a broker. Its verbs build an ``OrderRequest`` and pass
a ``StrategyOrder`` to the injected :class:`OrderGateway`. The live node wires the gateway to
risk → order manager → broker; the backtester wires the very same chain to the simulated
exchange. ``(strategy_id, sequence)`` is unique and repeatable run to run, so the order manager
can derive a deterministic ``client_order_id`` from it and persist the intent first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from stockyard.core import OrderRequest

__all__ = ["OrderGateway", "StrategyOrder", "SubmitResult", "TimerEvent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyOrder:
    """One order a strategy asked for: who, its per-strategy sequence number, what, when.

    The order manager turns it into a ``core.OrderIntent`` by giving it a client order id
    derived from ``(strategy_id, sequence)``, and persists that before sending.
    """

    strategy_id: str
    sequence: int
    request: OrderRequest
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitResult:
    """The answer to a submit or cancel: accepted with its client order id, or refused.

    A refusal has a machine ``code`` (``invalid_order``, ``max_notional``, ...) and a human
    ``reason``; nothing reached the broker.
    """

    accepted: bool
    client_order_id: str | None = None
    code: str | None = None
    reason: str | None = None

    @classmethod
    def ok(cls, client_order_id: str) -> SubmitResult:
        """An accepted order (or cancel request) and its client order id."""
        return cls(accepted=True, client_order_id=client_order_id)

    @classmethod
    def refused(cls, code: str, reason: str) -> SubmitResult:
        """A refused order: nothing was sent."""
        return cls(accepted=False, code=code, reason=reason)

    def __bool__(self) -> bool:
        return self.accepted


class OrderGateway(Protocol):
    """Where strategy verbs send orders; implemented by the node and the backtester."""

    def submit(self, intent: StrategyOrder) -> SubmitResult:
        """Check (risk), record and send an order; never raises for a refused order."""
        ...

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        """Ask to cancel one of ``strategy_id``'s open orders."""
        ...


@dataclass(frozen=True, slots=True)
class TimerEvent:
    """A timer a strategy scheduled has come due: its name and the time it was due."""

    name: str
    due: datetime
