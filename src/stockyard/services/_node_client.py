"""``NodeClient``: how a service reaches one trading node, in the same process or not.

Two implementations answer the same typed calls: ``LocalNodeClient`` (the node in this
process; calls hop onto the node's event loop, but positions and the account are read from
a snapshot at most ``MAX_AGE_S`` old, see ``_node_snapshot``) and ``SocketNodeClient``
(HTTP over the Unix socket the node serves, see ``_node_socket``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from stockyard.core import Fill, OrderEvent, OrderIntent, OrderRequest
from stockyard.engine import TradingNode
from stockyard.engine._node_control import (
    BotModel,
    BotState,
    NodeControl,
    NodeControlError,
    PnlLine,
)
from stockyard.execution.oms import ManagedOrder
from stockyard.services._errors import ServiceError
from stockyard.services._models import (
    AccountView,
    BotModelView,
    BotsView,
    BotView,
    CloseOutcome,
    EquityPointView,
    EquityView,
    FillsView,
    FillView,
    KillState,
    NodeStatusView,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    PnlLineView,
    PnlView,
    PositionsView,
    PositionView,
)
from stockyard.services._node_snapshot import ReadSnapshot, Snapshot
from stockyard.strategy import SubmitResult

__all__ = ["LocalNodeClient", "NodeClient"]

T = TypeVar("T")


class NodeClient(Protocol):
    """One trading node's reads and control verbs; errors are ``ServiceError``."""

    name: str

    async def account(self) -> AccountView: ...
    async def positions(self) -> PositionsView: ...
    async def orders(self, *, open_only: bool = True, limit: int = 100) -> OrdersView: ...
    async def order(self, client_order_id: str) -> OrderView: ...
    async def fills(self, *, since: datetime | None = None, limit: int = 500) -> FillsView: ...
    async def pnl(self, *, since: datetime | None = None) -> PnlView: ...
    async def bots(self) -> BotsView: ...
    async def equity(self, *, since: datetime | None = None) -> EquityView: ...
    async def status(self) -> NodeStatusView: ...
    async def submit(self, ticket: OrderTicket) -> OrderOutcome: ...
    async def cancel(self, client_order_id: str) -> OrderOutcome: ...
    async def replace(self, client_order_id: str, change: OrderChange) -> OrderOutcome: ...
    async def halt(self, reason: str, *, flatten: bool) -> KillState: ...
    async def reset(self) -> KillState: ...
    async def close_position(self, symbol: str) -> CloseOutcome: ...
    async def close_all(self) -> CloseOutcome: ...
    async def pause(self, bot_id: str) -> BotView: ...
    async def resume(self, bot_id: str) -> BotView: ...
    async def set_params(self, bot_id: str, values: dict[str, object]) -> BotView: ...
    async def close(self) -> None: ...


_STATUS = {"not_started": 503, "no_position": 404}


def service_error(exc: NodeControlError) -> ServiceError:
    """The service error a face answers for ``exc``."""
    if exc.code.startswith("unknown_"):
        status = 404
    elif exc.code.startswith("risk_"):
        status = 422
    else:
        status = _STATUS.get(exc.code, 409)
    return ServiceError(exc.code, exc.message, status=status)


class LocalNodeClient:
    """A node of this process. Reads and verbs run on the node's event loop: directly when
    called from it, else handed over to it (``loop``: the node's, e.g. ``NodeThread.loop``).

    From another loop, ``positions`` and ``account`` answer the node's latest read snapshot
    without a hand-over when it is at most ``max_age_s`` old (``_node_snapshot``); a control
    verb drops the snapshot, so its caller then reads what it did."""

    def __init__(
        self,
        node: TradingNode,
        *,
        name: str = "main",
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.name = name
        self.node = node
        self.control = NodeControl(node)
        self._loop = loop
        self.reads = None if loop is None else ReadSnapshot(self._snapshot, loop)

    async def _on_node(self, work: Callable[[], Awaitable[T]]) -> T:
        loop = self._loop
        here = asyncio.get_running_loop()
        try:
            if loop is None or loop is here:
                return await work()

            async def hop() -> T:
                return await work()

            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(hop(), loop))
        except NodeControlError as exc:
            raise service_error(exc) from None

    async def _call(self, fn: Callable[[], T]) -> T:
        async def work() -> T:
            return fn()

        return await self._on_node(work)

    async def _verb(self, fn: Callable[[], T]) -> T:
        """``fn`` on the node's loop, then the read snapshot dropped (it may have changed)."""

        def act() -> T:
            try:
                return fn()
            finally:
                self._changed()

        return await self._call(act)

    def _changed(self) -> None:
        if self.reads is not None:
            self.reads.invalidate()

    async def _read(self, pick: Callable[[Snapshot], T]) -> T:
        """``pick`` of a fresh snapshot: the latest one without a hand-over when it is
        fresh enough, else one built on the node's loop."""
        reads = self.reads
        if reads is None or self._loop is asyncio.get_running_loop():
            return pick(self._snapshot(time.monotonic()))
        snapshot = reads.fresh()
        if snapshot is None:
            snapshot = await self._call(reads.current)
        return pick(snapshot)

    def _snapshot(self, at: float) -> Snapshot:
        return Snapshot(at=at, positions=self._positions(), account=self._account())

    # -- reads -----------------------------------------------------------------------------

    async def account(self) -> AccountView:
        if self.reads is None:
            return await self._call(self._account)
        return await self._read(lambda s: s.account)

    def _account(self) -> AccountView:
        # Marked at the last prices through the kernel's view: a read never moves the books.
        kernel = self.control.kernel
        view = kernel.view
        long = short = unrealized = Decimal(0)
        for p in view.positions().values():
            price = p.current_price if p.current_price is not None else p.avg_entry_price
            value = p.qty * price
            unrealized += (price - p.avg_entry_price) * p.qty
            if value >= 0:
                long += value
            else:
                short -= value
        return AccountView(
            node=self.name,
            mode=self.node.config.mode.value,
            run_id=self.node.run_id,
            cash=view.cash,
            equity=view.equity(),
            realized_pl=kernel.portfolio.realized_pl(),
            unrealized_pl=unrealized,
            long_exposure=long,
            short_exposure=short,
            gross_exposure=long + short,
            net_exposure=long - short,
            open_orders=len(self.control.manager.open_orders()),
            kill=self._kill(),
        )

    def _kill(self) -> KillState:
        risk = self.control.kernel.risk
        return KillState(
            halted=risk.kill_reason is not None,
            reason=risk.kill_reason,
            daily_halt=risk.daily_halt,
        )

    async def positions(self) -> PositionsView:
        if self.reads is None:
            return await self._call(self._positions)
        return await self._read(lambda s: s.positions)

    def _positions(self) -> PositionsView:
        out = []
        for symbol, p in sorted(self.control.kernel.view.positions().items()):
            price = p.current_price
            unrealized = Decimal(0) if price is None else (price - p.avg_entry_price) * p.qty
            out.append(
                PositionView(
                    symbol=symbol,
                    qty=p.qty,
                    avg_entry_price=p.avg_entry_price,
                    current_price=price,
                    market_value=None if price is None else p.qty * price,
                    unrealized_pl=unrealized,
                )
            )
        return PositionsView(node=self.name, positions=out)

    async def orders(self, *, open_only: bool = True, limit: int = 100) -> OrdersView:
        def read() -> OrdersView:
            if open_only:
                found = [_managed(m) for m in self.control.open_orders()[:limit]]
            else:
                found = [_journaled(i, e) for i, e in self.control.order_history(limit=limit)]
            return OrdersView(node=self.name, orders=found)

        return await self._call(read)

    async def order(self, client_order_id: str) -> OrderView:
        return await self._call(lambda: _managed(self.control.order(client_order_id)))

    async def fills(self, *, since: datetime | None = None, limit: int = 500) -> FillsView:
        def read() -> FillsView:
            found = self.control.fills(since=since)[-limit:]
            return FillsView(node=self.name, fills=[_fill(f) for f in found])

        return await self._call(read)

    async def pnl(self, *, since: datetime | None = None) -> PnlView:
        def read() -> PnlView:
            return PnlView(
                node=self.name,
                since=since,
                by_bot=[_line(p) for p in self.control.pnl_by_bot(since=since)],
                by_symbol=[_line(p) for p in self.control.pnl_by_symbol()],
            )

        return await self._call(read)

    async def bots(self) -> BotsView:
        return await self._call(
            lambda: BotsView(node=self.name, bots=[_bot(b) for b in self.control.bots()])
        )

    async def equity(self, *, since: datetime | None = None) -> EquityView:
        def books_now() -> tuple[str | None, EquityPointView | None]:
            node = self.node
            if node.kernel is None:
                return node.run_id, None
            view = node.kernel.view  # the books marked now, on the node's clock
            now = EquityPointView(
                time=node.clock.now(), equity=view.equity(), cash=view.cash, run_id=node.run_id
            )
            return node.run_id, now

        def saved(current: str | None) -> list[EquityPointView]:
            # Off the node's loop: the snapshots of this run and of the earlier runs of
            # the same bots in the same mode.
            node = self.node
            ids = [current] if current else []
            if current is not None and (run := node.runs.run(current)) is not None:
                ids += [
                    r.id
                    for r in node.runs.runs(mode=run.mode, limit=200)
                    if r.strategies == run.strategies and r.id != current
                ]
            return [
                EquityPointView(time=s.timestamp, equity=s.equity, cash=s.cash, run_id=r)
                for r, s in node.stores.snapshots.equity_history(ids, since=since)
            ]

        current, now = await self._call(books_now)
        points = await asyncio.to_thread(saved, current)
        if now is not None and (not points or now.time > points[-1].time):
            points.append(now)
        return EquityView(node=self.name, since=since, points=points)

    async def status(self) -> NodeStatusView:
        def read() -> NodeStatusView:
            node = self.node
            last = node.last_market_at
            session = node.session
            return NodeStatusView(
                node=self.name,
                time=node.clock.now(),
                mode=node.config.mode.value,
                run_id=node.run_id,
                running=node.running,
                bars=node.bars,
                ticks=node.ticks,
                fills=node.fills,
                orders_sent=0 if session is None else session.router.submitted,
                open_orders=0 if session is None else len(session.manager.open_orders()),
                feed_lag_s=None if last is None else round(time.monotonic() - last, 3),
                **_latency(node.bar_to_order),
            )

        return await self._call(read)

    # -- orders ----------------------------------------------------------------------------

    async def submit(self, ticket: OrderTicket) -> OrderOutcome:
        try:
            request = OrderRequest(
                symbol=ticket.symbol,
                side=ticket.side,
                qty=ticket.qty,
                notional=ticket.notional,
                type=ticket.type,
                time_in_force=ticket.time_in_force,
                limit_price=ticket.limit_price,
                stop_price=ticket.stop_price,
            )
        except ValueError as exc:
            raise ServiceError("bad_order", str(exc), status=400) from None
        key = ticket.client_order_id
        return await self._verb(lambda: _outcome(self.control.submit(request, key=key)))

    async def cancel(self, client_order_id: str) -> OrderOutcome:
        return await self._verb(lambda: _outcome(self.control.cancel(client_order_id)))

    async def replace(self, client_order_id: str, change: OrderChange) -> OrderOutcome:
        async def work() -> OrderOutcome:
            try:
                new = await self.control.replace(
                    client_order_id,
                    qty=change.qty,
                    limit_price=change.limit_price,
                    stop_price=change.stop_price,
                )
            finally:  # the original may be cancelled even when the replacement fails
                self._changed()
            rejected = new.status is not None and new.status.value == "rejected"
            return OrderOutcome(
                accepted=not rejected,
                client_order_id=new.client_order_id,
                code="rejected" if rejected else None,
                reason=new.detail if rejected else None,
            )

        return await self._on_node(work)

    # -- kill switch, positions ------------------------------------------------------------

    async def halt(self, reason: str, *, flatten: bool) -> KillState:
        def act() -> KillState:
            self.control.halt(reason, flatten=flatten)
            return self._kill()

        return await self._verb(act)

    async def reset(self) -> KillState:
        def act() -> KillState:
            self.control.reset()
            return self._kill()

        return await self._verb(act)

    async def close_position(self, symbol: str) -> CloseOutcome:
        return await self._verb(
            lambda: CloseOutcome(orders=[_outcome(r) for r in self.control.close_position(symbol)])
        )

    async def close_all(self) -> CloseOutcome:
        return await self._verb(
            lambda: CloseOutcome(orders=[_outcome(r) for r in self.control.close_all()])
        )

    # -- bots ------------------------------------------------------------------------------

    def _bot_view(self, bot_id: str) -> BotView:
        for bot in self.control.bots():
            if bot.bot_id == bot_id:
                return _bot(bot)
        raise NodeControlError("unknown_bot", f"no bot {bot_id!r}")

    async def pause(self, bot_id: str) -> BotView:
        def act() -> BotView:
            self.control.pause(bot_id)
            return self._bot_view(bot_id)

        return await self._call(act)

    async def resume(self, bot_id: str) -> BotView:
        def act() -> BotView:
            self.control.resume(bot_id)
            return self._bot_view(bot_id)

        return await self._call(act)

    async def set_params(self, bot_id: str, values: dict[str, object]) -> BotView:
        def act() -> BotView:
            self.control.set_params(bot_id, values)
            return self._bot_view(bot_id)

        return await self._call(act)

    async def close(self) -> None:
        """Nothing to release for a node of this process."""


# -- conversions ---------------------------------------------------------------------------


def _outcome(result: SubmitResult) -> OrderOutcome:
    return OrderOutcome(
        accepted=result.accepted,
        client_order_id=result.client_order_id,
        code=result.code,
        reason=result.reason,
    )


def _managed(m: ManagedOrder) -> OrderView:
    r = m.request
    return OrderView(
        client_order_id=m.client_order_id,
        bot=m.strategy_id,
        symbol=r.symbol,
        side=r.side,
        type=r.type,
        qty=r.qty,
        notional=r.notional,
        limit_price=r.limit_price,
        stop_price=r.stop_price,
        status=None if m.status is None else m.status.value,
        phase=m.phase.value,
        filled_qty=m.filled_qty,
        filled_avg_price=m.filled_avg_price,
        created_at=m.created_at,
        updated_at=m.updated_at,
        detail=m.detail,
    )


def _journaled(intent: OrderIntent, event: OrderEvent | None) -> OrderView:
    r = intent.request
    return OrderView(
        client_order_id=intent.client_order_id,
        bot=intent.strategy_id,
        symbol=r.symbol,
        side=r.side,
        type=r.type,
        qty=r.qty,
        notional=r.notional,
        limit_price=r.limit_price,
        stop_price=r.stop_price,
        status=None if event is None or event.status is None else event.status.value,
        phase=None,
        filled_qty=Decimal(0) if event is None else event.filled_qty,
        filled_avg_price=None if event is None else event.filled_avg_price,
        created_at=intent.created_at,
        updated_at=None if event is None else event.timestamp,
        detail=None if event is None else event.detail,
    )


def _fill(f: Fill) -> FillView:
    return FillView(
        id=f.id,
        client_order_id=f.client_order_id,
        symbol=f.symbol,
        side=f.side,
        qty=f.qty,
        price=f.price,
        fee=f.fee,
        timestamp=f.timestamp,
    )


def _line(p: PnlLine) -> PnlLineView:
    return PnlLineView(name=p.name, realized=p.realized, unrealized=p.unrealized, fees=p.fees)


def _bot(b: BotState) -> BotView:
    return BotView(
        bot_id=b.bot_id,
        strategy=b.strategy,
        symbols=list(b.symbols),
        status=b.status,
        paused=b.paused,
        params={k: (str(v) if isinstance(v, Decimal) else v) for k, v in b.params.items()},
        changeable=list(b.changeable),
        positions=dict(b.positions),
        model=None if b.model is None else _model(b.model),
    )


def _model(m: BotModel) -> BotModelView:
    return BotModelView(
        model_id=m.model_id,
        state=m.state,
        ok=m.ok,
        message=m.message,
        age_days=m.age_days,
        importance=dict(m.importance),
        drift=m.drift,
    )


def _latency(samples: Sequence[float]) -> dict[str, Any]:
    """p50 and p99 (ms, nearest rank) of bar-to-order ``samples`` (seconds), and how many."""
    if not samples:
        return {"bar_to_order_samples": 0}
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000.0, 3)

    return {
        "bar_to_order_p50_ms": rank(0.50),
        "bar_to_order_p99_ms": rank(0.99),
        "bar_to_order_samples": len(ordered),
    }
