"""The live node's order route: the kernel's ``OrderRouter`` over the ``OrderManager``.

``submit`` is synchronous (a strategy's verb is): it journals the intent, marked as being
sent, with ``OrderManager.prepare`` — one write, durable when it returns, so a crash after
it loses nothing (the restarted node looks the order up at the broker before sending it
again) — and schedules ``send`` on the event loop. The broker's answer comes back through the
order manager's listeners, never through this return value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

from stockyard.core import Order, OrderStatus
from stockyard.execution.oms import ManagedOrder, OrderManager
from stockyard.obs import get_logger
from stockyard.resilience import ErrorRegistry
from stockyard.strategy import StrategyOrder, SubmitResult

__all__ = ["OmsRouter", "order_of"]

_log = get_logger("trading")


class OmsRouter:
    """Risk-passed orders into the order manager; sends and cancels run as loop tasks."""

    def __init__(
        self,
        manager: OrderManager,
        *,
        errors: ErrorRegistry | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.manager = manager
        self._errors = errors
        self._on_error = on_error
        self._tasks: set[asyncio.Task[object]] = set()
        self.submitted = 0
        self.failed = 0

    def submit(self, order: StrategyOrder) -> SubmitResult:
        try:
            view = self.manager.prepare(
                order.strategy_id, order.request, created_at=order.created_at, sending=True
            )
        except Exception as exc:  # the journal refused the intent: nothing may be sent
            self.failed += 1
            _log.error("order intent not recorded; not sent", error=repr(exc))
            self._record(exc)
            return SubmitResult.refused("journal_error", f"the intent was not recorded: {exc}")
        self.submitted += 1
        self._spawn(self.manager.send(view.client_order_id))
        return SubmitResult.ok(view.client_order_id)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        managed = self.manager.order(client_order_id)
        if managed is None or managed.strategy_id != strategy_id:
            return SubmitResult.refused(
                "unknown_order", f"{client_order_id!r} is not an order of {strategy_id!r}"
            )
        if not managed.is_open:
            return SubmitResult.refused("not_open", f"{client_order_id!r} is no longer open")
        self._spawn(self.manager.cancel(client_order_id))
        return SubmitResult.ok(client_order_id)

    def cancel_all(self) -> int:
        """Ask to cancel every open order the order manager holds; answers how many."""
        orders = self.manager.open_orders()
        for managed in orders:
            self._spawn(self.manager.cancel(managed.client_order_id))
        return len(orders)

    @property
    def in_flight(self) -> int:
        """Sends and cancels not finished yet."""
        return len(self._tasks)

    async def drain(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) for the sends and cancels under way."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # the order manager journaled it; reconciliation settles it
            self.failed += 1
            _log.error("order send or cancel failed", error=repr(exc))
            self._record(exc)

    def _record(self, exc: BaseException) -> None:
        if self._errors is not None and isinstance(exc, Exception):
            self._errors.record(exc, component="trading")
        if self._on_error is not None:
            self._on_error(exc)


def order_of(managed: ManagedOrder) -> Order:
    """The broker's view of ``managed``; for an order the order manager ended itself
    (refused, given up, canceled before it was sent) an ``Order`` made from the intent."""
    order = managed.order
    status = managed.status
    if order is not None and (status is None or order.status is status):
        return order
    request = managed.request
    return Order(
        id=managed.broker_order_id or managed.client_order_id,
        client_order_id=managed.client_order_id,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        status=status or OrderStatus.PENDING_NEW,
        created_at=managed.created_at,
        updated_at=managed.updated_at,
        qty=request.qty,
        notional=request.notional,
        filled_qty=managed.filled_qty,
        filled_avg_price=managed.filled_avg_price,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        reject_reason=managed.detail,
    )
