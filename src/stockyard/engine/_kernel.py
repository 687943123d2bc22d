"""The kernel: one set of trading components, wired once, for live trading and backtests.

    feed ──bars/quotes/trades──▶ Kernel ──▶ StrategyRunner ──▶ strategies
                                   ▲                              │ verbs
    broker ──order updates/fills───┘      RiskEngine ◀── gateway ◀┘
                                              │ passed
                                              ▼
                                        order manager ──▶ broker

Only three things differ between the live node and the backtester (DESIGN.md §3): the
clock (``WallClock`` or ``SimClock``), who calls the market-data methods (a WebSocket feed
or a replay loop) and the broker behind the order manager (Alpaca or the simulated
exchange). Everything in this module is the same object graph in both.

The kernel is not thread-safe: a host calls it from one thread (the live node from its
event loop, the backtester from its replay loop).

Faults on the money path (a kill-switch flatten that fails, say) are never only logged:
:meth:`Kernel.fault` records each in the error registry and hands it to every
``fault_listeners`` callback — the live node's alerts and health; the backtester's raises,
so the run aborts naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from stockyard.core import Bar, Clock, Fill, Order, Quote, TimeUnit, Trade, to_ns
from stockyard.engine._kernel_prices import LastPrices, MarkedView
from stockyard.obs import get_logger
from stockyard.portfolio import Portfolio, PortfolioView
from stockyard.resilience import ErrorRegistry, MoneyPathError
from stockyard.risk import RiskEngine
from stockyard.strategy import (
    BarRow,
    PriceBook,
    Strategy,
    StrategyContext,
    StrategyFailure,
    StrategyOrder,
    StrategyRunner,
    SubmitResult,
)

__all__ = ["Kernel", "OrderRouter"]

_log = get_logger("trading")


class OrderRouter(Protocol):
    """What the kernel needs of the order manager: take a risk-passed order (give it a
    deterministic client order id, persist the intent, send it) and cancel one. Neither
    raises for a refusal. Order updates and fills come back through
    :meth:`Kernel.on_order_update` and :meth:`Kernel.on_fill`."""

    def submit(self, order: StrategyOrder) -> SubmitResult: ...

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult: ...


class Kernel:
    """Strategies, risk, order manager and portfolio on one clock; see the module docstring.

    ``before_send(symbol)`` is called after risk passes an order and before the order
    manager sends it: the backtester uses it to bring the simulated exchange's last price
    of the order's symbol (and of held symbols) up to date (see ``backtest._engine``).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        orders: OrderRouter,
        risk: RiskEngine,
        portfolio: Portfolio,
        history_size: int = 1024,
        errors: ErrorRegistry | None = None,
        alerts: Iterable[Callable[[StrategyFailure], None]] = (),
        before_send: Callable[[str], None] | None = None,
    ) -> None:
        self.clock = clock
        self.orders = orders
        self.risk = risk
        self.portfolio = portfolio
        self.prices = PriceBook()  # the one last-price book: strategies' and risk's
        self.view: PortfolioView = MarkedView(portfolio, self.prices)
        self._last_prices = LastPrices(self.prices)
        self._before_send = before_send
        self.open_orders: dict[str, Order] = {}  # client order id -> latest state, open only
        self.working: dict[str, set[str]] = {}  # symbol -> client order ids not yet terminal
        self.owners: dict[str, str] = {}  # client order id -> strategy id, every accepted order
        self.fill_listeners: list[Callable[[Fill], None]] = []
        self.order_listeners: list[Callable[[Order], None]] = []
        self.refusals: list[tuple[StrategyOrder, SubmitResult]] = []
        self.fault_listeners: list[Callable[[MoneyPathError], None]] = []
        self._errors = errors
        self._depth = 0  # > 0 while the order manager is inside a submit or cancel
        # Broker events that arrived inside a submit or cancel (a synchronous venue answers
        # at once), delivered when it returns — or, while ``hold_events`` is set, when the
        # host calls ``drain`` after the strategy's hook has returned (see ``drain``).
        self.deferred: list[Fill | Order] = []
        self.hold_events = False
        self.runner = StrategyRunner(
            clock=clock,
            gateway=self,
            portfolio=self.view,
            history_size=history_size,
            errors=errors,
            alerts=alerts,
            prices=self.prices,
        )
        risk.kill_listeners.append(self._on_kill)

    # -- wiring ------------------------------------------------------------------------------

    def add(self, strategy: Strategy) -> StrategyContext:
        """Attach a strategy (before :meth:`start`)."""
        return self.runner.add(strategy)

    def start(self) -> None:
        """Start every added strategy (``on_start``, then subscriptions)."""
        self.runner.start()

    def stop(self) -> None:
        """Stop every strategy (``on_stop``)."""
        self.runner.stop()

    # -- market data (the feed calls these) ---------------------------------------------------

    def bar_pusher(self, symbol: str, *, span_ns: int) -> Callable[[BarRow], None]:
        """The one way a bar enters: the pusher of ``symbol``'s bars (each ``span_ns`` long).

        The live node and the backtester's replay loop both deliver every bar through it:
        ``push(row)`` records the row as the symbol's last bar in the price book (the last
        price strategies and risk read), appends it to the history and calls each
        subscribed ``on_bar``. Rows are validated where they are made (``BarRow``)."""
        self.prices.spans[symbol] = span_ns
        return self.runner.bar_pusher(symbol)

    def on_bar(self, bar: Bar | BarRow, *, span_ns: int | None = None) -> None:
        """Deliver one bar through :meth:`bar_pusher`. A ``core.Bar`` knows its span."""
        if isinstance(bar, Bar):
            if span_ns is None and bar.timeframe.unit is not TimeUnit.MONTH:
                span_ns = bar.timeframe.seconds * 1_000_000_000
            row = BarRow.from_bar(bar)
        else:
            row = bar
        if span_ns is not None:
            self.prices.spans[row.symbol] = span_ns
        self.runner.bar_pusher(row.symbol)(row)

    def on_quote(self, quote: Quote) -> None:
        """Deliver a quote (its mid prices a symbol that has no bar or trade yet)."""
        self.runner.on_quote(quote)

    def on_trade(self, trade: Trade) -> None:
        """Deliver a trade print (it becomes the symbol's last price)."""
        self.runner.on_trade(trade)

    def advance(self, now: datetime | int) -> None:
        """The clock reached ``now``: fire due timers (cheap when none is due)."""
        now_ns = now if isinstance(now, int) else to_ns(now)
        if now_ns >= self.runner.next_timer_ns:
            self.runner.advance(now_ns)

    # -- execution (the order manager calls these) --------------------------------------------

    def on_order_update(self, order: Order) -> None:
        """An order's new state from the broker: track it, tell its strategy, then listeners."""
        if self._depth:
            self.deferred.append(order)
            return
        cid = order.client_order_id
        if order.status.is_terminal:
            self.open_orders.pop(cid, None)
            ids = self.working.get(order.symbol)
            if ids is not None:
                ids.discard(cid)
                if not ids:
                    del self.working[order.symbol]
        else:
            self.open_orders[cid] = order
            self._work(order.symbol, cid)
        self.runner.on_order_update(order, strategy_id=self.owners.get(cid))
        for listener in self.order_listeners:
            listener(order)

    def on_fill(self, fill: Fill) -> None:
        """A fill: book it (a fill id seen before is ignored), tell its strategy, listeners."""
        if self._depth:
            self.deferred.append(fill)
            return
        if not self.portfolio.apply(fill):
            return
        self.runner.on_fill(fill, strategy_id=self.owners.get(fill.client_order_id))
        for listener in self.fill_listeners:
            listener(fill)

    # -- the gateway (OrderGateway: strategies' verbs end here) --------------------------------

    def submit(self, intent: StrategyOrder) -> SubmitResult:
        """Risk, then the order manager. Never raises for a refused order."""
        request = intent.request
        rejection = self.risk.check(
            request,
            portfolio=self.view,
            prices=self._last_prices,
            open_orders=list(self.open_orders.values()),
            strategy_id=intent.strategy_id,
        )
        if rejection is not None:
            result = SubmitResult.refused(rejection.code.value, rejection.reason)
            self.refusals.append((intent, result))
            return result
        if self._before_send is not None:
            self._before_send(request.symbol)
        self._depth += 1  # as ``_call``, spelt out: this runs once per order
        try:
            result = self.orders.submit(intent)
        finally:
            self._depth -= 1
        if result.accepted and result.client_order_id is not None:
            self.owners[result.client_order_id] = intent.strategy_id
            self._work(request.symbol, result.client_order_id)
        else:
            self.refusals.append((intent, result))
        if not self.hold_events:
            self.drain()
        return result

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        """Ask the order manager to cancel one of ``strategy_id``'s orders."""
        result = self._call(lambda: self.orders.cancel(strategy_id, client_order_id))
        if not self.hold_events:
            self.drain()
        return result

    # -- books ---------------------------------------------------------------------------------

    def latest_price(self, symbol: str) -> Decimal | None:
        """The newest price the kernel has seen for ``symbol`` (last trade or bar close)."""
        return self.prices.price(symbol)

    def mark(self) -> Decimal:
        """Mark the portfolio at the last prices and append a point to its equity curve."""
        prices = {s: p for s in self.portfolio.positions() if (p := self.latest_price(s))}
        return self.portfolio.mark(self.clock.now(), prices)

    # -- internals -----------------------------------------------------------------------------

    def _work(self, symbol: str, cid: str) -> None:
        """``cid`` is working in ``symbol`` (a set is made only for a symbol's first)."""
        ids = self.working.get(symbol)
        if ids is None:
            self.working[symbol] = {cid}
        else:
            ids.add(cid)

    def _call(self, send: Callable[[], SubmitResult]) -> SubmitResult:
        # Events the broker emits while we are still inside submit/cancel (the simulated
        # exchange emits synchronously) wait (see ``drain``), as they would live: the
        # strategy learns its client order id before it hears of the order's fate.
        self._depth += 1
        try:
            return send()
        finally:
            self._depth -= 1

    def drain(self) -> None:
        """Deliver the broker events held back (in the order they came).

        A synchronous venue (the backtest's) answers inside the order manager's call. Live,
        the answer arrives on a later turn of the event loop: after the strategy's verb
        has returned, and after the hook that called it has returned too. So a host that
        drives a synchronous venue sets ``hold_events`` and calls this once the hook has
        returned (the backtester after each bar's dispatch and each timer): the strategy
        hears of its order's fate when it would have live, never inside its own verb."""
        deferred = self.deferred
        while deferred and not self._depth:
            events = deferred[:]
            deferred.clear()
            for event in events:
                if isinstance(event, Fill):
                    self.on_fill(event)
                else:
                    self.on_order_update(event)

    def fault(self, error: MoneyPathError) -> None:
        """A money-path fault: logged as critical, recorded in the error registry, handed
        to every fault listener (which may raise it: a backtest aborts)."""
        _log.critical("money path fault", error=error.message, context=dict(error.context))
        if self._errors is not None:
            self._errors.record(error, component="trading")
        for listener in list(self.fault_listeners):
            listener(error)

    def _on_kill(self, reason: str) -> None:
        """The kill switch: every strategy cancels its orders and flattens (risk lets
        reducing orders through). A flatten that raises or whose closing order is refused
        is a fault; the other strategies go on."""
        _log.critical("kill switch: flattening every strategy", reason=reason)
        for strategy in self.runner.strategies:
            sid = strategy.strategy_id
            cause: Exception | None = None
            try:
                refused = [r for r in strategy.close_all() if not r.accepted]
            except MoneyPathError:
                raise
            except Exception as exc:  # one strategy's state must not stop the others
                what, cause = repr(exc), exc
            else:
                if not refused:
                    continue
                what = "; ".join(f"{r.code}: {r.reason}" for r in refused)
            self.fault(
                MoneyPathError(
                    f"kill switch ({reason}): flattening {sid!r} failed: {what}",
                    context={"strategy": sid, "kill_reason": reason},
                    cause=cause,
                )
            )
