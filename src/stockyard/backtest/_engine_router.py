"""The backtest's order route: the kernel's ``OrderRouter`` over the live ``OrderManager``
driving a ``SimBroker`` synchronously (``submit_sync``: the same code as live, no loop).

The order manager journals each intent (in memory here), gives it its deterministic client
order id and sends it; the simulated exchange answers at once, and its trade updates and
fills come back through the order manager's listeners into the kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from stockyard.core import Fill, Order, OrderStatus
from stockyard.execution.oms import ManagedOrder, OrderManager
from stockyard.strategy import StrategyOrder, SubmitResult

__all__ = ["SyncOmsRouter"]


class SyncOmsRouter:
    """Risk-passed orders into an ``OrderManager`` over a synchronous broker."""

    def __init__(
        self,
        manager: OrderManager,
        *,
        on_order: Callable[[Order], None],
        on_fill: Callable[[Fill], None],
    ) -> None:
        self.manager = manager
        self._on_order = on_order
        self._on_fill = on_fill
        manager.add_update_listener(self._update)
        manager.add_fill_listener(self._fill)

    def submit(self, order: StrategyOrder) -> SubmitResult:
        managed = self.manager.submit_sync(
            order.strategy_id, order.request, created_at=order.created_at
        )
        if managed.status is OrderStatus.REJECTED:
            return SubmitResult.refused("broker_rejected", managed.detail or "rejected")
        return SubmitResult.ok(managed.client_order_id)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        managed = self.manager.order(client_order_id)
        if managed is None or managed.strategy_id != strategy_id:
            return SubmitResult.refused(
                "unknown_order", f"{client_order_id!r} is not an order of {strategy_id!r}"
            )
        if not managed.is_open:
            return SubmitResult.refused("not_open", f"{client_order_id!r} is no longer open")
        self.manager.cancel_sync(client_order_id)
        return SubmitResult.ok(client_order_id)

    def _update(self, managed: ManagedOrder) -> None:
        order = managed.order
        if order is None:  # ended before the broker had it (refused): nothing to track
            return
        if managed.status is not None and order.status is not managed.status:
            order = dataclasses.replace(order, status=managed.status)
        self._on_order(order)

    def _fill(self, strategy_id: str, fill: Fill) -> None:
        self._on_fill(fill)
