"""``TradingNode``: the kernel wired to a live feed, a real broker and the state database.

    feed ──▶ bus md.* ──▶ node ──▶ Kernel (strategies → risk) ──▶ OrderManager ──▶ broker
                                     ▲                                  │ updates, fills
                                     └──────── portfolio, strategies ◀──┘──▶ bus exec.*

The strategies, risk engine, order manager and portfolio are the backtester's own (the
kernel); only the clock, the feed and the broker differ (DESIGN.md §3). The node adds what
a process needs around them: a run record, the order journal, strategy state saved and
loaded, equity snapshots, reconciliation with the broker on start and after every
reconnect, the kill switch, health checks and a graceful stop. Docs: docs/node.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from stockyard.bus import MessageBus, Subscription
from stockyard.config import RiskSettings
from stockyard.core import AssetClass, Bar, Clock, Fill, Quote, Timeframe, Trade, WallClock
from stockyard.data import MarketCalendar
from stockyard.data.feeds import LiveFeed
from stockyard.engine._kernel import Kernel
from stockyard.engine._node_books import (
    NodeReconcile,
    missing_fills,
    opening_portfolio,
    restore_strategy,
)
from stockyard.engine._node_clock import VenueClock
from stockyard.engine._node_persist import NodeStores, persist_node
from stockyard.engine._node_router import OmsRouter, order_of
from stockyard.engine._node_safety import KillSwitch
from stockyard.execution import Broker, TradeUpdate
from stockyard.execution.oms import (
    ManagedOrder,
    OmsConfig,
    OrderManager,
    OrderPhase,
    ReconcileReport,
)
from stockyard.obs import get_logger
from stockyard.portfolio import Portfolio
from stockyard.resilience import ErrorRegistry
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
from stockyard.strategy import BarRow, Strategy, StrategyError, strategy_class

__all__ = ["NodeConfig", "TradingNode", "strategy_spec"]

_log = get_logger("trading")
_NS = timedelta(microseconds=1)
_NO_TIMER = 1 << 62  # the scheduler's next due time when no timer is armed is larger


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """How a node runs. Periods are wall seconds.

    ``snapshot_every_s``: strategy state, equity and positions saved this often (and at
    stop). ``reconcile_every_s``: a reconciliation when orders are left in doubt (a send
    whose arrival is unknown). ``status_every_s``: a status log line. ``cancel_on_stop``:
    cancel open orders on a graceful stop (default: leave them working at the broker).
    """

    mode: RunMode = RunMode.SANDBOX
    snapshot_every_s: float = 30.0
    reconcile_every_s: float = 30.0
    status_every_s: float = 10.0
    tick_s: float = 1.0
    stop_timeout_s: float = 10.0
    history_size: int = 1024
    cancel_on_stop: bool = False

    def __post_init__(self) -> None:
        for name in ("snapshot_every_s", "reconcile_every_s", "status_every_s", "tick_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")


class TradingNode:
    """Strategies trading live through risk and the order manager; see the module docstring.

    ``await node.start()`` (reconciles, restores, starts strategies and the feed),
    ``await node.run(duration=..)`` (start, wait, stop), ``await node.stop()``.
    ``venue_time`` (with a ``VenueClock``) reads the venue's clock on start.
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
        self.run_id: str | None = None
        self.journal: SqlOrderJournal | None = None
        self.manager: OrderManager | None = None
        self.router: OmsRouter | None = None
        self.kernel: Kernel | None = None
        self.kill_switch: KillSwitch | None = None
        self.reconciliations: list[NodeReconcile] = []
        self.failure: str | None = None
        self.status_listeners: list[Callable[[dict[str, object]], None]] = []
        self.bars = self.ticks = self.fills = 0
        self.last_market_at: float | None = None  # monotonic time of the last md message
        self.last_bar_at: dict[str, float] = {}  # symbol -> monotonic time of its last bar
        self._subscription: Subscription | None = None
        self._unhooks: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self._reconcile_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._running = False
        self._feed_reconnects = 0
        self._observe = self.clock.observe if isinstance(self.clock, VenueClock) else None
        # Per timeframe: its span and each symbol's pusher. The last timeframe seen is kept
        # by identity: bars of one feed share one Timeframe, whose hash is Python code.
        self._frames: dict[Timeframe, tuple[timedelta, dict[str, Callable[[BarRow], None]]]] = {}
        self._frame: Timeframe | None = None
        self._frame_span = timedelta(0)
        self._frame_pushers: dict[str, Callable[[BarRow], None]] = {}

    # -- life ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Record the run, reconcile with the broker, restore the books and strategies,
        then start the strategies and the feed."""
        if self._running:
            return
        strategies = [s.strategy_id for s in self.strategies]
        self.run_id = self.runs.start_run(
            mode=self.config.mode,
            strategies=strategies,
            symbols=self.symbols,
            specs=[strategy_spec(s) for s in self.strategies],
        )
        _log.info(
            "node starting",
            run_id=self.run_id,
            mode=self.config.mode.value,
            strategies=strategies,
            symbols=list(self.symbols),
        )
        # Group commit: events and fills are committed once per loop turn, intents at once.
        journal = self.journal = SqlOrderJournal(
            self.database, run_id=self.run_id, defer=asyncio.get_running_loop().call_soon
        )
        manager = self.manager = OrderManager(
            broker=self.broker,
            journal=journal,
            clock=self.clock.now,
            config=self._oms_config,
            registry=self.errors,
        )
        await self.broker.connect()
        if self._venue_time is not None and isinstance(self.clock, VenueClock):
            self.clock.seed(await self._venue_time())
        report = await manager.start()  # open intents loaded, stream subscribed, reconciled
        await missing_fills(journal, self.broker)
        account = await self.broker.account()
        portfolio = opening_portfolio(journal.fills(), broker_cash=account.cash)
        self._build_kernel(manager, portfolio)
        books = await self._reconcile_books("start")
        self.reconciliations[-1] = _merged(report, books)
        kernel = self.kernel
        assert kernel is not None  # built just above
        kernel.start()
        self.persist()  # the equity curve's first point: where the session starts (venue time)
        self._subscription = self.bus.subscribe("md.>", self._on_market)
        if self.feed is not None:
            self.feed.add_symbols(self.symbols)
            await self.feed.start()
        self._running = True
        self._spawn(self._housekeeping())
        _log.info(
            "node started",
            run_id=self.run_id,
            open_orders=len(manager.open_orders()),
            positions={s: str(p.qty) for s, p in kernel.portfolio.positions().items()},
        )

    def _build_kernel(self, manager: OrderManager, portfolio: Portfolio) -> None:
        router = self.router = OmsRouter(manager, errors=self.errors)
        kernel = self.kernel = Kernel(
            clock=self.clock,
            orders=router,
            risk=self.risk,
            portfolio=portfolio,
            history_size=self.config.history_size,
            errors=self.errors,
        )
        assert self.journal is not None
        for strategy in self.strategies:
            kernel.add(strategy)
        for strategy in self.strategies:
            sid = strategy.strategy_id
            held = manager.open_orders(sid)
            restore_strategy(
                kernel.runner,
                strategy,
                journal=self.journal,
                saved=self.stores.states.load(sid),
                open_orders=held,
            )
            for managed in held:
                kernel.owners[managed.client_order_id] = sid
        for managed in manager.open_orders():
            kernel.on_order_update(order_of(managed))
        self.kill_switch = KillSwitch(kernel=kernel, router=router, risk=self.risk)
        self._unhooks = [
            manager.add_update_listener(self._on_order),
            manager.add_fill_listener(self._on_fill),
            self.broker.subscribe(self),
        ]

    async def stop(self) -> None:
        """Stop gracefully: the feed and strategies stop, sends under way finish, state is
        saved, the broker closes. Open orders stay at the broker unless ``cancel_on_stop``."""
        if not self._running:
            return
        self._running = False
        self._stop.set()
        kernel, router, manager = self.kernel, self.router, self.manager
        assert kernel is not None
        assert router is not None
        assert manager is not None
        if self.feed is not None:
            await self.feed.stop()
        if self._subscription is not None:
            self._subscription.cancel()
        kernel.stop()
        if self.config.cancel_on_stop:
            router.cancel_all()
        await router.drain(self.config.stop_timeout_s)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.persist()
        for unhook in self._unhooks:
            unhook()
        await manager.stop()
        if self.journal is not None:
            self.journal.flush()
        assert self.run_id is not None
        self.runs.stop_run(self.run_id)
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
        kernel = self.kernel
        if kernel is None or not self._running:
            return
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
            push(BarRow.from_bar(bar))
        elif kind is Trade or kind is Quote:
            if not self._on_tick(kernel, message):  # type: ignore[arg-type]  # checked above
                return
        else:
            return
        self.last_market_at = now
        if kernel.runner.next_timer_ns < _NO_TIMER:
            kernel.advance(self.clock.now())

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
        self._frame_pushers[bar.symbol] = push
        return push

    # -- execution -------------------------------------------------------------------------

    def _on_order(self, managed: ManagedOrder) -> None:
        kernel = self.kernel
        if kernel is None:
            return
        order = order_of(managed)
        if managed.order is not None and isinstance(self.clock, VenueClock):
            self.clock.observe(managed.order.updated_at)
        kernel.on_order_update(order)
        self.bus.publish("exec.order", order)

    def _on_fill(self, _strategy_id: str, fill: Fill) -> None:
        kernel = self.kernel
        if kernel is None:
            return
        if isinstance(self.clock, VenueClock):
            self.clock.observe(fill.timestamp)
        self.fills += 1
        kernel.on_fill(fill)
        self.bus.publish("exec.fill", fill)

    # BrokerListener: the node hears reconnects of the broker's stream too.

    def on_trade_update(self, update: TradeUpdate) -> None:
        """Trade updates reach the node through the order manager, not here."""

    def on_reconnect(self) -> None:
        """The broker's stream came back: after the order manager's reconciliation, the
        node reconciles its books."""
        self._spawn(self._after_broker_reconnect())

    async def _after_broker_reconnect(self) -> None:
        assert self.manager is not None
        try:
            await self.manager.settled()
        except Exception as exc:  # logged by the order manager; the books are still checked
            _log.warning("order reconciliation after reconnect failed", error=repr(exc))
        await self._reconcile_books("broker reconnect")

    # -- reconciliation --------------------------------------------------------------------

    async def reconcile(self, reason: str = "requested") -> NodeReconcile:
        """Reconcile orders and fills (order manager), then positions and cash (books)."""
        assert self.manager is not None
        report = await self.manager.reconcile()
        books = await self._reconcile_books(reason)
        merged = self.reconciliations[-1] = _merged(report, books)
        return merged

    async def _reconcile_books(self, reason: str) -> NodeReconcile:
        kernel = self.kernel
        assert kernel is not None
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
            kernel = self.kernel
            if kernel is None:
                continue
            kernel.advance(self.clock.now())
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
            await self.reconcile("feed reconnect")
        failure = stats.get("failure")
        if failure and self.failure is None:
            self.failure = f"market data feed stopped: {failure}"
            _log.error("node stopping: the feed failed", reason=self.failure)
            self._stop.set()

    def _orders_in_doubt(self) -> bool:
        assert self.manager is not None
        doubtful = (OrderPhase.UNKNOWN, OrderPhase.SUBMITTING)
        return any(m.phase in doubtful for m in self.manager.open_orders()) and not (
            self.router is not None and self.router.in_flight
        )

    def persist(self) -> None:
        """Save every strategy's state, an equity and a positions snapshot, error counts."""
        if self.kernel is None or self.run_id is None:
            return
        if self.journal is not None:
            self.journal.flush()  # the saved state never runs ahead of the journal
        persist_node(
            self.stores,
            kernel=self.kernel,
            run_id=self.run_id,
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
        kernel, manager = self.kernel, self.manager
        out: dict[str, object] = {
            "run_id": self.run_id,
            "mode": self.config.mode.value,
            "bars": self.bars,
            "ticks": self.ticks,
            "fills": self.fills,
        }
        if manager is not None:
            oms = manager.stats()
            out["orders"] = self.router.submitted if self.router is not None else 0
            out["open_orders"] = oms["open_orders"]
            out["reconciliations"] = oms["reconciliations"]
        if kernel is not None:
            out["refused"] = len(kernel.refusals)
            out["equity"] = str(kernel.view.equity())
            out["cash"] = str(kernel.portfolio.cash)
            out["realized_pl"] = str(kernel.portfolio.realized_pl())
            out["positions"] = {s: str(p.qty) for s, p in kernel.portfolio.positions().items()}
            out["strategy_failures"] = len(kernel.runner.failures)
        return out

    # -- internals -------------------------------------------------------------------------

    def _market_open(self, symbol: str, at: datetime) -> bool:
        return AssetClass.of_symbol(symbol) is AssetClass.CRYPTO or self._calendar.is_open(at)

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
