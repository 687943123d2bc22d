"""``OrderManager``: the one way an order reaches a broker.

Never lose an order: the intent is journaled before the broker sees anything. Never send one
twice: every send carries the intent's deterministic client order id, and after any failure
that leaves arrival unknown the order is looked up by that id before it is sent again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from stockyard.core import Fill, Order, OrderEventKind, OrderRequest, OrderStatus, TimeInForce
from stockyard.execution._broker import Broker, DuplicateClientOrderIdError, ReplaceRequest
from stockyard.execution.oms._journal import OrderJournal
from stockyard.execution.oms._ledger import OrderLedger, Tracked
from stockyard.execution.oms._reconcile import Reconciler
from stockyard.execution.oms._states import Verdict
from stockyard.execution.oms._values import ManagedOrder, OmsConfig, OrderPhase, ReconcileReport
from stockyard.execution.sim import ExchangeError, TradeUpdate
from stockyard.resilience import (
    ErrorCategory,
    ErrorRegistry,
    MoneyPathError,
    async_retry_policy,
    classify,
)

__all__ = ["OrderManager"]

T = TypeVar("T")


def run_now(coro: Coroutine[object, object, T]) -> T:
    """Run a coroutine that never suspends (a synchronous broker's) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]  # StopIteration.value is Any
    coro.close()
    raise RuntimeError("the broker suspended: it is not synchronous; await the call instead")


class OrderManager:
    """Orders through one broker, journaled, deduplicated and reconciled.

    Call ``await start()`` once (it loads the journal's open orders, subscribes to the broker's
    stream, connects and reconciles). Then ``prepare`` + ``send`` (or ``submit``), ``cancel``,
    ``replace``. Broker updates move orders through the state machine; ``add_update_listener``
    and ``add_fill_listener`` hear every change and every new fill (each fill once). A
    listener that raises is a ``MoneyPathError`` handed to ``on_listener_error`` (the live
    node's: record, alert, kill switch), or raised without one (a backtest aborts).
    """

    def __init__(
        self,
        *,
        broker: Broker,
        journal: OrderJournal,
        clock: Callable[[], datetime],
        config: OmsConfig | None = None,
        registry: ErrorRegistry | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        on_listener_error: Callable[[MoneyPathError], None] | None = None,
    ) -> None:
        self.broker = broker
        self.journal = journal
        self.config = config or OmsConfig()
        self._caps = broker.capabilities
        self._registry = registry
        self._sleep = sleep
        self._ledger = OrderLedger(
            journal,
            clock=clock,
            component=self.config.component,
            max_client_order_id=self._caps.max_client_order_id,
            on_listener_error=on_listener_error,
        )
        self._log = self._ledger.log
        self._reconciler = Reconciler(
            ledger=self._ledger, broker=broker, config=self.config, resend=self._resend
        )
        self._unsubscribe: Callable[[], None] | None = None
        self._reconcile_task: asyncio.Task[ReconcileReport] | None = None
        # Sends whose answer counted fills the stream had not brought: target, and set when
        # the stream has (see _stream_catch_up).
        self._catching_up: dict[str, tuple[Decimal, asyncio.Event]] = {}
        self._reconcile_again = False
        self._settling: set[asyncio.Task[Verdict]] = set()
        self.reconnects = 0

    # -- listeners ----------------------------------------------------------------------

    def add_update_listener(self, callback: Callable[[ManagedOrder], None]) -> Callable[[], None]:
        """Call ``callback`` after every change of an order's state; returns a remover."""
        return self._ledger.listeners.add(self._ledger.listeners.updates, callback)

    def add_fill_listener(self, callback: Callable[[str, Fill], None]) -> Callable[[], None]:
        """Call ``callback(strategy_id, fill)`` once per new fill; returns a remover."""
        return self._ledger.listeners.add(self._ledger.listeners.fills, callback)

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> ReconcileReport:
        """Load open orders from the journal, subscribe, connect, and reconcile."""
        if self._unsubscribe is None:
            self._ledger.load()
            self._unsubscribe = self.broker.subscribe(self)
        await self.broker.connect()
        return await self.reconcile()

    def start_sync(self) -> ReconcileReport:
        """``start`` for a synchronous broker (no event loop needed)."""
        self._require_sync()
        return run_now(self.start())

    async def stop(self) -> None:
        """Stop listening and close the broker (open orders stay open at the broker)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._reconcile_task = self._reconcile_task, None
        if task is not None and not task.done():
            task.cancel()
        for held in tuple(self._settling):
            held.cancel()
        await self.broker.close()

    # -- orders -------------------------------------------------------------------------

    def prepare(
        self,
        strategy_id: str,
        request: OrderRequest,
        *,
        created_at: datetime | None = None,
        sending: bool = False,
    ) -> ManagedOrder:
        """Number ``request``, give it its client order id and journal the intent (durable
        when this returns). Nothing is sent; ``send`` does that. ``sending``: the caller sends
        it next, so the intent is journaled as being sent, in the same write (a crash before
        the send leaves it to be looked up at the broker and resent, as any unsure send)."""
        t = self._ledger.new_intent(strategy_id, request, created_at, sending=sending)
        return self._ledger.view(t)

    async def send(self, client_order_id: str) -> ManagedOrder:
        """Send a prepared order. Refusals end it ``rejected``; a failure that leaves arrival
        unknown is looked up and retried under the retry policy with the same id, and what
        is still unknown after that is left to reconciliation."""
        t = self._tracked(client_order_id)
        first = t.announced or t.phase is OrderPhase.PENDING
        if t.in_flight or not (first or t.phase is OrderPhase.UNKNOWN):
            return self._ledger.view(t)
        await self._deliver(t, resend=not first)
        return self._ledger.view(t)

    async def submit(
        self, strategy_id: str, request: OrderRequest, *, created_at: datetime | None = None
    ) -> ManagedOrder:
        """``prepare`` (journaled as being sent) then ``send``."""
        t = self._ledger.new_intent(strategy_id, request, created_at, sending=True)
        return await self.send(t.client_order_id)

    def submit_sync(
        self, strategy_id: str, request: OrderRequest, *, created_at: datetime | None = None
    ) -> ManagedOrder:
        """``submit`` for a synchronous broker: the same code, driven without an event loop."""
        self._require_sync()
        return run_now(self.submit(strategy_id, request, created_at=created_at))

    async def cancel(self, client_order_id: str) -> ManagedOrder:
        """Ask to cancel an order; the broker's ``canceled`` update ends it. An order not yet
        sent is canceled here; one being sent is canceled as soon as the broker has it."""
        t = self._tracked(client_order_id)
        if not t.is_open:
            return self._ledger.view(t)
        t.cancel_wanted = True
        if t.in_flight:
            self._ledger.record(t, OrderEventKind.CANCEL_REQUESTED, detail="while sending")
            return self._ledger.view(t)
        if t.broker_id is None and t.phase is not OrderPhase.PENDING:
            found = await self.broker.get_order_by_client_id(client_order_id)
            if found is not None:
                await self._reconciler.settle(
                    t, found, OrderEventKind.RECONCILED, detail="found on cancel"
                )
        if t.broker_id is None:
            self._ledger.close(
                t, OrderStatus.CANCELED, OrderEventKind.UPDATE, "canceled before it was sent"
            )
            return self._ledger.view(t)
        if t.is_open:
            await self._cancel_at_broker(t)
        return self._ledger.view(t)

    def cancel_sync(self, client_order_id: str) -> ManagedOrder:
        """``cancel`` for a synchronous broker."""
        self._require_sync()
        return run_now(self.cancel(client_order_id))

    async def replace(
        self,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce | None = None,
    ) -> ManagedOrder:
        """Replace an open order with a new one (a new intent and client order id, same
        strategy); answers the new order. The old one ends ``replaced`` by the broker."""
        old = self._tracked(client_order_id)
        old_id = old.broker_id
        if not old.is_open or old_id is None or old.in_flight:
            raise ValueError(f"{client_order_id!r} is not an open order at the broker")
        if not self._caps.replace:
            raise ValueError(f"{self._caps.name} does not replace orders; cancel and submit")
        request = dataclasses.replace(
            old.intent.request,
            qty=qty if qty is not None else old.intent.request.qty,
            limit_price=limit_price if limit_price is not None else old.intent.request.limit_price,
            stop_price=stop_price if stop_price is not None else old.intent.request.stop_price,
            time_in_force=time_in_force or old.intent.request.time_in_force,
            client_order_id=None,
        )
        new = self._ledger.new_intent(old.intent.strategy_id, request, None)
        change = ReplaceRequest(
            qty=qty,
            limit_price=limit_price,
            stop_price=stop_price,
            time_in_force=time_in_force,
            client_order_id=new.client_order_id,
        )
        new.in_flight = True
        self._ledger.submitting(new)
        order: Order | None
        try:
            order = await self.broker.replace(old_id, change)
        except ExchangeError as exc:
            self._ledger.close(new, OrderStatus.REJECTED, OrderEventKind.REJECTED, str(exc))
            order = None
        except Exception as exc:
            order = await self._after_unknown_replace(new, exc)
        finally:
            new.in_flight = False
        if order is None:
            await self._refresh(old)
            return self._ledger.view(new)
        await self._reconciler.settle(
            new, order, OrderEventKind.SUBMITTED, detail=f"replaces {old.client_order_id}"
        )
        await self._refresh(old)
        return self._ledger.view(new)

    # -- queries ------------------------------------------------------------------------

    def order(self, client_order_id: str) -> ManagedOrder | None:
        t = self._ledger.get(client_order_id)
        return None if t is None else self._ledger.view(t)

    def open_orders(self, strategy_id: str | None = None) -> list[ManagedOrder]:
        return [
            self._ledger.view(t)
            for t in self._ledger.open()
            if strategy_id is None or t.intent.strategy_id == strategy_id
        ]

    def stats(self) -> dict[str, int]:
        """Counters for the health API: open orders, ignored and duplicate updates, fills."""
        return {
            "open_orders": len(self._ledger.open()),
            "stale_updates_ignored": self._ledger.ignored,
            "duplicate_updates": self._ledger.duplicates,
            "fills_recorded": self._ledger.fills_recorded,
            "reconnects": self.reconnects,
            "reconciliations": self._reconciler.runs,
        }

    # -- reconciliation -----------------------------------------------------------------

    async def reconcile(self) -> ReconcileReport:
        """Bring every open order, missed fill and adopted order in line with the broker."""
        return await self._reconciler.run()

    # -- BrokerListener -----------------------------------------------------------------

    def on_trade_update(self, update: TradeUpdate) -> None:
        owed = self._ledger.on_trade_update(update)
        if self._catching_up:
            waiting = self._catching_up.get(update.order.client_order_id)
            t = self._ledger.get(update.order.client_order_id)
            if waiting is not None and t is not None and t.filled >= waiting[0]:
                waiting[1].set()
        if owed is None:
            return
        # The update counts fills we never heard of: fetch them before journaling its state.
        self._log.warning(
            "trade update counts fills not recorded; fetching them first",
            client_order_id=owed.tracked.client_order_id,
            filled_qty=str(owed.order.filled_qty),
        )
        settle = self._reconciler.settle(
            owed.tracked, owed.order, owed.kind, detail=owed.detail, missed=True
        )
        if self._caps.synchronous:
            run_now(settle)
            return
        task = asyncio.get_running_loop().create_task(settle)
        self._settling.add(task)
        task.add_done_callback(self._settled_one)

    def on_reconnect(self) -> None:
        """The stream came back: reconcile (once more if one is already running)."""
        self.reconnects += 1
        self._log.warning("broker stream reconnected; reconciling")
        if self._reconcile_task is not None and not self._reconcile_task.done():
            self._reconcile_again = True
            return
        self._reconcile_task = asyncio.get_running_loop().create_task(self._reconcile_loop())

    async def settled(self) -> ReconcileReport | None:
        """Wait for a reconciliation started by a reconnect, and for trade updates held back
        until their missed fills were fetched; the reconciliation's report (``None`` if none)."""
        while held := [task for task in self._settling if not task.done()]:
            await asyncio.gather(*held, return_exceptions=True)  # each failure is logged
        task = self._reconcile_task
        return None if task is None else await task

    def _settled_one(self, task: asyncio.Task[Verdict]) -> None:
        self._settling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Left open in the journal: the next reconciliation applies it, fills first.
            error = task.exception()
            self._log.error("held-back trade update failed", error=repr(error))
            if self._registry is not None and isinstance(error, Exception):
                self._registry.record(error, component=self.config.component)

    async def _reconcile_loop(self) -> ReconcileReport:
        while True:
            self._reconcile_again = False
            try:
                report = await self.reconcile()
            except Exception as exc:  # the next reconnect (or start) tries again
                self._log.error("reconciliation failed", error=repr(exc))
                if self._registry is not None:
                    self._registry.record(exc, component=self.config.component)
                raise
            if not self._reconcile_again:
                return report

    # -- sending ------------------------------------------------------------------------

    def _tracked(self, client_order_id: str) -> Tracked:
        t = self._ledger.get(client_order_id)
        if t is None:
            raise ValueError(f"no order with client_order_id {client_order_id!r}")
        return t

    def _require_sync(self) -> None:
        if not self._caps.synchronous:
            raise RuntimeError(f"{self._caps.name} is not a synchronous broker; await instead")

    async def _resend(self, t: Tracked) -> None:
        await self._deliver(t, resend=True)

    async def _deliver(self, t: Tracked, *, resend: bool) -> None:
        t.in_flight = True
        try:
            outcome = await self._attempt_delivery(t, resend=resend)
        finally:
            t.in_flight = False
        if outcome is None:
            return
        order, kind, detail = outcome
        if not _same_order(t, order):
            self._ledger.close(
                t,
                OrderStatus.REJECTED,
                OrderEventKind.REJECTED,
                f"client_order_id collision: the broker's {order.id} is another order",
            )
            return
        if order.filled_qty > t.filled and not self._caps.synchronous:
            # The answer overtook the stream: the fills it counts are on their way there.
            await self._stream_catch_up(t, order.filled_qty)
        await self._reconciler.settle(t, order, kind, detail=detail)  # fetches what is missing
        if t.cancel_wanted and t.is_open:
            await self._cancel_at_broker(t)

    async def _stream_catch_up(self, t: Tracked, filled: Decimal) -> None:
        """Wait (at most ``stream_grace_s``) for the stream to bring ``t``'s fills up to
        ``filled``, so that they need not be fetched (a REST call per order, against the
        broker's rate limit)."""
        grace = self.config.stream_grace_s
        if grace <= 0:
            return
        arrived = asyncio.Event()
        self._catching_up[t.client_order_id] = (filled, arrived)
        try:
            await asyncio.wait_for(arrived.wait(), grace)
        except TimeoutError:
            self._log.info(
                "the stream did not bring the fills in time; fetching them",
                client_order_id=t.client_order_id,
                grace_s=grace,
            )
        finally:
            self._catching_up.pop(t.client_order_id, None)

    async def _attempt_delivery(
        self, t: Tracked, *, resend: bool
    ) -> tuple[Order, OrderEventKind, str | None] | None:
        try:
            order = await self._send_with_lookup(t, resend=resend)
        except DuplicateClientOrderIdError:
            found = await self.broker.get_order_by_client_id(t.client_order_id)
            if found is None:
                self._ledger.failed(t, "duplicate client_order_id, yet not found")
                return None
            return found, OrderEventKind.RECONCILED, "already at the broker"
        except ExchangeError as exc:
            self._ledger.close(t, OrderStatus.REJECTED, OrderEventKind.REJECTED, str(exc))
            return None
        except Exception as exc:
            error = classify(exc)
            if not error.retryable:
                self._ledger.failed(t, str(error))
                raise
            self._log.warning(
                "order left to reconciliation", client_order_id=t.client_order_id, error=str(error)
            )
            return None
        return order, OrderEventKind.SUBMITTED, None

    async def _send_with_lookup(self, t: Tracked, *, resend: bool) -> Order:
        """Send; after a failure that leaves arrival unknown, look the order up by its client
        order id and send again (same id) only if the broker does not have it."""
        lookup_first = resend

        async def attempt() -> Order:
            nonlocal lookup_first
            if lookup_first:
                found = await self.broker.get_order_by_client_id(t.client_order_id)
                if found is not None:
                    return found
                self._log.warning("resending order", client_order_id=t.client_order_id)
            lookup_first = True
            if t.announced:  # journaled with its intent
                t.announced = False
            else:
                self._ledger.submitting(t)
            try:
                return await self.broker.submit(t.intent.request)
            except ExchangeError:
                raise
            except Exception as exc:
                if classify(exc).retryable:
                    self._ledger.failed(t, str(classify(exc)))
                raise

        if self._caps.synchronous:
            return await attempt()  # an in-process venue has no transient failures to retry
        policy = async_retry_policy(
            ErrorCategory.NETWORK,
            max_attempts=self.config.submit_attempts,
            component=self.config.component,
            sleep=self._sleep,
            registry=self._registry,
        )
        result: Order = await policy(attempt)
        return result

    async def _cancel_at_broker(self, t: Tracked) -> None:
        assert t.broker_id is not None  # callers check
        self._ledger.record(t, OrderEventKind.CANCEL_REQUESTED)
        try:
            await self.broker.cancel(t.broker_id)
        except ExchangeError as exc:
            self._log.info("cancel refused", client_order_id=t.client_order_id, error=str(exc))
            await self._refresh(t)

    async def _refresh(self, t: Tracked) -> None:
        if t.broker_id is None:
            return
        order = await self.broker.get_order(t.broker_id)
        if order is not None:
            await self._reconciler.settle(t, order, OrderEventKind.RECONCILED, detail="refreshed")

    async def _after_unknown_replace(self, new: Tracked, exc: Exception) -> Order | None:
        error = classify(exc)
        if not error.retryable:
            self._ledger.close(new, OrderStatus.REJECTED, OrderEventKind.REJECTED, str(error))
            raise exc
        found = await self.broker.get_order_by_client_id(new.client_order_id)
        if found is None:
            # Never resent: a replacement sent again as a fresh order would be a second order.
            self._ledger.close(
                new, OrderStatus.REJECTED, OrderEventKind.REJECTED, f"replace failed: {error}"
            )
        return found


def _same_order(t: Tracked, order: Order) -> bool:
    """Whether the broker's ``order`` under our client order id is the one we intended."""
    request = t.intent.request
    return (
        order.symbol == request.symbol
        and order.side is request.side
        and (request.qty is None or order.qty is None or order.qty == request.qty)
    )
