"""The kernel's one order route: risk-passed orders into the ``OrderManager``, the broker's
answers back into the kernel — the same code for the backtest and the live node.

Semantics, the same on every outcome whichever driver runs the sends:

- ``submit`` journals the intent (``OrderManager.prepare``, marked as being sent: one
  durable write, so a crash after it loses nothing) and answers ``ok(client_order_id)``.
  Only a journal that refuses the intent gives a synchronous refusal
  (``journal_error``): nothing was recorded, so nothing may be sent.
- The broker's answer comes back as order updates and fills, never as the return value:
  a broker that rejects the order gives the strategy an accepted submit and then a
  ``REJECTED`` ``on_order_update``, as Alpaca does (it accepts, then rejects on its
  stream), whether the broker refused at once or later.
- ``cancel`` of an unknown or finished order is refused (``unknown_order``,
  ``not_open``); otherwise it is accepted and the ``CANCELED`` update follows.
- Every order update reaches the kernel as an ``Order`` (:func:`order_of`): an order the
  order manager ended itself (refused, given up, canceled before it was sent) is made from
  its intent.

Two drivers run the sends and cancels: :class:`SyncDriver` at once, without an event loop
(the backtest's simulated exchange answers synchronously), and :class:`LoopDriver` as tasks
on the running event loop (the live node). The kernel holds the broker's events while a
submit or cancel is under way, so in both the strategy learns its client order id before
it hears of the order's fate.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Protocol

from stockyard.core import Fill, Order, OrderStatus
from stockyard.execution.oms import ManagedOrder, OrderManager, run_now
from stockyard.obs import get_logger
from stockyard.resilience import ErrorRegistry
from stockyard.strategy import StrategyOrder, SubmitResult

__all__ = ["LoopDriver", "OrderRoute", "RouteDriver", "SyncDriver", "order_of"]

_log = get_logger("trading")
_Send = Coroutine[object, object, object]


class RouteDriver(Protocol):
    """Runs the order manager's sends and cancels: at once, or on an event loop."""

    def run(self, send: _Send) -> None: ...

    @property
    def in_flight(self) -> int: ...

    async def drain(self, timeout_s: float) -> None: ...


class SyncDriver:
    """Runs each send to its end before returning (a synchronous broker: the backtest).

    A send that raises propagates: nothing of a backtest may fail quietly."""

    __slots__ = ()

    def run(self, send: _Send) -> None:
        run_now(send)

    @property
    def in_flight(self) -> int:
        return 0

    async def drain(self, timeout_s: float) -> None:
        return None


class LoopDriver:
    """Runs each send as a task on the running event loop (the live node). A send that
    raises is logged and recorded; the order manager journaled it and reconciliation
    settles the order."""

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._tasks: set[asyncio.Task[object]] = set()

    def run(self, send: _Send) -> None:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(send)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_s: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            _log.error("order send or cancel failed", error=repr(exc))
            self._on_error(exc)


class OrderRoute:
    """The kernel's ``OrderRouter`` over an ``OrderManager``; see the module docstring.

    ``on_order`` and ``on_fill`` receive every order update (as an ``Order``) and every new
    fill the order manager reports; the host hands them to the kernel. ``on_submit`` hears
    of each order journaled and about to be sent, with its client order id."""

    def __init__(
        self,
        manager: OrderManager,
        *,
        driver: RouteDriver | None = None,
        on_order: Callable[[Order], None] | None = None,
        on_fill: Callable[[Fill], None] | None = None,
        on_submit: Callable[[StrategyOrder, str], None] | None = None,
        errors: ErrorRegistry | None = None,
    ) -> None:
        self.manager = manager
        self._on_submit = on_submit
        self._errors = errors
        self.driver: RouteDriver = driver if driver is not None else LoopDriver(self._failed)
        self.submitted = 0
        self.failed = 0
        self._on_order = on_order
        self._on_fill = on_fill
        self._unhooks: list[Callable[[], None]] = []
        if on_order is not None:
            self._unhooks.append(manager.add_update_listener(self._order))
        if on_fill is not None:
            self._unhooks.append(manager.add_fill_listener(self._fill))

    def submit(self, order: StrategyOrder) -> SubmitResult:
        try:
            view = self.manager.prepare(
                order.strategy_id, order.request, created_at=order.created_at, sending=True
            )
        except Exception as exc:  # the journal refused the intent: nothing may be sent
            _log.error("order intent not recorded; not sent", error=repr(exc))
            self._failed(exc)
            return SubmitResult.refused("journal_error", f"the intent was not recorded: {exc}")
        self.submitted += 1
        if self._on_submit is not None:
            self._on_submit(order, view.client_order_id)
        self.driver.run(self.manager.send(view.client_order_id))
        return SubmitResult.ok(view.client_order_id)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        managed = self.manager.order(client_order_id)
        if managed is None or managed.strategy_id != strategy_id:
            return SubmitResult.refused(
                "unknown_order", f"{client_order_id!r} is not an order of {strategy_id!r}"
            )
        if not managed.is_open:
            return SubmitResult.refused("not_open", f"{client_order_id!r} is no longer open")
        self.driver.run(self.manager.cancel(client_order_id))
        return SubmitResult.ok(client_order_id)

    def cancel_all(self) -> int:
        """Ask to cancel every open order the order manager holds; answers how many."""
        orders = self.manager.open_orders()
        for managed in orders:
            self.driver.run(self.manager.cancel(managed.client_order_id))
        return len(orders)

    @property
    def in_flight(self) -> int:
        """Sends and cancels not finished yet."""
        return self.driver.in_flight

    async def drain(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) for the sends and cancels under way."""
        await self.driver.drain(timeout_s)

    def close(self) -> None:
        """Stop hearing the order manager."""
        for unhook in self._unhooks:
            unhook()
        self._unhooks.clear()

    def _order(self, managed: ManagedOrder) -> None:
        if self._on_order is not None:
            self._on_order(order_of(managed))

    def _fill(self, _strategy_id: str, fill: Fill) -> None:
        if self._on_fill is not None:
            self._on_fill(fill)

    def _failed(self, exc: BaseException) -> None:
        self.failed += 1
        if self._errors is not None and isinstance(exc, Exception):
            self._errors.record(exc, component="trading")


def order_of(managed: ManagedOrder) -> Order:
    """The order as the kernel hears of it: the broker's view of ``managed``, with the order
    manager's status where the order manager ended it after the broker had it; for an order
    the broker never had (refused, given up, canceled before it was sent) an ``Order`` made
    from the intent."""
    order = managed.order
    status = managed.status
    if order is not None:
        if status is None or order.status is status:
            return order
        return dataclasses.replace(order, status=status)
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
