"""The event-driven backtester: the live kernel on a simulated clock, fed by a replay loop.

The strategies, risk engine, order manager and portfolio are the live node's own
(``stockyard.engine.Kernel``); only the clock (``SimClock``), the feed (this module's
replay loop) and the broker (the simulated exchange) differ. Time is the data's: a bar
stamped ``t`` (its open) is matched against resting orders at ``t`` and handed to the
strategies at ``t + span``, when it would have closed and arrived live. So a market order
sent on a bar fills at the next bar's open; limits and stops fill against that bar's range
(``ExchangeConfig``; docs/matching.md). Ids are sequential from the seed and nothing reads
the wall clock: the same data, strategies and config give the same run, bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from stockyard.backtest._engine_data import BarData
from stockyard.config import BacktestSettings, ExchangeSettings, RiskSettings, StrategySettings
from stockyard.core import Fill, Order, OrderStatus, SimClock, ns_to_datetime
from stockyard.data import MarketCalendar
from stockyard.engine import Kernel, OrderRoute, SyncDriver
from stockyard.execution import Asset, ExchangeConfig, SimBroker, SimExchange, sequential_ids
from stockyard.execution.oms import InMemoryOrderJournal, OrderManager
from stockyard.portfolio import Portfolio
from stockyard.resilience import MoneyPathError
from stockyard.risk import RiskEngine
from stockyard.strategy import BarRow, Strategy, StrategyFailure

__all__ = ["BacktestConfig", "EngineRun", "EventEngine"]

_ACCOUNT = "backtest"
_CHUNK = 1 << 16  # bars between progress reports


# The defaults live in the settings sections ([backtest], [exchange], strategy.history_size).
_BACKTEST_DEFAULTS = BacktestSettings()
_EXCHANGE_DEFAULTS = ExchangeSettings()
_STRATEGY_DEFAULTS = StrategySettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestConfig:
    """How a backtest trades: money, fills and costs, the calendar, risk, the seed.

    ``calendar="always"`` (default) trades every bar as it comes — a user's bars outside
    NYSE hours included; ``"nyse"`` applies NYSE sessions (orders wait for the open, day
    orders expire, risk refuses orders while closed). ``multiplier`` 1 is a cash account
    (no shorting); 2 or 4 a margin account. ``seed`` seeds every id. ``warmup``: the bars
    of the first that many timestamps only warm the strategies up (``on_bar`` with every
    order refused, as a live node's warm-up); 0 (default) starts cold.
    """

    cash: Decimal = _BACKTEST_DEFAULTS.cash
    exchange: ExchangeConfig = field(default_factory=ExchangeConfig)
    calendar: Literal["always", "nyse"] = _BACKTEST_DEFAULTS.calendar
    multiplier: int = _EXCHANGE_DEFAULTS.multiplier
    shorting: bool = _EXCHANGE_DEFAULTS.multiplier > 1 and _EXCHANGE_DEFAULTS.shorting_enabled
    risk: RiskSettings = field(default_factory=RiskSettings)
    history_size: int = _STRATEGY_DEFAULTS.history_size
    seed: int = _BACKTEST_DEFAULTS.seed
    warmup: int = _BACKTEST_DEFAULTS.warmup

    def __post_init__(self) -> None:
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0 bars, got {self.warmup}")
        if not (self.cash.is_finite() and self.cash > 0):
            raise ValueError(f"cash must be a positive amount, got {self.cash}")
        if self.calendar not in ("always", "nyse"):
            raise ValueError(f"calendar must be 'always' or 'nyse', got {self.calendar!r}")
        if self.multiplier not in (1, 2, 4):
            raise ValueError(f"multiplier must be 1, 2 or 4, got {self.multiplier}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineRun:
    """What one event-engine run produced, before metrics (see ``_engine_results``)."""

    data: BarData
    config: BacktestConfig
    strategies: tuple[Strategy, ...]
    fills: tuple[Fill, ...]
    orders: tuple[Order, ...]
    owners: dict[str, str]
    # (strategy id, code, reason): risk's refusals, then the broker's rejections
    # ("broker_rejected": accepted, then a REJECTED update, as live)
    refusals: tuple[tuple[str, str, str], ...]
    failures: tuple[StrategyFailure, ...]
    final_cash: Decimal
    final_equity: Decimal
    positions: dict[str, Decimal]


def _abort(error: MoneyPathError) -> None:
    raise error


class EventEngine:
    """One backtest: ``EventEngine(data, strategies, config).run()``. Single use.

    A fault on the money path (a fill or order-update listener that raises, a kill-switch
    flatten that fails) aborts the run with a ``MoneyPathError`` naming the listener and
    the fill or order: a backtest that went on past one would report numbers that are
    wrong."""

    def __init__(
        self, data: BarData, strategies: Sequence[Strategy], config: BacktestConfig | None = None
    ) -> None:
        if not data.symbols:
            raise ValueError("no bars to backtest")
        self.data = data
        self.config = config = config if config is not None else BacktestConfig()
        self.clock = SimClock(data.start_ns)
        calendar = MarketCalendar.always_open() if config.calendar == "always" else None
        self.exchange = SimExchange(
            clock=self.clock.now,
            config=config.exchange,
            calendar=calendar,
            id_factory=sequential_ids(config.seed),
        )
        self.exchange.on_listener_error = _abort  # nothing on the money path fails quietly
        for symbol in data.names:
            asset = Asset.crypto(symbol) if "/" in symbol else Asset.stock(symbol)
            self.exchange.add_asset(asset)
        self.exchange.open_account(
            _ACCOUNT,
            cash=config.cash,
            multiplier=config.multiplier,
            shorting_enabled=config.shorting,
        )
        names = set(data.names)
        risk = RiskEngine(
            config.risk,
            now=self.clock.now,
            market_open=None if config.calendar == "always" else self.exchange.is_open,
            tradable=names.__contains__,
        )
        self.portfolio = Portfolio(config.cash)
        self._delivered: dict[str, BarRow] = {}  # the last bar the exchange saw, per symbol
        self.journal = InMemoryOrderJournal()
        self.manager = OrderManager(
            broker=SimBroker(self.exchange, account_id=_ACCOUNT),
            journal=self.journal,
            clock=self.clock.now,
        )
        self.manager.start_sync()
        # The live node's route, driven synchronously: the same hooks on every outcome.
        self.router = OrderRoute(
            self.manager, driver=SyncDriver(), on_order=self._on_order, on_fill=self._on_fill
        )
        self.kernel = kernel = Kernel(
            clock=self.clock,
            orders=self.router,
            risk=risk,
            portfolio=self.portfolio,
            history_size=config.history_size,
            before_send=self._catch_up,
        )
        self._fills: list[Fill] = []
        self._orders: dict[str, Order] = {}
        kernel.fault_listeners.append(_abort)
        kernel.fill_listeners.append(self._fills.append)
        kernel.order_listeners.append(self._record_order)
        self.strategies = tuple(strategies)
        for strategy in self.strategies:
            kernel.add(strategy)
        self._used = False

    def run(self, progress: Callable[[int], None] | None = None) -> EngineRun:
        """Replay every bar through the kernel; ``progress(bars_done)`` every 65,536 bars.
        Rows are made a chunk at a time, so only one chunk of them is held."""
        return self._run(self.data.row_chunks(_CHUNK), progress)

    def run_rows(
        self, rows: list[BarRow], progress: Callable[[int], None] | None = None
    ) -> EngineRun:
        """:meth:`run` on rows already made with ``data.rows()`` (benchmarks time apart)."""
        return self._run((rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)), progress)

    def _run(
        self, chunks: Iterable[list[BarRow]], progress: Callable[[int], None] | None
    ) -> EngineRun:
        if self._used:
            raise RuntimeError("an EventEngine runs once; make a new one")
        self._used = True
        self.kernel.start()
        chunks = self._warm_up(chunks)
        self.kernel.hold_events = True  # the venue's answers after the hook (Kernel.drain)
        done = 0
        for chunk in chunks:
            if len(self.data.symbols) == 1:
                self._replay_one(chunk)
            else:
                self._replay_many(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
        self.kernel.hold_events = False
        self.kernel.drain()
        self.kernel.stop()
        return self._result()

    def _warm_up(self, chunks: Iterable[list[BarRow]]) -> Iterable[list[BarRow]]:
        """Feed the bars of the first ``config.warmup`` timestamps through the strategies'
        warm-up (no order can leave it), now; the chunks of the rest are what trades."""
        need = self.config.warmup
        if need <= 0:
            return chunks
        rest = iter(chunks)
        seen, last = 0, -1
        for chunk in rest:
            cut = len(chunk)
            for index, row in enumerate(chunk):
                if row[1] != last:
                    if seen == need:
                        cut = index
                        break
                    seen, last = seen + 1, row[1]
            if cut:
                self.kernel.runner.warm_up(chunk[:cut])
                self.clock.ns = max(self.clock.ns, chunk[cut - 1][1] + self.data.span_ns)
            if cut < len(chunk):
                return itertools.chain([chunk[cut:]], rest)
        return ()

    # -- the replay loops ---------------------------------------------------------------------
    #
    # The fast path, and why it equals the live path. Live and here, every bar enters through
    # the kernel's one bar pusher (``Kernel.bar_pusher``: record the last price, deliver to
    # the strategies), and the broker sees the market on its own. Here the exchange gets a
    # bar only when it has an open order in that symbol (`kernel.working`): with nothing
    # resting there, matching a bar changes nothing but the exchange's last price, and
    # `_catch_up` hands the exchange the latest bar of the order's symbol and of every held
    # symbol before any order reaches it, so every price the exchange reads (buying power,
    # reservations, marks) is the one it would have had. Nothing else runs per bar: no
    # Decimal, no datetime, no log. Rows were validated when the bars were made
    # (``SymbolBars``).

    def _replay_one(self, rows: list[BarRow]) -> None:
        """One symbol: a bar is one timestamp."""
        clock, span = self.clock, self.data.span_ns
        kernel = self.kernel
        runner = kernel.runner
        timers = runner.timers
        working = kernel.working
        push = kernel.bar_pusher(self.data.symbols[0].symbol, span_ns=span)
        deliver = self._deliver
        answers, drain = kernel.deferred, kernel.drain
        for row in rows:
            if working:
                clock.ns = max(clock.ns, row[1])
                deliver(row)
            now = clock.ns = row[1] + span
            push(row)
            if answers:
                drain()
            if now >= timers.due_ns:
                runner.advance(now)
                drain()

    def _replay_many(self, rows: list[BarRow]) -> None:
        """Several symbols: every bar of a timestamp meets the exchange at its open first,
        then every one goes to the strategies at its close, as they would arrive live."""
        clock, span = self.clock, self.data.span_ns
        kernel = self.kernel
        runner = kernel.runner
        timers = runner.timers
        working = kernel.working
        pushers = {s: kernel.bar_pusher(s, span_ns=span) for s in self.data.names}
        deliver = self._deliver
        answers, drain = kernel.deferred, kernel.drain
        n, i = len(rows), 0
        while i < n:
            ts = rows[i][1]
            j = i + 1
            while j < n and rows[j][1] == ts:
                j += 1
            if working:
                clock.ns = max(clock.ns, ts)
                for k in range(i, j):
                    row = rows[k]
                    if row[0] in working:
                        deliver(row)
            now = clock.ns = ts + span
            for k in range(i, j):
                row = rows[k]
                pushers[row[0]](row)
                if answers:
                    drain()
            if now >= timers.due_ns:
                runner.advance(now)
                drain()
            i = j

    def _deliver(self, row: BarRow) -> None:
        self._delivered[row[0]] = row
        symbol, ts, o, h, lo, c, v = row
        self.exchange.on_bar_values(symbol, ns_to_datetime(ts), (o, h, lo, c, v))

    def _catch_up(self, symbol: str) -> None:
        """Before an order is sent: the exchange sees the latest bar of ``symbol`` and of
        every held symbol (nothing rests there, so this only sets its last prices)."""
        book = self.kernel.prices.bars
        for name in (symbol, *self.portfolio.held()):
            row = book.get(name)
            if row is not None and self._delivered.get(name) is not row:
                self._deliver(row)

    def _on_order(self, order: Order) -> None:
        self.kernel.on_order_update(order)

    def _on_fill(self, fill: Fill) -> None:
        self.kernel.on_fill(fill)

    def _record_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = order

    def _result(self) -> EngineRun:
        books = self.kernel.view
        owners = self.kernel.owners
        rejected = tuple(
            (owners.get(o.client_order_id, ""), "broker_rejected", o.reject_reason or "rejected")
            for o in self._orders.values()
            if o.status is OrderStatus.REJECTED
        )
        return EngineRun(
            data=self.data,
            config=self.config,
            strategies=self.strategies,
            fills=tuple(self._fills),
            orders=tuple(self._orders.values()),
            owners=dict(self.kernel.owners),
            refusals=tuple(
                (intent.strategy_id, result.code or "", result.reason or "")
                for intent, result in self.kernel.refusals
            )
            + rejected,
            failures=self.kernel.runner.failures,
            final_cash=books.cash,
            final_equity=books.equity(),
            positions={s: p.qty for s, p in books.positions().items()},
        )
