"""The trading node's Prometheus metrics: books, orders, fills, latency, feed and halts.

Every running node of a process adds its figures to one ``TradingCollector`` on the
process registry (``obs.metrics_registry()``, served at ``/metrics``), labelled with the
node's name (its run mode: ``sandbox``, ``paper``, ``live``; a second node of the same mode
in one process gets ``-2``, ...). ``TRADING_METRIC_NAMES`` lists what it exports
(docs/metrics.md; deploy/grafana uses them).

Where each figure comes from, all on the node's own event loop:

- counters (orders submitted, orders ended by state, fills, rejections, bars, ticks) are
  bumped by the node's events as they happen;
- the books (equity, cash, exposure, each bot's realized and unrealized P&L, open orders by
  state, the halts) are a snapshot the node takes on every fill and every housekeeping tick
  (``refresh``): a scrape, in another thread, reads plain values and never walks the
  node's live structures;
- bar-to-order latency: from a bar's (or a trade's or quote's: ``on="tick"``) arrival at
  the node to its orders being journaled and handed to the order manager (the strategy's
  decision, risk, the durable intent), observed once per order;
- feed lag: seconds since the node's last market-data message, computed at scrape.

Each bot's P&L comes from books of its own fed with its own fills (seeded from the journal
at start): realized P&L before fees, unrealized at the node's last prices.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from stockyard.core import Fill, Order, OrderStatus
from stockyard.engine._kernel import Kernel
from stockyard.obs import metrics_registry
from stockyard.portfolio import Portfolio
from stockyard.resilience import CircuitBreaker, CircuitState, rate_limiters
from stockyard.risk import RiskEngine

__all__ = [
    "BAR_TO_ORDER_BUCKETS",
    "NO_BOT",
    "TRADING_METRIC_NAMES",
    "BooksSnapshot",
    "NodeMetrics",
    "TradingCollector",
    "snapshot_books",
    "trading_collector",
]

TRADING_METRIC_NAMES = (
    "stockyard_node_running",
    "stockyard_account_equity_dollars",
    "stockyard_account_cash_dollars",
    "stockyard_exposure_dollars",
    "stockyard_bot_realized_pnl_dollars",
    "stockyard_bot_unrealized_pnl_dollars",
    "stockyard_orders_submitted_total",
    "stockyard_orders_total",
    "stockyard_orders_open",
    "stockyard_fills_total",
    "stockyard_order_rejections_total",
    "stockyard_bar_to_order_seconds",
    "stockyard_feed_lag_seconds",
    "stockyard_feed_reconnects_total",
    "stockyard_market_data_total",
    "stockyard_node_breaker_state",
    "stockyard_kill_switch_engaged",
    "stockyard_daily_loss_halt",
    "stockyard_node_faults_total",
    "stockyard_rate_limit_requests",
    "stockyard_rate_limit_waits_total",
    "stockyard_rate_limit_responses_429_total",
)

NO_BOT = "(none)"
"""The ``bot`` label of an order or fill no strategy of the node owns (an outside order)."""

BAR_TO_ORDER_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
)
_BREAKER_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
_FINISHED_KEPT = 10_000  # ended orders remembered, so a repeated final update counts once
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BooksSnapshot:
    """The node's books at one moment, as plain numbers (dollars)."""

    equity: float = 0.0
    cash: float = 0.0
    long: float = 0.0
    short: float = 0.0
    realized: tuple[tuple[str, float], ...] = ()
    unrealized: tuple[tuple[str, float], ...] = ()
    refused: tuple[tuple[str, int], ...] = ()  # per bot: refused before sending
    open_orders: tuple[tuple[str, int], ...] = ()  # per status
    kill_switch: bool = False
    daily_halt: bool = False
    breaker: tuple[str, int] | None = None
    faults: int = 0
    feed_reconnects: int = 0


@dataclass(slots=True)
class _Counts:
    submitted: dict[str, int] = field(default_factory=dict)
    ended: dict[tuple[str, str], int] = field(default_factory=dict)
    fills: dict[tuple[str, str], int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)  # by the broker


def _bump(counts: dict[object, int], key: object, by: int = 1) -> None:
    counts[key] = counts.get(key, 0) + by


class NodeMetrics:
    """One node's figures; see the module docstring. ``refresh`` and the ``on_*`` methods
    run on the node's loop; ``collect_into`` runs in whatever thread scrapes."""

    def __init__(self, name: str, *, histogram: Histogram) -> None:
        self.name = name
        self.books = BooksSnapshot()
        self.running = False
        # Bars and ticks taken in, and the monotonic time of the last market-data message:
        # plain values of the node's, read at scrape.
        self.market_data: Callable[[], tuple[int, int, float | None]] = lambda: (0, 0, None)
        self._bar_latency = histogram.labels(node=name, on="bar")
        self._tick_latency = histogram.labels(node=name, on="tick")
        self._counts = _Counts()
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._bots: dict[str, Portfolio] = {}

    # -- events (the node's loop) ----------------------------------------------------------

    def seed(self, bots: dict[str, list[Fill]]) -> None:
        """Each bot's books from its journaled fills (at start)."""
        self._bots = {}
        for bot, fills in bots.items():
            books = self._bots[bot] = Portfolio(0)
            for fill in fills:
                books.apply(fill)

    def on_submit(self, bot: str) -> None:
        """An order passed risk and was handed to the order manager."""
        _bump(self._counts.submitted, bot)  # type: ignore[arg-type]  # str keys

    def after_market(self, orders: int, seconds: float, *, bar: bool) -> None:
        """A bar (or a trade or quote) made ``orders`` orders ``seconds`` after it arrived."""
        child = self._bar_latency if bar else self._tick_latency
        for _ in range(orders):
            child.observe(seconds)

    def on_order(self, order: Order, bot: str) -> None:
        """An order update: an order's final state is counted once."""
        status = order.status
        if not status.is_terminal or order.client_order_id in self._finished:
            return
        self._finished[order.client_order_id] = None
        if len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)
        _bump(self._counts.ended, (bot, status.value))  # type: ignore[arg-type]
        if status is OrderStatus.REJECTED:
            _bump(self._counts.rejected, bot)  # type: ignore[arg-type]

    def on_fill(self, fill: Fill, bot: str) -> None:
        """A new fill, booked to its bot."""
        _bump(self._counts.fills, (bot, fill.side.value))  # type: ignore[arg-type]
        books = self._bots.get(bot)
        if books is None:
            books = self._bots[bot] = Portfolio(0)
        books.apply(fill)

    def refresh(self, books: BooksSnapshot) -> None:
        """Replace the snapshot of the books (built by ``snapshot_books``)."""
        self.books = books

    def bot_pnl(
        self, price: Callable[[str], Decimal | None]
    ) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
        """Each bot's realized and unrealized P&L, marked with ``price``."""
        realized, unrealized = [], []
        for bot, books in sorted(self._bots.items()):
            realized.append((bot, float(books.realized_pl())))
            open_pl = _ZERO
            for symbol, position in books.positions().items():
                mark = price(symbol)
                if mark is not None:
                    open_pl += (mark - position.avg_entry_price) * position.qty
            unrealized.append((bot, float(open_pl)))
        return tuple(realized), tuple(unrealized)

    # -- scrape (any thread) ---------------------------------------------------------------

    def counts(self) -> _Counts:
        """A copy of the counters (each ``dict`` copy is atomic under the GIL)."""
        c = self._counts
        return _Counts(dict(c.submitted), dict(c.ended), dict(c.fills), dict(c.rejected))


def breaker_value(breaker: CircuitBreaker) -> tuple[str, int]:
    """A breaker's name and state as a number: 0 closed, 1 half-open, 2 open."""
    return breaker.name, _BREAKER_VALUE[breaker.state]


class TradingCollector(Collector):
    """Yields ``TRADING_METRIC_NAMES`` for every node attached (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[str, NodeMetrics] = {}
        self.histogram = Histogram(
            "stockyard_bar_to_order_seconds",
            "From a bar's (on=bar) or a trade's or quote's (on=tick) arrival at the node to "
            "each order it made handed to the order manager",
            labelnames=["node", "on"],
            buckets=BAR_TO_ORDER_BUCKETS,
            registry=None,
        )

    def attach(self, base_name: str) -> NodeMetrics:
        """A new node's metrics, named ``base_name`` (``-2``, ... when taken)."""
        with self._lock:
            name, n = base_name, 1
            while name in self._nodes:
                n += 1
                name = f"{base_name}-{n}"
            metrics = self._nodes[name] = NodeMetrics(name, histogram=self.histogram)
            return metrics

    def detach(self, metrics: NodeMetrics) -> None:
        """Stop exporting a node's figures."""
        with self._lock:
            if self._nodes.get(metrics.name) is metrics:
                del self._nodes[metrics.name]
                self.histogram.remove(metrics.name, "bar")
                self.histogram.remove(metrics.name, "tick")

    def describe(self) -> list[Metric]:
        """No description up front: the names are stable, the labels are not."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The current values."""
        with self._lock:
            nodes = sorted(self._nodes.values(), key=lambda m: m.name)
        yield from _books(nodes)
        yield from _orders(nodes)
        yield from self.histogram.collect()
        yield from _feed(nodes)
        yield from _safety(nodes)
        yield from _limits()


def _gauge(name: str, text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, labels=labels)


def _books(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    running = _gauge("stockyard_node_running", "1 while the node trades", ["node"])
    equity = _gauge(
        "stockyard_account_equity_dollars", "The node's equity at its last prices", ["node"]
    )
    cash = _gauge("stockyard_account_cash_dollars", "The node's cash", ["node"])
    exposure = _gauge(
        "stockyard_exposure_dollars", "Market value held, long and short", ["node", "side"]
    )
    realized = _gauge(
        "stockyard_bot_realized_pnl_dollars",
        "Each bot's realized P&L before fees",
        ["node", "bot"],
    )
    unrealized = _gauge(
        "stockyard_bot_unrealized_pnl_dollars",
        "Each bot's open P&L at the node's last prices",
        ["node", "bot"],
    )
    for m in nodes:
        b = m.books
        running.add_metric([m.name], 1 if m.running else 0)
        equity.add_metric([m.name], b.equity)
        cash.add_metric([m.name], b.cash)
        exposure.add_metric([m.name, "long"], b.long)
        exposure.add_metric([m.name, "short"], b.short)
        for bot, value in b.realized:
            realized.add_metric([m.name, bot], value)
        for bot, value in b.unrealized:
            unrealized.add_metric([m.name, bot], value)
    yield from (running, equity, cash, exposure, realized, unrealized)


def _orders(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    submitted = CounterMetricFamily(
        "stockyard_orders_submitted",
        "Orders that passed risk and were handed to the order manager",
        labels=["node", "bot"],
    )
    ended = CounterMetricFamily(
        "stockyard_orders",
        "Orders by the final state they reached",
        labels=["node", "bot", "state"],
    )
    open_ = _gauge("stockyard_orders_open", "Open orders by their current state", ["node", "state"])
    fills = CounterMetricFamily("stockyard_fills", "Fills", labels=["node", "bot", "side"])
    rejections = CounterMetricFamily(
        "stockyard_order_rejections",
        "Orders refused: by the node (invalid, risk) before sending, or by the broker",
        labels=["node", "bot", "by"],
    )
    for m in nodes:
        c = m.counts()
        for bot, n in sorted(c.submitted.items()):
            submitted.add_metric([m.name, bot], n)
        for (bot, state), n in sorted(c.ended.items()):
            ended.add_metric([m.name, bot, state], n)
        for state, n in m.books.open_orders:
            open_.add_metric([m.name, state], n)
        for (bot, side), n in sorted(c.fills.items()):
            fills.add_metric([m.name, bot, side], n)
        for bot, n in m.books.refused:
            rejections.add_metric([m.name, bot, "node"], n)
        for bot, n in sorted(c.rejected.items()):
            rejections.add_metric([m.name, bot, "broker"], n)
    yield from (submitted, ended, open_, fills, rejections)


def _feed(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    lag = _gauge(
        "stockyard_feed_lag_seconds", "Seconds since the node's last market-data message", ["node"]
    )
    reconnects = CounterMetricFamily(
        "stockyard_feed_reconnects", "Market-data feed reconnections", labels=["node"]
    )
    data = CounterMetricFamily(
        "stockyard_market_data", "Market-data messages the node took in", labels=["node", "kind"]
    )
    now = time.monotonic()
    for m in nodes:
        bars, ticks, last = m.market_data()
        if last is not None:
            lag.add_metric([m.name], max(0.0, now - last))
        reconnects.add_metric([m.name], m.books.feed_reconnects)
        data.add_metric([m.name, "bar"], bars)
        data.add_metric([m.name, "tick"], ticks)
    yield from (lag, reconnects, data)


def _safety(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    breaker = _gauge(
        "stockyard_node_breaker_state",
        "The node's broker circuit breaker: 0 closed, 1 half-open, 2 open",
        ["node", "breaker"],
    )
    kill = _gauge("stockyard_kill_switch_engaged", "1 while the kill switch is engaged", ["node"])
    daily = _gauge("stockyard_daily_loss_halt", "1 while the daily loss limit halts", ["node"])
    faults = CounterMetricFamily(
        "stockyard_node_faults", "Money-path faults of the session", labels=["node"]
    )
    for m in nodes:
        b = m.books
        if b.breaker is not None:
            breaker.add_metric([m.name, b.breaker[0]], b.breaker[1])
        kill.add_metric([m.name], 1 if b.kill_switch else 0)
        daily.add_metric([m.name], 1 if b.daily_halt else 0)
        faults.add_metric([m.name], b.faults)
    yield from (breaker, kill, daily, faults)


def _limits() -> Iterator[Metric]:
    used = _gauge(
        "stockyard_rate_limit_requests",
        "REST requests of an API key in its current window, and the limit",
        ["limiter", "of"],
    )
    waits = CounterMetricFamily(
        "stockyard_rate_limit_waits", "Requests that waited for a slot", labels=["limiter"]
    )
    refused = CounterMetricFamily(
        "stockyard_rate_limit_responses_429", "Answers 429 from the server", labels=["limiter"]
    )
    for limiter in rate_limiters():
        snap = limiter.snapshot()
        used.add_metric([limiter.name, "used"], float(snap["used_in_window"]))  # type: ignore[arg-type]
        used.add_metric([limiter.name, "limit"], float(limiter.limit))
        waits.add_metric([limiter.name], float(snap["waits"]))  # type: ignore[arg-type]
        refused.add_metric([limiter.name], float(snap["responses_429"]))  # type: ignore[arg-type]
    yield from (used, waits, refused)


_collectors: weakref.WeakKeyDictionary[CollectorRegistry, TradingCollector] = (
    weakref.WeakKeyDictionary()
)
_collectors_lock = threading.Lock()


def trading_collector(registry: CollectorRegistry | None = None) -> TradingCollector:
    """The one trading collector of ``registry`` (the process's by default), registered on
    first use."""
    reg = registry if registry is not None else metrics_registry()
    with _collectors_lock:
        collector = _collectors.get(reg)
        if collector is None:
            collector = _collectors[reg] = TradingCollector()
            reg.register(collector)
        return collector


def snapshot_books(
    metrics: NodeMetrics,
    *,
    kernel: Kernel,
    risk: RiskEngine,
    breaker: CircuitBreaker | None,
    faults: int,
    feed_reconnects: int,
) -> BooksSnapshot:
    """The node's books now, for ``metrics.refresh`` (on the node's loop)."""
    view = kernel.view
    exposure = view.exposure()
    realized, unrealized = metrics.bot_pnl(kernel.latest_price)
    states: dict[str, int] = {}
    for order in kernel.open_orders.values():
        states[order.status.value] = states.get(order.status.value, 0) + 1
    return BooksSnapshot(
        equity=float(view.equity()),
        cash=float(kernel.portfolio.cash),
        long=float(exposure.long),
        short=float(exposure.short),
        realized=realized,
        unrealized=unrealized,
        refused=tuple((s.strategy_id, s.context.refused) for s in kernel.runner.strategies),
        open_orders=tuple(sorted(states.items())),
        kill_switch=risk.kill_reason is not None,
        daily_halt=risk.daily_halt is not None,
        breaker=None if breaker is None else breaker_value(breaker),
        faults=faults,
        feed_reconnects=feed_reconnects,
    )
