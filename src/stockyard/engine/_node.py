"""``TradingNode``: the kernel wired to a live feed, a real broker and the state database.

    feed ──▶ bus md.* ──▶ node ──▶ Kernel (strategies → risk) ──▶ OrderManager ──▶ broker
                                     ▲                                  │ updates, fills
                                     └──────── portfolio, strategies ◀──┘──▶ bus exec.*

The strategies, risk engine, order manager and portfolio are the backtester's own (the
kernel); only the clock, the feed and the broker differ (DESIGN.md §3). The node adds what
a process needs around them: a run record, the order journal, strategy state saved and
loaded, equity snapshots, reconciliation with the broker on start and after every
reconnect, the kill switch, health checks and a graceful stop. Docs: docs/node.md.

The node keeps its life cycle (start, run, stop, the kill switch); what exists only while
it runs — the run's journal, the order manager over the broker, the order route, the kernel
with its books, the kill switch — is built at start as one ``NodeSession`` whose members
are never ``None`` (``node.session``; ``node.kernel`` and the like read it).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from prometheus_client import CollectorRegistry

from stockyard.bus import MessageBus, Subscription
from stockyard.config import NodeSettings, RiskSettings, StrategySettings
from stockyard.core import AssetClass, Bar, Clock, Fill, Order, Quote, Timeframe, Trade, WallClock
from stockyard.data import HistoricalSource, MarketCalendar
from stockyard.data.feeds import LiveFeed
from stockyard.engine._kernel import Kernel
from stockyard.engine._kernel_router import OrderRoute
from stockyard.engine._node_books import (
    NodeReconcile,
    missing_fills,
    opening_portfolio,
)
from stockyard.engine._node_clock import VenueClock
from stockyard.engine._node_metrics import NO_BOT, NodeMetrics, snapshot_books, trading_collector
from stockyard.engine._node_persist import NodeStores, persist_node
from stockyard.engine._node_safety import KillSwitch
from stockyard.engine._node_session import KernelHooks, NodeSession, wire_kernel
from stockyard.engine._node_warmup import fetch_warmup, warmup_need
from stockyard.execution import Broker, TradeUpdate
from stockyard.execution.oms import (
    OmsConfig,
    OrderManager,
    OrderPhase,
    ReconcileReport,
)
from stockyard.obs import get_logger, log_trade
from stockyard.resilience import CircuitBreaker, ErrorRegistry, MoneyPathError
from stockyard.risk import RiskEngine
from stockyard.store import (
    Database,
    RunMode,
    SqlErrorStore,
    SqlOrderJournal,
    SqlRunStore,
    SqlSnapshotStore,
    SqlStrategyStateStore,
    StrategySpec,
)
from stockyard.strategy import BarRow, Strategy, StrategyError, StrategyOrder, strategy_class

__all__ = ["NodeConfig", "TradingNode", "strategy_spec"]

_log = get_logger("trading")
_NS = timedelta(microseconds=1)
_NO_TIMER = 1 << 62  # the scheduler's next due time when no timer is armed is larger


# The defaults live in the settings sections ([node], strategy.history_size).
_NODE_DEFAULTS = NodeSettings()
_STRATEGY_DEFAULTS = StrategySettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """How a node runs. Periods are wall seconds.

    ``snapshot_every_s``: strategy state, equity and positions saved this often (and at
    stop). ``reconcile_every_s``: a reconciliation when orders are left in doubt (a send
    whose arrival is unknown). ``status_every_s``: a status log line. ``cancel_on_stop``:
    cancel open orders on a graceful stop (default: leave them working at the broker).
    ``halt_on_listener_error``: a fill or order-update listener that raises trips the kill
    switch (default on; the fault is recorded and alerted either way). ``warmup``: on
    start, feed the strategies the recent bars they declare (``Strategy.warmup_bars``) from
    the node's ``history`` source, placing no orders.
    """

    mode: RunMode = RunMode.SANDBOX
    snapshot_every_s: float = _NODE_DEFAULTS.snapshot_every_s
    reconcile_every_s: float = _NODE_DEFAULTS.reconcile_every_s
    status_every_s: float = _NODE_DEFAULTS.status_every_s
    tick_s: float = _NODE_DEFAULTS.tick_s
    stop_timeout_s: float = _NODE_DEFAULTS.stop_timeout_s
    history_size: int = _STRATEGY_DEFAULTS.history_size
    cancel_on_stop: bool = _NODE_DEFAULTS.cancel_on_stop
    halt_on_listener_error: bool = True
    warmup: bool = _NODE_DEFAULTS.warmup

    def __post_init__(self) -> None:
        for name in ("snapshot_every_s", "reconcile_every_s", "status_every_s", "tick_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")


class TradingNode:
    """Strategies trading live through risk and the order manager; see the module docstring.

    ``await node.start()`` (reconciles, restores, starts strategies and the feed),
    ``await node.run(duration=..)`` (start, wait, stop), ``await node.stop()``.
    ``venue_time`` (with a ``VenueClock``) reads the venue's clock on start.
    ``metrics_registry``: where its Prometheus metrics go while it runs (the process's
    registry by default; ``engine._node_metrics``). Every order sent, order update and
    fill is a line of the ``trading`` log naming its bot.
    """

    def __init__(
        self,
        *,
        strategies: Sequence[Strategy],
        broker: Broker,
        database: Database,
        bus: MessageBus,
        feed: LiveFeed | None = None,
        clock: Clock | None = None,
        risk: RiskSettings | None = None,
        config: NodeConfig | None = None,
        oms: OmsConfig | None = None,
        errors: ErrorRegistry | None = None,
        venue_time: Callable[[], Awaitable[datetime]] | None = None,
        calendar: MarketCalendar | None = None,
        metrics_registry: CollectorRegistry | None = None,
        history: HistoricalSource | None = None,
    ) -> None:
        if not strategies:
            raise StrategyError("a node needs at least one strategy")
        ids = [s.strategy_id for s in strategies]
        if len(set(ids)) != len(ids):
            raise StrategyError(f"strategy ids must be unique in a node, got {ids}")
        self.strategies = tuple(strategies)
        self.symbols = tuple(sorted({sym for s in strategies for sym in s.symbols}))
        self.broker = broker
        self.database = database
        self.bus = bus
        self.feed = feed
        self.clock: Clock = clock if clock is not None else WallClock()
        self.config = config or NodeConfig()
        self.errors = errors if errors is not None else ErrorRegistry()
        self._venue_time = venue_time
        self._history = history
        # Bars fed by the last warm-up, per symbol, and the newest one's open time (ns): a
        # live bar no newer is one the warm-up already delivered.
        self.warmup_bars: dict[str, int] = {}
        self._warmed_to: dict[str, int] = {}
        self._calendar = calendar or MarketCalendar.nyse()
        self._universe = frozenset(self.symbols)
        self.risk = RiskEngine(
            risk,
            now=self.clock.now,
            market_open=self._market_open,
            tradable=self._universe.__contains__,
        )
        self._oms_config = oms or OmsConfig(component="trading")
        self.runs = SqlRunStore(database)
        self.stores = NodeStores(
            states=SqlStrategyStateStore(database),
            snapshots=SqlSnapshotStore(database),
            errors=SqlErrorStore(database),
        )
        self._metrics_registry = metrics_registry
        self._init_state()

    def _init_state(self) -> None:
        """What the node keeps between and during its sessions, empty."""
        self._session: NodeSession | None = None  # built by start; kept after stop
        self.reconciliations: list[NodeReconcile] = []
        self.failure: str | None = None
        # Why the last reconciliation failed (None once one succeeds): health fails on it.
        self.reconcile_failure: str | None = None
        self.started_at: float | None = None  # monotonic time of the last start
        # Money-path faults of this session, newest last (kept 100): each is recorded in the
        # error registry, logged as critical, shown by the ``node:faults`` health check
        # (which alerts) and handed to every ``fault_listeners`` callback.
        self.faults: list[MoneyPathError] = []
        self.fault_listeners: list[Callable[[MoneyPathError], None]] = []
        self.status_listeners: list[Callable[[dict[str, object]], None]] = []
        # Each new fill with its bot's id, and each housekeeping tick (notifications).
        self.fill_listeners: list[Callable[[Fill, str], None]] = []
        self.tick_listeners: list[Callable[[], None]] = []
        self.metrics: NodeMetrics | None = None  # while it runs
        self.bars = self.ticks = self.fills = 0
        self.last_market_at: float | None = None  # monotonic time of the last md message
        self.last_bar_at: dict[str, float] = {}  # symbol -> monotonic time of its last bar
        # Seconds from each of the last 1,000 bars that made orders to those orders handed to
        # the order manager (the dashboard's percentiles; the metrics have the histogram).
        self.bar_to_order: deque[float] = deque(maxlen=1000)
        self._subscription: Subscription | None = None
        self._unhook_broker: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._reconcile_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._running = False
        self._feed_reconnects = 0
        self._observe = self.clock.observe if isinstance(self.clock, VenueClock) else None
        # Per timeframe: its span and each symbol's pusher (the session's kernel's; forgotten
        # at each start). The last timeframe seen is kept by identity: bars of one feed
        # share one Timeframe, whose hash is Python code.
        self._frames: dict[Timeframe, tuple[timedelta, dict[str, Callable[[BarRow], None]]]] = {}
        self._frame: Timeframe | None = None
        self._frame_span = timedelta(0)
        self._frame_pushers: dict[str, Callable[[BarRow], None]] = {}

    # -- the session: what exists only while the node runs --------------------------------

    @property
    def session(self) -> NodeSession | None:
        """This run's journal, order manager, route, kernel and kill switch (see
        ``NodeSession``); ``None`` before the first start. Kept after stop."""
        return self._session

    @property
    def run_id(self) -> str | None:
        return None if self._session is None else self._session.run_id

    @property
    def journal(self) -> SqlOrderJournal | None:
        return None if self._session is None else self._session.journal

    @property
    def manager(self) -> OrderManager | None:
        return None if self._session is None else self._session.manager

    @property
    def router(self) -> OrderRoute | None:
        return None if self._session is None else self._session.router

    @property
    def kernel(self) -> Kernel | None:
        return None if self._session is None else self._session.kernel

    @property
    def kill_switch(self) -> KillSwitch | None:
        return None if self._session is None else self._session.kill_switch

    # -- life ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Record the run, reconcile with the broker, restore the books and strategies,
        then start the strategies and the feed."""
        if self._running:
            return
        self._session = None  # the last run's books stay behind; nothing reaches them now
        self._forget_frames()
        session = self._session = await self._open_session()
        kernel = session.kernel
        books = await self._reconcile_books("start")
        self.reconciliations[-1] = _merged(session.opened, books)
        kernel.start()
        await self._warm_up(kernel)
        self.persist()  # the equity curve's first point: where the session starts (venue time)
        self._subscription = self.bus.subscribe("md.>", self._on_market)
        if self.feed is not None:
            self.feed.add_symbols(self.symbols)
            await self.feed.start()
        self._running = True
        self._attach_metrics(session)
        self.started_at = time.monotonic()
        self._spawn(self._housekeeping())
        _log.info(
            "node started",
            run_id=session.run_id,
            open_orders=len(session.manager.open_orders()),
            positions={s: str(p.qty) for s, p in kernel.portfolio.positions().items()},
        )

    async def _warm_up(self, kernel: Kernel) -> None:
        """Feed the strategies the history they declare, refusing their orders (see
        ``_node_warmup``); a source that fails leaves them cold, with the error recorded."""
        self.warmup_bars, self._warmed_to = {}, {}
        need = warmup_need(self.strategies)
        if not self.config.warmup or self._history is None or not need:
            return
        try:
            rows = await fetch_warmup(self._history, need, now=self.clock.now())
        except Exception as exc:  # trading cold beats not trading; the error is kept
            self.errors.record(exc, component="trading")
            _log.error("warm-up history could not be read; bots start cold", error=repr(exc))
            return
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.symbol] = counts.get(row.symbol, 0) + 1
            self._warmed_to[row.symbol] = row.ts
        kernel.runner.warm_up(rows)
        self.warmup_bars = counts
        _log.info("bots warmed up from history", bars=counts, need=need)

    async def _open_session(self) -> NodeSession:
        """Record the run, open the journal and the order manager (which reconciles orders),
        rebuild the books from the journal and wire the kernel."""
        ids = [s.strategy_id for s in self.strategies]
        run_id = self.runs.start_run(
            mode=self.config.mode,
            strategies=ids,
            symbols=self.symbols,
            specs=[strategy_spec(s) for s in self.strategies],
        )
        _log.info(
            "node starting",
            run_id=run_id,
            mode=self.config.mode.value,
            strategies=ids,
            symbols=list(self.symbols),
        )
        # Group commit: events and fills are committed once per loop turn, intents at once.
        journal = SqlOrderJournal(
            self.database, run_id=run_id, defer=asyncio.get_running_loop().call_soon
        )
        journal.failure_listeners.append(self._on_journal_failure)
        manager = OrderManager(
            broker=self.broker,
            journal=journal,
            clock=self.clock.now,
            config=self._oms_config,
            registry=self.errors,
            on_listener_error=self._on_listener_error,
        )
        await self.broker.connect()
        if self._venue_time is not None and isinstance(self.clock, VenueClock):
            self.clock.seed(await self._venue_time())
        opened = await manager.start()  # open intents loaded, stream subscribed, reconciled
        await missing_fills(journal, self.broker)
        account = await self.broker.account()
        router, kernel, kill_switch = wire_kernel(
            strategies=self.strategies,
            manager=manager,
            journal=journal,
            portfolio=opening_portfolio(journal.fills(), broker_cash=account.cash),
            states=self.stores.states,
            clock=self.clock,
            risk=self.risk,
            history_size=self.config.history_size,
            errors=self.errors,
            hooks=KernelHooks(
                on_order=self._on_order,
                on_fill=self._on_fill,
                on_fault=self._faulted,
                on_submit=self._on_submit,
            ),
        )
        self._unhook_broker = self.broker.subscribe(self)
        return NodeSession(
            run_id=run_id,
            journal=journal,
            manager=manager,
            router=router,
            kernel=kernel,
            kill_switch=kill_switch,
            opened=opened,
        )

    async def stop(self) -> None:
        """Stop gracefully: the feed and strategies stop, sends under way finish, state is
        saved, the broker closes. Open orders stay at the broker unless ``cancel_on_stop``."""
        session = self._session
        if not self._running or session is None:
            return
        self._running = False
        self._stop.set()
        if self.feed is not None:
            await self.feed.stop()
        if self._subscription is not None:
            self._subscription.cancel()
        session.kernel.stop()
        if self.config.cancel_on_stop:
            session.router.cancel_all()
        await session.router.drain(self.config.stop_timeout_s)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.persist()
        session.router.close()
        if self._unhook_broker is not None:
            self._unhook_broker()
        await session.manager.stop()
        session.journal.flush()
        self.runs.stop_run(session.run_id)
        self._detach_metrics()
        _log.info("node stopped", **self.stats())

    async def run(
        self, *, duration: float | None = None, stop: asyncio.Event | None = None
    ) -> None:
        """Start, trade until :meth:`run_until` returns, then stop gracefully."""
        await self.start()
        try:
            await self.run_until(stop, duration=duration)
        finally:
            await self.stop()

    async def run_until(
        self, stop: asyncio.Event | None = None, *, duration: float | None = None
    ) -> None:
        """Wait while the node trades: until ``stop`` is set, ``duration`` s pass,
        :meth:`request_stop` is called or the feed fails for good."""
        waiters = [asyncio.ensure_future(self._stop.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (safe from a signal handler on the node's loop)."""
        self._stop.set()

    def kill(self, reason: str) -> None:
        """Pull the kill switch: refuse new orders, cancel every open order, flatten."""
        self.risk.engage(reason)

    # -- market data -----------------------------------------------------------------------

    def _on_market(self, _topic: str, message: object) -> None:
        # The hot path (docs/node.md, bench node): one dict lookup per bar for its pusher,
        # the venue clock moved only when it follows the venue, timers only when due.
        session = self._session
        if session is None or not self._running:
            return
        kernel = session.kernel
        kind = type(message)
        now = time.monotonic()
        observe = self._observe
        if kind is Bar:
            bar: Bar = message  # type: ignore[assignment]  # checked just above
            if bar.timeframe is not self._frame:
                self._select_frame(bar.timeframe)
            push = self._frame_pushers.get(bar.symbol)
            if push is None:
                if bar.symbol not in self._universe:
                    return
                push = self._pusher(kernel, bar)
            if observe is not None:
                observe(bar.timestamp + self._frame_span)
            self.bars += 1
            self.last_bar_at[bar.symbol] = now
            route = session.router
            sent = route.submitted
            push(BarRow.from_bar(bar))
            if route.submitted != sent:
                self._made_orders(route.submitted - sent, now, bar=True)
        elif kind is Trade or kind is Quote:
            route = session.router
            sent = route.submitted
            if not self._on_tick(kernel, message):  # type: ignore[arg-type]  # checked above
                return
            if route.submitted != sent:
                self._made_orders(route.submitted - sent, now, bar=False)
        else:
            return
        self.last_market_at = now
        if kernel.runner.next_timer_ns < _NO_TIMER:
            kernel.advance(self.clock.now())

    def _made_orders(self, orders: int, arrived: float, *, bar: bool) -> None:
        """A bar (or a trade or quote) that arrived at ``arrived`` made ``orders`` orders."""
        took = time.monotonic() - arrived
        if bar:
            self.bar_to_order.append(took)
        if self.metrics is not None:
            self.metrics.after_market(orders, took, bar=bar)

    def _on_tick(self, kernel: Kernel, tick: Trade | Quote) -> bool:
        if tick.symbol not in self._universe:
            return False
        if self._observe is not None:
            self._observe(tick.timestamp)
        self.ticks += 1
        if type(tick) is Trade:
            kernel.on_trade(tick)
        else:
            kernel.on_quote(tick)  # type: ignore[arg-type]  # a Quote here
        return True

    def _select_frame(self, frame: Timeframe) -> None:
        known = self._frames.get(frame)
        if known is None:
            known = self._frames[frame] = (frame.delta, {})
        self._frame = frame
        self._frame_span, self._frame_pushers = known

    def _pusher(self, kernel: Kernel, bar: Bar) -> Callable[[BarRow], None]:
        push = kernel.bar_pusher(bar.symbol, span_ns=self._frame_span // _NS * 1000)
        pushers, symbol = self._frame_pushers, bar.symbol
        warmed_to = self._warmed_to.get(symbol)
        if warmed_to is None:
            pushers[symbol] = push
            return push

        def after_warmup(row: BarRow) -> None:
            # Until a bar newer than the warm-up's last arrives (then the plain pusher takes
            # over): a bar the warm-up delivered is not delivered twice.
            if row.ts > warmed_to:
                pushers[symbol] = push
                push(row)

        pushers[symbol] = after_warmup
        return after_warmup

    # -- execution -------------------------------------------------------------------------

    def _on_submit(self, order: StrategyOrder, client_order_id: str) -> None:
        request = order.request
        _log.info(
            "order submitted",
            bot=order.strategy_id,
            client_order_id=client_order_id,
            symbol=request.symbol,
            side=request.side.value,
            qty=None if request.qty is None else str(request.qty),
            notional=None if request.notional is None else str(request.notional),
            type=request.type.value,
            limit_price=None if request.limit_price is None else str(request.limit_price),
        )
        if self.metrics is not None:
            self.metrics.on_submit(order.strategy_id)

    def _on_order(self, order: Order) -> None:
        session = self._session
        if session is None:
            return
        if isinstance(self.clock, VenueClock):
            self.clock.observe(order.updated_at)
        session.kernel.on_order_update(order)
        bot = session.kernel.owners.get(order.client_order_id, NO_BOT)
        _log.info(
            "order update",
            bot=bot,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            status=order.status.value,
            filled_qty=str(order.filled_qty),
            reason=order.reject_reason,
        )
        if self.metrics is not None:
            self.metrics.on_order(order, bot)
        self.bus.publish("exec.order", order)

    def _on_fill(self, fill: Fill) -> None:
        session = self._session
        if session is None:
            return
        if isinstance(self.clock, VenueClock):
            self.clock.observe(fill.timestamp)
        self.fills += 1
        session.kernel.on_fill(fill)
        bot = session.kernel.owners.get(fill.client_order_id, NO_BOT)
        log_trade(
            symbol=fill.symbol,
            side=fill.side.value,
            qty=fill.qty,
            price=fill.price,
            order_id=fill.client_order_id,
            strategy=bot,
            bot=bot,
            fill_id=fill.id,
            fee=str(fill.fee),
        )
        if self.metrics is not None:
            self.metrics.on_fill(fill, bot)
            self._refresh_metrics()
        for listener in list(self.fill_listeners):
            try:
                listener(fill, bot)
            except Exception as exc:  # a notification must not stop trading
                _log.error("fill listener failed", error=repr(exc))
        self.bus.publish("exec.fill", fill)
        # The position the fill left (flat: qty 0), for the event stream and other processes.
        self.bus.publish("exec.position", session.kernel.portfolio.position(fill.symbol))
        self.bus.publish("exec.pnl", self._pnl_now(session))

    def _pnl_now(self, session: NodeSession) -> dict[str, object]:
        """The books after a fill, as plain values (topic ``exec.pnl``): equity and cash
        (exact, as text) and, with metrics on, each bot's realized and unrealized P&L."""
        kernel = session.kernel
        out: dict[str, object] = {
            "equity": str(kernel.view.equity()),
            "cash": str(kernel.portfolio.cash),
        }
        if self.metrics is not None:
            realized, unrealized = self.metrics.bot_pnl(kernel.latest_price)
            out["realized"] = dict(realized)
            out["unrealized"] = dict(unrealized)
        return out

    # BrokerListener: the node hears reconnects of the broker's stream too.

    def on_trade_update(self, update: TradeUpdate) -> None:
        """Trade updates reach the node through the order manager, not here."""

    def on_reconnect(self) -> None:
        """The broker's stream came back: after the order manager's reconciliation, the
        node reconciles its books."""
        self._spawn(self._after_broker_reconnect())

    async def _after_broker_reconnect(self) -> None:
        session = self._running_session()
        failed = None
        try:
            await session.manager.settled()
        except Exception as exc:  # a fault; the books are still checked
            failed = "order reconciliation after a broker reconnect failed"
            self._fault(failed, exc)
        try:
            await self._reconcile_books("broker reconnect")
        except Exception as exc:
            failed = "books reconciliation after a broker reconnect failed"
            self._fault(failed, exc)
        self.reconcile_failure = failed

    # -- faults on the money path ----------------------------------------------------------

    def _fault(self, what: str, exc: Exception, *, halt: bool = False) -> None:
        """Record a money-path fault: the error registry, a critical log line, health and
        the fault listeners; ``halt`` also trips the kill switch (on the next loop turn,
        outside the code that failed)."""
        error = exc if isinstance(exc, MoneyPathError) else None
        if error is None:
            error = MoneyPathError(f"{what}: {exc!r}", context={"what": what}, cause=exc)
        self.errors.record(error, component="trading")
        _log.critical("money path fault", error=error.message, halt=halt)
        self._faulted(error)
        if halt and self.risk.kill_reason is None:
            reason = f"money path fault: {error.message}"
            try:
                asyncio.get_running_loop().call_soon(self.kill, reason)
            except RuntimeError:  # no loop running (a synchronous caller): at once
                self.kill(reason)

    def _faulted(self, error: MoneyPathError) -> None:
        self.faults.append(error)
        del self.faults[:-100]
        for listener in list(self.fault_listeners):
            try:
                listener(error)
            except Exception as exc:  # an alert channel must not stop trading
                _log.error("fault listener failed", error=repr(exc))

    def _on_listener_error(self, error: MoneyPathError) -> None:
        self._fault(error.message, error, halt=self.config.halt_on_listener_error)

    def _on_journal_failure(self, exc: Exception, held: int) -> None:
        self._fault(f"order journal: group commit failed, {held} records held in memory", exc)

    # -- reconciliation --------------------------------------------------------------------

    async def reconcile(self, reason: str = "requested") -> NodeReconcile:
        """Reconcile orders and fills (order manager), then positions and cash (books).
        A failure is kept in ``reconcile_failure`` (health reads it) until one succeeds."""
        try:
            report = await self._running_session().manager.reconcile()
            books = await self._reconcile_books(reason)
        except Exception as exc:
            self.reconcile_failure = f"reconciliation ({reason}) failed: {exc!r}"
            raise
        self.reconcile_failure = None
        merged = self.reconciliations[-1] = _merged(report, books)
        return merged

    async def _reconcile_books(self, reason: str) -> NodeReconcile:
        kernel = self._running_session().kernel
        async with self._reconcile_lock:
            positions = await self.broker.positions()
            account = await self.broker.account()
            # A symbol with an order working may have a fill on its way to us: the broker's
            # figure already counts it, ours not yet. Those wait for the next reconciliation.
            books = kernel.portfolio
            working = {s for s, ids in kernel.working.items() if ids}
            theirs = [p for p in positions if p.symbol not in working]
            theirs += [books.position(s) for s in sorted(working) if books.qty(s)]
            cash = books.cash if working else account.cash
            corrections = books.reconcile(theirs, cash)
            if working:
                _log.info(
                    "books: symbols with working orders checked next time", symbols=sorted(working)
                )
        done = NodeReconcile(
            at=self.clock.now(),
            reason=reason,
            orders_corrected=0,
            resubmitted=(),
            given_up=(),
            missing=(),
            corrections=tuple(corrections),
        )
        self.reconciliations.append(done)
        del self.reconciliations[:-100]
        _log.info("books reconciled with the broker", reason=reason, corrections=len(corrections))
        return done

    # -- housekeeping ----------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        config = self.config
        last_save = last_status = last_check = time.monotonic()
        while self._running:
            await asyncio.sleep(config.tick_s)
            session = self._session
            if session is None:
                continue
            session.kernel.advance(self.clock.now())
            now = time.monotonic()
            try:
                await self._watch_feed()
                if now - last_check >= config.reconcile_every_s:
                    last_check = now
                    if self._orders_in_doubt():
                        await self.reconcile("orders in doubt")
                if now - last_save >= config.snapshot_every_s:
                    last_save = now
                    self.persist()
                if now - last_status >= config.status_every_s:
                    last_status = now
                    self._report_status()
                self._refresh_metrics()
                for listener in list(self.tick_listeners):
                    listener()
            except Exception as exc:  # housekeeping must outlive one failed round
                _log.error("node housekeeping failed", error=repr(exc), exc_info=exc)
                self.errors.record(exc, component="trading")

    async def _watch_feed(self) -> None:
        feed = self.feed
        if feed is None:
            return
        stats = feed.stats()
        reconnects = stats.get("reconnects")
        if isinstance(reconnects, int) and reconnects > self._feed_reconnects:
            self._feed_reconnects = reconnects
            _log.warning("market data feed reconnected; reconciling", reconnects=reconnects)
            try:
                await self.reconcile("feed reconnect")
            except Exception as exc:
                self._fault("reconciliation after a feed reconnect failed", exc)
        failure = stats.get("failure")
        if failure and self.failure is None:
            self.failure = f"market data feed stopped: {failure}"
            _log.error("node stopping: the feed failed", reason=self.failure)
            self._stop.set()

    def _orders_in_doubt(self) -> bool:
        session = self._running_session()
        doubtful = (OrderPhase.UNKNOWN, OrderPhase.SUBMITTING)
        return any(m.phase in doubtful for m in session.manager.open_orders()) and not (
            session.router.in_flight
        )

    def persist(self) -> None:
        """Save every strategy's state, an equity and a positions snapshot, error counts."""
        session = self._session
        if session is None:
            return
        session.journal.flush()  # the saved state never runs ahead of the journal
        persist_node(
            self.stores,
            kernel=session.kernel,
            run_id=session.run_id,
            clock=self.clock,
            errors=self.errors,
        )

    def _report_status(self) -> None:
        stats = self.stats()
        _log.info("node status", **stats)
        for listener in list(self.status_listeners):
            try:
                listener(stats)
            except Exception as exc:  # a display must not stop trading
                _log.error("status listener failed", error=repr(exc))

    def stats(self) -> dict[str, object]:
        """Counters and books for status lines, logs and health (JSON-friendly)."""
        session = self._session
        out: dict[str, object] = {
            "run_id": None if session is None else session.run_id,
            "mode": self.config.mode.value,
            "bars": self.bars,
            "ticks": self.ticks,
            "fills": self.fills,
        }
        if session is not None:
            kernel, oms = session.kernel, session.manager.stats()
            out["orders"] = session.router.submitted
            out["open_orders"] = oms["open_orders"]
            out["reconciliations"] = oms["reconciliations"]
            out["refused"] = len(kernel.refusals)
            out["equity"] = str(kernel.view.equity())
            out["cash"] = str(kernel.portfolio.cash)
            out["realized_pl"] = str(kernel.portfolio.realized_pl())
            out["positions"] = {s: str(p.qty) for s, p in kernel.portfolio.positions().items()}
            out["strategy_failures"] = len(kernel.runner.failures)
        out["faults"] = len(self.faults)
        return out

    # -- metrics ---------------------------------------------------------------------------

    def _attach_metrics(self, session: NodeSession) -> None:
        metrics = trading_collector(self._metrics_registry).attach(self.config.mode.value)
        metrics.seed(
            {
                s.strategy_id: session.journal.fills(strategy_id=s.strategy_id)
                for s in self.strategies
            }
        )
        metrics.market_data = lambda: (self.bars, self.ticks, self.last_market_at)
        metrics.running = True
        self.metrics = metrics
        self._refresh_metrics()

    def _detach_metrics(self) -> None:
        metrics, self.metrics = self.metrics, None
        if metrics is not None:
            metrics.running = False
            trading_collector(self._metrics_registry).detach(metrics)

    def _refresh_metrics(self) -> None:
        """Take a snapshot of the books for the metrics (each fill and each tick)."""
        session, metrics = self._session, self.metrics
        if session is None or metrics is None:
            return
        breaker = getattr(self.broker, "breaker", None)
        stats = self.feed.stats() if self.feed is not None else {}
        reconnects = stats.get("reconnects")
        metrics.refresh(
            snapshot_books(
                metrics,
                kernel=session.kernel,
                risk=self.risk,
                breaker=breaker if isinstance(breaker, CircuitBreaker) else None,
                faults=len(self.faults),
                feed_reconnects=reconnects if isinstance(reconnects, int) else 0,
            )
        )

    # -- internals -------------------------------------------------------------------------

    def _running_session(self) -> NodeSession:
        session = self._session
        if session is None:
            raise RuntimeError("the node has not started")
        return session

    def _forget_frames(self) -> None:
        self._frames = {}
        self._frame = None
        self._frame_span = timedelta(0)
        self._frame_pushers = {}

    def _market_open(self, symbol: str, at: datetime) -> bool:
        return AssetClass.of_symbol(symbol) is AssetClass.CRYPTO or self._calendar.is_open(at)

    def market_open(
        self, symbols: Sequence[str] | None = None, *, at: datetime | None = None
    ) -> bool:
        """Whether the market of any of ``symbols`` (default: the node's) is open ``at``
        (default: now by the node's clock) by the node's calendar; crypto never closes."""
        now = self.clock.now() if at is None else at
        return any(
            self._market_open(s, now) for s in (self.symbols if symbols is None else symbols)
        )

    def _spawn(self, coro: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def strategy_spec(strategy: Strategy) -> StrategySpec:
    """How to make ``strategy`` again (live vs backtest replays a run's strategies): its
    registered name, else ``module:Class``, with its id, symbols and parameter values."""
    cls = type(strategy)
    try:
        registered = strategy_class(cls.name) is cls
    except StrategyError:
        registered = False
    reference = cls.name if registered else f"{cls.__module__}:{cls.__qualname__}"
    return StrategySpec(
        strategy_id=strategy.strategy_id,
        reference=reference,
        symbols=strategy.symbols,
        params={k: str(v) if isinstance(v, Decimal) else v for k, v in strategy.parameters.items()},
    )


def _merged(report: ReconcileReport, books: NodeReconcile) -> NodeReconcile:
    return NodeReconcile(
        at=books.at,
        reason=books.reason,
        orders_corrected=report.corrections,
        resubmitted=report.resubmitted,
        given_up=report.given_up,
        missing=report.missing,
        corrections=books.corrections,
    )
