"""The event engine: fills worked out by hand, costs, determinism, many symbols."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest

from stockyard.backtest import (
    BacktestConfig,
    BarData,
    EventEngine,
    SymbolBars,
    backtest,
    random_walk,
    results_json,
)
from stockyard.core import Fill, OrderSide, OrderStatus, Timeframe
from stockyard.execution import ExchangeConfig, PerShareFee, TradeUpdate
from stockyard.execution.oms import ManagedOrder
from stockyard.resilience import MoneyPathError
from stockyard.strategy import BarRow, Strategy, create_strategy, param

MINUTE_NS = 60_000_000_000
T0_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def series(rows: Sequence[tuple[float, float, float, float]], symbol: str = "AAPL") -> SymbolBars:
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    ts = T0_NS + np.arange(len(rows), dtype=np.int64) * MINUTE_NS
    volume = np.full(len(rows), 1e4)
    return SymbolBars(symbol=symbol, ts=ts, open=o, high=h, low=lo, close=c, volume=volume)


def data(*parts: SymbolBars) -> BarData:
    return BarData(symbols=parts, span_ns=MINUTE_NS, timeframe=Timeframe.MINUTE)


class Scripted(Strategy):
    """Sends one order on bar ``at`` (market, or limit/stop when a price is given)."""

    name = "scripted"
    at: int = param(0, ge=0)
    side: str = param("buy", choices=("buy", "sell"))
    qty: int = param(10, ge=1)
    limit: float = param(0.0, ge=0)
    stop: float = param(0.0, ge=0)

    def on_start(self) -> None:
        self.seen = 0
        self.fills: list[tuple[int, Decimal]] = []

    def on_bar(self, bar: BarRow) -> None:
        if self.seen == self.at:
            verb = self.buy if self.side == "buy" else self.sell
            verb(
                bar.symbol,
                self.qty,
                limit=self.limit or None,
                stop=self.stop or None,
            )
        self.seen += 1

    def on_fill(self, fill: object) -> None:
        self.fills.append((self.seen, fill.price))  # type: ignore[attr-defined]


FLAT = [(100.0, 101.0, 99.0, 100.0)] * 2


def test_a_market_order_fills_at_the_next_bars_open() -> None:
    bot = Scripted(symbols=["AAPL"], at=1)
    bars = data(series([*FLAT, (102.5, 103.0, 102.0, 102.8), (103.0, 103.0, 103.0, 103.0)]))
    run = EventEngine(bars, [bot]).run()
    [fill] = run.fills
    assert fill.side is OrderSide.BUY
    assert fill.qty == 10
    assert fill.price == Decimal("102.5")
    assert fill.timestamp.timestamp() * 1e9 == T0_NS + 2 * MINUTE_NS
    assert bot.fills == [(2, Decimal("102.5"))]  # heard before bar 2 was delivered
    assert run.final_cash == Decimal(100_000) - Decimal("1025")
    assert run.final_equity == Decimal(100_000) - 1025 + 10 * Decimal("103")


def test_a_limit_buy_fills_at_its_limit_when_the_range_reaches_it() -> None:
    bot = Scripted(symbols=["AAPL"], at=0, limit=99.5)
    rows = [(100.0, 100.5, 99.8, 100.0), (100.0, 100.5, 99.6, 100.0), (100.0, 100.2, 99.2, 99.8)]
    run = EventEngine(data(series(rows)), [bot]).run()
    [fill] = run.fills
    assert fill.price == Decimal("99.5")
    assert fill.timestamp.timestamp() * 1e9 == T0_NS + 2 * MINUTE_NS  # not bar 1 (low 99.6)


def test_a_limit_buy_gets_the_open_when_the_bar_opens_through_it() -> None:
    bot = Scripted(symbols=["AAPL"], at=1, limit=99.5)
    run = EventEngine(data(series([*FLAT, (98.0, 98.5, 97.5, 98.0)])), [bot]).run()
    assert [f.price for f in run.fills] == [Decimal("98")]


def test_a_stop_sell_triggers_on_the_range_and_fills_at_the_stop() -> None:
    bot = Scripted(symbols=["AAPL"], at=1, side="sell", stop=98.0, qty=5)
    bars = data(series([*FLAT, (99.0, 99.5, 97.0, 97.5)]))
    run = EventEngine(bars, [bot]).run()
    [fill] = run.fills
    assert fill.side is OrderSide.SELL
    assert fill.price == Decimal("98")


def test_fees_come_out_of_cash_and_the_trade_pnl() -> None:
    config = BacktestConfig(
        exchange=ExchangeConfig(
            stock_fees=PerShareFee(per_share=Decimal("0.01"), minimum=Decimal(1))
        )
    )
    bars = data(series([(100.0, 100.0, 100.0, 100.0)] * 3 + [(110.0, 110.0, 110.0, 110.0)] * 3))

    class RoundTrip(Strategy):
        name = "round_trip"

        def on_start(self) -> None:
            self.n = 0

        def on_bar(self, bar: BarRow) -> None:
            if self.n == 1:
                self.buy(bar.symbol, 10)
            if self.n == 3:
                self.close_position(bar.symbol)
            self.n += 1

    results = backtest(bars, [RoundTrip(symbols=["AAPL"])], config)
    [trade] = results.trades
    assert (trade.entry_price, trade.exit_price, trade.qty) == (100.0, 110.0, 10.0)
    assert trade.fees == 2.0  # the $1 minimum on each leg
    assert trade.pnl == 98.0
    assert Decimal(str(results.meta["final_cash_exact"])) == Decimal("100098")
    assert results.equity.equity[-1] == pytest.approx(100_098.0)


def test_a_broker_rejection_is_an_accepted_order_then_rejected_as_live_and_nothing_fills() -> None:
    bot = Scripted(symbols=["AAPL"], at=0, qty=100_000)  # far beyond buying power
    run = EventEngine(data(series(FLAT * 2)), [bot]).run()
    assert run.fills == ()
    [order] = run.orders
    assert order.status is OrderStatus.REJECTED
    assert "buying power" in (order.reject_reason or "")
    [(strategy, code, reason)] = run.refusals
    assert strategy == "scripted"
    assert code == "broker_rejected"
    assert "buying power" in reason


def test_the_same_data_and_seed_give_byte_identical_json() -> None:
    bars = random_walk(20_000, seed=5)

    def once() -> bytes:
        bot = create_strategy("sma_cross", symbols=["AAPL"], params={"fast": 5, "slow": 20})
        return results_json(backtest(bars, [bot], BacktestConfig(seed=9)))

    first, second = once(), once()
    assert first == second
    assert b'"num_trades"' in first


def test_bars_of_several_symbols_meet_the_exchange_before_any_strategy_hears_of_them() -> None:
    a = series([(10.0, 10.0, 10.0, 10.0)] * 4, symbol="AAA")
    b = series([(20.0, 20.0, 20.0, 20.0)] * 2 + [(21.0, 21.0, 21.0, 21.0)] * 2, symbol="BBB")
    bot_b = Scripted(symbols=["BBB"], strategy_id="b", at=1)
    seen: list[tuple[str, str]] = []

    class Watch(Strategy):
        name = "watch"

        def on_bar(self, bar: BarRow) -> None:
            seen.append((bar.symbol, str(self.portfolio.qty("BBB"))))

    run = EventEngine(data(a, b), [Watch(symbols=["AAA"]), bot_b]).run()
    [fill] = run.fills
    assert fill.symbol == "BBB"
    assert fill.price == Decimal("21")
    # AAA's bar 2 (same stamp as BBB's fill bar) is delivered after BBB's fill.
    assert seen == [("AAA", "0"), ("AAA", "0"), ("AAA", "10"), ("AAA", "10")]


def test_an_engine_runs_once() -> None:
    engine = EventEngine(data(series(FLAT)), [Scripted(symbols=["AAPL"])])
    engine.run()
    with pytest.raises(RuntimeError, match="runs once"):
        engine.run()


def test_a_fill_listener_that_raises_aborts_the_run_naming_the_listener_and_the_fill() -> None:
    engine = EventEngine(data(series(FLAT * 2)), [Scripted(symbols=["AAPL"], at=0, qty=5)])

    def broken(_strategy_id: str, _fill: Fill) -> None:
        raise ValueError("listener bug")

    engine.manager.add_fill_listener(broken)
    with pytest.raises(MoneyPathError, match=r"broken raised on fill .*scripted-0: buy 5 AAPL"):
        engine.run()


def test_an_order_update_listener_that_raises_under_a_strategys_verb_aborts_the_run() -> None:
    bot = Scripted(symbols=["AAPL"], at=0, qty=5)
    engine = EventEngine(data(series(FLAT * 2)), [bot])

    def broken(_order: ManagedOrder) -> None:
        raise ValueError("listener bug")

    engine.manager.add_update_listener(broken)
    with pytest.raises(MoneyPathError, match=r"broken raised on order update scripted-0"):
        engine.run()
    assert engine.kernel.runner.failures == ()  # not the strategy's fault


def test_a_trade_update_listener_that_raises_at_the_exchange_aborts_the_run() -> None:
    engine = EventEngine(data(series(FLAT * 2)), [Scripted(symbols=["AAPL"], at=0, qty=5)])

    def broken(_update: TradeUpdate) -> None:
        raise ValueError("listener bug")

    engine.exchange.subscribe(broken)
    with pytest.raises(MoneyPathError, match=r"trade update listener .*broken raised on new"):
        engine.run()
