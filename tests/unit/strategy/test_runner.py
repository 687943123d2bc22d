"""The runner: history up to now only, isolation of a failing strategy, verbs that refuse
bad orders, timers on the injected clock, order routing and restartable state."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.config import LogSettings, RiskSettings
from stockyard.core import Order, OrderSide, OrderStatus, OrderType, Quote, TimeInForce, Trade
from stockyard.obs import configure_logging, flush_logs, shutdown_logging
from stockyard.resilience import ErrorRegistry
from stockyard.risk import RiskEngine
from stockyard.strategy import (
    BarRow,
    SmaCross,
    Strategy,
    StrategyError,
    StrategyFailure,
    StrategyRunner,
    StrategySnapshot,
    StrategyStatus,
    SubmitResult,
    TimerEvent,
)


class Recorder(Strategy):
    """Writes down what it can see of the history at each bar."""

    def on_start(self) -> None:
        self.seen: list[tuple[int, BarRow, BarRow]] = []

    def on_bar(self, bar: BarRow) -> None:
        history = self.history(bar.symbol)
        self.seen.append((len(history), history[-1], bar))
        with pytest.raises(IndexError):
            history[len(history)]  # the slot after "now" does not exist


class Crashy(Strategy):
    def on_bar(self, bar: BarRow) -> None:
        if len(self.history(bar.symbol)) == 3:
            raise ZeroDivisionError("bug in user code")


class BuyEveryBar(Strategy):
    def on_bar(self, bar: BarRow) -> None:
        self.buy(bar.symbol, 1)


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "logs"
    configure_logging(LogSettings(dir=directory, format="json", console=False))
    try:
        yield directory
    finally:
        shutdown_logging()


def _log_lines(directory: Path, name: str) -> list[dict[str, object]]:
    assert flush_logs()
    path = directory / name
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


def test_a_strategy_sees_the_bars_delivered_so_far_and_never_a_later_one(
    harness: Callable,
) -> None:
    bot = Recorder(symbols=["AAPL"])
    run = harness(bot)
    future = [run.row("AAPL", i, 100.0 + i) for i in range(5)]  # the host holds all five
    run.run(enumerate(future))
    for count, (length, newest, bar) in enumerate(bot.seen, start=1):
        assert length == count  # only what was appended before on_bar
        assert newest is bar is future[count - 1]
    assert bot.history("AAPL").last(10) == future


def test_history_is_a_read_only_ring_of_the_last_bars(harness: Callable) -> None:
    bot = Recorder(symbols=["AAPL"])
    run = harness(bot)
    run.closes("AAPL", [1.0] * 2000)
    history = bot.history("AAPL")
    assert len(history) == history.capacity == 1024
    assert history[0].ts < history[-1].ts
    assert not hasattr(history, "append")
    with pytest.raises(LookupError, match="does not carry"):
        bot.history("MSFT")


def test_a_crashing_strategy_is_disabled_logged_once_and_alerted_while_another_trades(
    harness: Callable, log_dir: Path
) -> None:
    alerts: list[StrategyFailure] = []
    crashy, steady = Crashy(symbols=["AAPL"]), BuyEveryBar(symbols=["AAPL"])
    errors = ErrorRegistry()
    run = harness(crashy, steady, errors=errors)
    run.runner.alerts.append(alerts.append)
    run.closes("AAPL", [10.0] * 6)

    assert run.runner.status("crashy") is StrategyStatus.DISABLED
    assert run.runner.status("buy_every_bar") is StrategyStatus.RUNNING
    assert len(run.sent) == 6  # the other strategy went on ordering every bar
    assert [(f.strategy_id, f.hook) for f in alerts] == [("crashy", "on_bar")]
    assert run.runner.failures == tuple(alerts)
    assert errors.total == 1
    logged = [e for e in _log_lines(log_dir, "trading.log") if e.get("strategy") == "crashy"]
    assert len(logged) == 1
    assert "ZeroDivisionError" in json.dumps(logged[0])
    assert "Traceback" in json.dumps(logged[0])


def test_an_exception_in_on_start_disables_only_that_strategy(harness: Callable) -> None:
    class BadStart(Strategy):
        def on_start(self) -> None:
            raise RuntimeError("no")

        def on_bar(self, bar: BarRow) -> None:
            raise AssertionError("never called")

    run = harness(BadStart(symbols=["AAPL"]), BuyEveryBar(symbols=["AAPL"]))
    run.closes("AAPL", [10.0, 11.0])
    assert run.runner.status("bad_start") is StrategyStatus.DISABLED
    assert len(run.sent) == 2


class BadOrders(Strategy):
    def on_start(self) -> None:
        self.results: list[SubmitResult] = []

    def on_bar(self, bar: BarRow) -> None:
        if len(self.results):
            return
        self.results += [
            self.buy("AAPL", -5),
            self.buy("AAPL", 0),
            self.buy("AAPL", float("nan")),
            self.sell("AAPL", 1, limit=float("nan")),
            self.buy("AAPL", "lots"),
            self.buy(" AAPL", 1),
            self.buy("ZZZZ", 1),
            self.buy("AAPL", 1_000),
            self.buy("AAPL", 100, limit=105),
        ]


def test_bad_orders_are_refused_with_reasons_and_nothing_reaches_the_broker(
    harness: Callable,
) -> None:
    bot = BadOrders(symbols=["AAPL"])
    run = harness(bot)
    run.risk = RiskEngine(
        RiskSettings(max_order_qty=Decimal(100), max_order_notional=Decimal(10_000)),
        now=run.clock.now,
        tradable=lambda symbol: symbol in {"AAPL", "MSFT"},
    )
    run.closes("AAPL", [100.0, 100.0])

    assert run.sent == []  # nothing reached the "broker"
    assert run.runner.status("bad_orders") is StrategyStatus.RUNNING
    assert all(not result.accepted for result in bot.results)
    assert [r.code for r in bot.results] == [
        "invalid_order",
        "invalid_order",
        "invalid_order",
        "invalid_order",
        "invalid_order",
        "invalid_order",
        "unknown_symbol",
        "max_order_qty",
        "max_notional",
    ]
    reasons = [r.reason or "" for r in bot.results]
    assert "qty must be a finite number > 0, got -5" in reasons[0]
    assert "qty must be finite" in reasons[2]
    assert "limit_price must be finite" in reasons[3]
    assert reasons[6] == "unknown symbol 'ZZZZ'"
    assert reasons[8] == "order notional 10,500.00 exceeds max_notional 10,000.00"
    assert bot.context.refused == 9


def test_verbs_build_the_order_type_from_the_prices_given(harness: Callable) -> None:
    class Orders(Strategy):
        def on_bar(self, bar: BarRow) -> None:
            if len(self.history(bar.symbol)) == 1:
                self.buy("AAPL", 1, limit=99)
                self.sell("AAPL", 1, stop=90, time_in_force=TimeInForce.GTC)
                self.sell("AAPL", 1, stop=90, limit=89)

    run = harness(Orders(symbols=["AAPL"]))
    run.closes("AAPL", [100.0])
    requests = [intent.request for intent in run.sent]
    assert [r.type for r in requests] == [OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT]
    assert requests[1].time_in_force is TimeInForce.GTC
    assert [intent.sequence for intent in run.sent] == [1, 2, 3]


def test_the_fast_path_and_the_general_path_make_the_same_trades(harness: Callable) -> None:
    closes = [10, 10, 10, 13, 16, 13, 10, 10, 13, 13, 12, 11, 10, 12, 15]
    slow_run = harness(SmaCross(symbols=["AAPL"], fast=2, slow=3, qty=10))
    slow_run.closes("AAPL", closes)

    fast_run = harness(SmaCross(symbols=["AAPL"], fast=2, slow=3, qty=10))
    push = fast_run.runner.bar_pusher("AAPL")
    fast_run.runner.on_bar = push  # the harness now delivers through the fast path
    fast_run.closes("AAPL", closes)
    assert fast_run.trades == slow_run.trades
    assert len(slow_run.trades) >= 3


class Ticker(Strategy):
    def on_start(self) -> None:
        self.ticks: list[TimerEvent] = []
        self.schedule("every5", every=timedelta(minutes=5))
        self.schedule("once", at=self.now + timedelta(minutes=2))

    def on_timer(self, timer: TimerEvent) -> None:
        self.ticks.append(timer)


def test_timers_fire_on_the_injected_clock_once_each_when_due(harness: Callable) -> None:
    bot = Ticker(symbols=["AAPL"])
    run = harness(bot)
    start = run.clock.now()
    runner: StrategyRunner = run.runner
    runner.advance(start + timedelta(minutes=1))
    assert bot.ticks == []
    runner.advance(start + timedelta(minutes=5))
    assert [(t.name, t.due - start) for t in bot.ticks] == [
        ("once", timedelta(minutes=2)),
        ("every5", timedelta(minutes=5)),
    ]
    runner.advance(start + timedelta(hours=2))  # far behind: fires once, no replay
    assert [t.name for t in bot.ticks] == ["once", "every5", "every5"]
    assert runner.next_timer_ns > 0
    bot.cancel_timer("every5")
    runner.advance(start + timedelta(days=1))
    assert len(bot.ticks) == 3


def test_order_updates_and_fills_reach_the_strategy_that_sent_the_order(
    harness: Callable,
) -> None:
    class Watcher(Strategy):
        def on_start(self) -> None:
            self.updates: list[OrderStatus] = []

        def on_bar(self, bar: BarRow) -> None:
            if len(self.history("AAPL")) == 1:
                self.buy("AAPL", 5, limit=99)

        def on_order_update(self, order: Order) -> None:
            self.updates.append(order.status)

    watcher, other = Watcher(symbols=["AAPL"]), BuyEveryBar(symbols=["MSFT"])
    run = harness(watcher, other)
    run.closes("AAPL", [100.0])
    assert watcher.open_orders() == ["watcher-1"]
    now = run.clock.now()
    canceled = Order(
        id="o1", client_order_id="watcher-1", symbol="AAPL", side=OrderSide.BUY,
        type=OrderType.LIMIT, time_in_force=TimeInForce.DAY, status=OrderStatus.CANCELED,
        created_at=now, updated_at=now, qty=Decimal(5), limit_price=Decimal(99),
    )  # fmt: skip
    run.runner.on_order_update(canceled)
    assert watcher.updates == [OrderStatus.CANCELED]
    assert watcher.open_orders() == []


def test_market_data_views_give_the_latest_quote_trade_and_price(harness: Callable) -> None:
    bot = Recorder(symbols=["AAPL"])
    run = harness(bot)
    run.closes("AAPL", [100.0])
    assert bot.market.last_price("AAPL") == 100.0
    now = run.clock.now() + timedelta(seconds=30)
    run.runner.on_quote(Quote("AAPL", now, 100.5, 1, 101.5, 1))
    assert bot.market.last_quote("AAPL") is not None
    run.runner.on_trade(Trade("AAPL", now, 101.0, 10))
    assert bot.market.last_price("AAPL") == 101.0


def test_state_sequence_and_positions_survive_a_restart(harness: Callable) -> None:
    class Counter(Strategy):
        def on_bar(self, bar: BarRow) -> None:
            self.state["bars"] = int(str(self.state.get("bars", 0))) + 1
            self.buy(bar.symbol, 1)

    run = harness(Counter(symbols=["AAPL"]))
    run.closes("AAPL", [10.0, 11.0, 12.0])
    saved = run.runner.snapshot("counter")
    assert saved is not None
    stored = json.dumps(saved.to_json())  # what the persistence layer writes

    again = Counter(symbols=["AAPL"])
    rerun = harness()
    rerun.runner.add(again)
    assert rerun.runner.restore(StrategySnapshot.from_json(json.loads(stored)))
    rerun.runner.start()
    assert again.state == {"bars": 3}
    assert again.position("AAPL") == 2  # two of three orders filled before the snapshot
    rerun.closes("AAPL", [13.0])
    assert rerun.sent[-1].sequence == 4  # numbering goes on: no client order id is reused


def test_state_that_is_not_json_disables_the_strategy_at_snapshot(harness: Callable) -> None:
    bot = BuyEveryBar(symbols=["AAPL"])
    run = harness(bot)
    bot.state["when"] = run.clock.now()  # type: ignore[assignment]  # a datetime is not JSON
    assert run.runner.snapshot("buy_every_bar") is None
    assert run.runner.status("buy_every_bar") is StrategyStatus.DISABLED


def test_a_strategy_not_attached_to_a_runner_cannot_trade() -> None:
    with pytest.raises(StrategyError, match="not attached"):
        BuyEveryBar(symbols=["AAPL"]).buy("AAPL", 1)


def test_two_strategies_with_the_same_id_are_refused(harness: Callable) -> None:
    run = harness(BuyEveryBar(symbols=["AAPL"]))
    with pytest.raises(StrategyError, match="already"):
        run.runner.add(BuyEveryBar(symbols=["AAPL"]))
