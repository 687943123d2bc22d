"""The host of strategies: delivers events, wraps every call into user code, keeps timers.

One runner serves the live node and the backtester alike. Market data is appended to the
runner's history *before* the strategy hears of it, so ``history(symbol)[-1]`` is always the
bar in hand and nothing later exists. An exception in a strategy disables that strategy
only: it is logged once with its traceback, counted, reported to the alert callbacks, and
every other strategy goes on. A ``MoneyPathError`` raised under a strategy's verb (a fill
listener that failed, say) is not the strategy's fault: it passes through.

Hot path: :meth:`StrategyRunner.bar_pusher` returns a function for one symbol that records a
:class:`BarRow` in the price book, appends it to the ring and calls each subscribed
``on_bar`` — no lookups by symbol, no objects made per bar. It is the one way a bar reaches a
strategy: the kernel's ``bar_pusher`` (live node and replay loop alike) hands it out, and
:meth:`StrategyRunner.on_bar` calls it. Strategies that do not override a hook are never
called for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from stockyard.core import Bar, Clock, Fill, Order, Quote, Trade, ns_to_datetime, to_ns
from stockyard.obs import get_logger
from stockyard.portfolio import PortfolioView
from stockyard.resilience import ErrorRegistry, MoneyPathError
from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy, StrategyError
from stockyard.strategy._context import StrategyContext
from stockyard.strategy._gateway import OrderGateway, TimerEvent
from stockyard.strategy._market import MarketState, MarketView, PriceBook
from stockyard.strategy._snapshot import StrategyFailure, StrategySnapshot, StrategyStatus
from stockyard.strategy._timers import Scheduler

__all__ = ["StrategyRunner"]

_log = get_logger("trading")
_BarHook = Callable[[BarRow], None]


class _Feed:
    """One symbol: its bar ring and the hooks subscribed to it (lists replaced, never edited)."""

    __slots__ = ("append", "bars", "push", "quotes", "trades")

    def __init__(self, append: Callable[[BarRow], None]) -> None:
        self.append = append
        self.push: Callable[[BarRow], None] | None = None  # made by ``bar_pusher``
        self.bars: list[tuple[Strategy, _BarHook]] = []
        self.quotes: list[tuple[Strategy, Callable[[Quote], None]]] = []
        self.trades: list[tuple[Strategy, Callable[[Trade], None]]] = []


# The base class's hooks do nothing: an order update or fill for a strategy that keeps them
# skips the call (and its guard), as bars skip strategies that do not override on_bar.
_BASE_ON_ORDER_UPDATE = Strategy.on_order_update
_BASE_ON_FILL = Strategy.on_fill


def _overrides(strategy: Strategy, hook: str) -> bool:
    return getattr(type(strategy), hook) is not getattr(Strategy, hook)


class StrategyRunner:
    """Runs strategies against one clock, one order gateway and one portfolio view."""

    def __init__(
        self,
        *,
        clock: Clock,
        gateway: OrderGateway,
        portfolio: PortfolioView,
        history_size: int = 1024,
        errors: ErrorRegistry | None = None,
        alerts: Iterable[Callable[[StrategyFailure], None]] = (),
        prices: PriceBook | None = None,
    ) -> None:
        if history_size < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size}")
        self._clock = clock
        self._gateway = gateway
        self._portfolio = portfolio
        self._errors = errors
        self.alerts: list[Callable[[StrategyFailure], None]] = list(alerts)
        self._market = MarketState(history_size, prices)
        self.prices: PriceBook = self._market.book
        self._view = MarketView(self._market)
        self._scheduler = Scheduler()
        self.timers = self._scheduler  # hosts read ``timers.due_ns`` per bar (see next_timer_ns)
        self._feeds: dict[str, _Feed] = {}
        self._strategies: dict[str, Strategy] = {}
        self._status: dict[str, StrategyStatus] = {}
        self._owners: dict[str, str] = {}
        self._failures: list[StrategyFailure] = []

    # -- wiring ------------------------------------------------------------------------------

    def add(self, strategy: Strategy) -> StrategyContext:
        """Attach ``strategy`` (its ``strategy_id`` must be unique here) and its symbols."""
        sid = strategy.strategy_id
        if sid in self._strategies:
            raise StrategyError(f"a strategy with id {sid!r} is already in this runner")
        strategy._ctx = StrategyContext(
            strategy_id=sid,
            clock=self._clock,
            gateway=self._gateway,
            portfolio=self._portfolio,
            market=self._view,
            scheduler=self._scheduler,
            on_accepted=self._owners.__setitem__,
        )
        for symbol in strategy.symbols:
            self._feed(symbol)
        self._strategies[sid] = strategy
        self._status[sid] = StrategyStatus.ADDED
        return strategy._ctx

    def start(self) -> None:
        """Call every added strategy's ``on_start``, then subscribe it to its symbols."""
        for sid, strategy in self._strategies.items():
            if self._status[sid] is not StrategyStatus.ADDED:
                continue
            self._status[sid] = StrategyStatus.RUNNING
            if self._call(strategy, "on_start", strategy.on_start):
                self._subscribe(strategy)

    def stop(self) -> None:
        """Unsubscribe every running strategy and call its ``on_stop``."""
        for sid, strategy in self._strategies.items():
            if self._status[sid] is StrategyStatus.RUNNING:
                self._unsubscribe(strategy)
                self._scheduler.cancel(sid)
                self._call(strategy, "on_stop", strategy.on_stop)
                if self._status[sid] is StrategyStatus.RUNNING:
                    self._status[sid] = StrategyStatus.STOPPED

    # -- market data -------------------------------------------------------------------------

    def bar_pusher(self, symbol: str) -> Callable[[BarRow], None]:
        """The fast path for one symbol: ``push(row)`` records ``row`` as the symbol's last
        bar in the price book, appends it to the history and dispatches it.

        The caller guarantees ``row.symbol == symbol``. One pusher per symbol, made once."""
        feed = self._feed(symbol)
        if feed.push is not None:
            return feed.push
        append = feed.append
        book = self.prices.bars
        fail = self._fail

        def push(row: BarRow) -> None:
            book[symbol] = row
            append(row)
            for strategy, hook in feed.bars:
                try:
                    hook(row)
                except MoneyPathError:
                    raise  # a fault below the strategy's verb, not the strategy's own
                except Exception as exc:  # user code: any error disables it
                    fail(strategy, "on_bar", exc)

        feed.push = push
        return push

    def on_bar(self, bar: Bar | BarRow) -> None:
        """Deliver a bar (a ``core.Bar`` is converted) through the symbol's pusher; symbols
        no strategy trades are kept."""
        row = bar if isinstance(bar, BarRow) else BarRow.from_bar(bar)
        self.bar_pusher(row.symbol)(row)

    def warm_up(self, rows: Iterable[BarRow]) -> int:
        """Deliver history before live data: each row goes the way a live bar goes (price
        book, history, ``on_bar``) while every strategy's verbs are refused with
        ``warming_up`` and nothing reaches the gateway. Rows must be in time order.
        Returns how many rows were delivered."""
        contexts = [s._ctx for s in self._strategies.values() if s._ctx is not None]
        for ctx in contexts:
            ctx.warming = True
        count = 0
        try:
            for row in rows:
                self.bar_pusher(row.symbol)(row)
                count += 1
        finally:
            for ctx in contexts:
                ctx.warming = False
        return count

    def on_quote(self, quote: Quote) -> None:
        """Deliver a quote to the strategies of its symbol."""
        self.prices.quotes[quote.symbol] = quote
        feed = self._feeds.get(quote.symbol)
        for strategy, hook in feed.quotes if feed is not None else ():
            self._call(strategy, "on_quote", hook, quote)

    def on_trade(self, trade: Trade) -> None:
        """Deliver a trade print to the strategies of its symbol."""
        self.prices.trades[trade.symbol] = trade
        feed = self._feeds.get(trade.symbol)
        for strategy, hook in feed.trades if feed is not None else ():
            self._call(strategy, "on_trade", hook, trade)

    # -- orders ------------------------------------------------------------------------------

    def on_order_update(self, order: Order, *, strategy_id: str | None = None) -> None:
        """Route an order's new state to the strategy that sent it (by client order id)."""
        strategy = self._owner(order.client_order_id, strategy_id)
        if strategy is None or strategy._ctx is None:
            return
        strategy._ctx.order_update(order)
        hook = strategy.on_order_update
        if (
            getattr(hook, "__func__", None) is not _BASE_ON_ORDER_UPDATE  # not the no-op
            and self._status[strategy.strategy_id] is StrategyStatus.RUNNING
        ):
            self._call(strategy, "on_order_update", hook, order)

    def on_fill(self, fill: Fill, *, strategy_id: str | None = None) -> None:
        """Route a fill to the strategy that sent the order; its own position moves first."""
        strategy = self._owner(fill.client_order_id, strategy_id)
        if strategy is None or strategy._ctx is None:
            return
        strategy._ctx.fill(fill)
        hook = strategy.on_fill
        if (
            getattr(hook, "__func__", None) is not _BASE_ON_FILL  # not the no-op
            and self._status[strategy.strategy_id] is StrategyStatus.RUNNING
        ):
            self._call(strategy, "on_fill", hook, fill)

    # -- time --------------------------------------------------------------------------------

    @property
    def next_timer_ns(self) -> int:
        """When the next timer is due (ns since the epoch); hosts may skip ``advance`` before."""
        return self._scheduler.next_due_ns

    def advance(self, now: datetime | int) -> None:
        """The clock reached ``now`` (datetime or ns): fire every timer due by then."""
        now_ns = now if isinstance(now, int) else to_ns(now)
        for due in self._scheduler.pop_due(now_ns):
            strategy = self._strategies.get(due.owner)
            if strategy is not None and self._status[due.owner] is StrategyStatus.RUNNING:
                event = TimerEvent(due.name, ns_to_datetime(due.due_ns))
                self._call(strategy, "on_timer", strategy.on_timer, event)

    # -- state -------------------------------------------------------------------------------

    def snapshot(self, strategy_id: str) -> StrategySnapshot | None:
        """The strategy's restartable state; None (and the strategy disabled) if it fails."""
        strategy = self._strategies[strategy_id]
        ctx = strategy.context
        state: dict[str, object] = {}

        def save() -> None:
            saved = strategy.save_state()
            json.dumps(saved, allow_nan=False)  # the contract: JSON, nothing else
            state.update(saved)

        if not self._call(strategy, "save_state", save):
            return None
        return StrategySnapshot(
            strategy_id=strategy_id,
            name=strategy.name,
            seq=ctx.seq,
            state=json.loads(json.dumps(state)),  # a deep copy the strategy cannot change
            positions={k: v for k, v in ctx.positions.items() if v},
            open_orders=tuple(ctx.open_orders),
        )

    def restore(self, snapshot: StrategySnapshot) -> bool:
        """Give a strategy back its saved state, sequence and positions (before ``start``)."""
        strategy = self._strategies[snapshot.strategy_id]
        ctx = strategy.context
        ctx.seq = max(ctx.seq, snapshot.seq)
        ctx.positions = {k: Decimal(v) for k, v in snapshot.positions.items()}
        return self._call(strategy, "load_state", strategy.load_state, dict(snapshot.state))

    # -- status ------------------------------------------------------------------------------

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        return tuple(self._strategies.values())

    def status(self, strategy_id: str) -> StrategyStatus:
        return self._status[strategy_id]

    @property
    def failures(self) -> tuple[StrategyFailure, ...]:
        """Every strategy failure so far, in order."""
        return tuple(self._failures)

    def disable(self, strategy_id: str) -> None:
        """Stop delivering events to a strategy (its orders and fills are still tracked)."""
        strategy = self._strategies[strategy_id]
        self._unsubscribe(strategy)
        self._scheduler.cancel(strategy_id)
        self._status[strategy_id] = StrategyStatus.DISABLED

    # -- internals ---------------------------------------------------------------------------

    def _feed(self, symbol: str) -> _Feed:
        feed = self._feeds.get(symbol)
        if feed is None:
            feed = self._feeds[symbol] = _Feed(self._market.ring(symbol).append)
        return feed

    def _owner(self, client_order_id: str, strategy_id: str | None) -> Strategy | None:
        sid = strategy_id or self._owners.get(client_order_id)
        return None if sid is None else self._strategies.get(sid)

    def _subscribe(self, strategy: Strategy) -> None:
        for symbol in strategy.symbols:
            feed = self._feed(symbol)
            if _overrides(strategy, "on_bar"):
                feed.bars = [*feed.bars, (strategy, strategy.on_bar)]
            if _overrides(strategy, "on_quote"):
                feed.quotes = [*feed.quotes, (strategy, strategy.on_quote)]
            if _overrides(strategy, "on_trade"):
                feed.trades = [*feed.trades, (strategy, strategy.on_trade)]

    def _unsubscribe(self, strategy: Strategy) -> None:
        # New lists, so a dispatch loop already iterating the old one is not disturbed.
        for feed in self._feeds.values():
            feed.bars = [h for h in feed.bars if h[0] is not strategy]
            feed.quotes = [h for h in feed.quotes if h[0] is not strategy]
            feed.trades = [h for h in feed.trades if h[0] is not strategy]

    def _call(
        self, strategy: Strategy, hook: str, fn: Callable[..., object], *args: object
    ) -> bool:
        try:
            fn(*args)
        except MoneyPathError:
            raise  # a fault below the strategy's verb (see ``resilience.MoneyPathError``)
        except Exception as exc:  # user code: any error disables it
            self._fail(strategy, hook, exc)
            return False
        return True

    def _fail(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        sid = strategy.strategy_id
        if self._status.get(sid) is StrategyStatus.DISABLED:
            return
        self.disable(sid)
        failure = StrategyFailure(
            strategy_id=sid, hook=hook, error=repr(exc), at=self._clock.now(), exception=exc
        )
        self._failures.append(failure)
        _log.error(
            "strategy disabled after an exception",
            strategy=sid,
            hook=hook,
            error=repr(exc),
            exc_info=exc,
        )
        if self._errors is not None:
            self._errors.record(exc, component="trading")
        for alert in list(self.alerts):
            try:
                alert(failure)
            except Exception as alert_exc:  # an alert must not stop trading
                _log.error("strategy failure alert raised", error=repr(alert_exc))
