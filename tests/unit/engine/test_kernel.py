"""The kernel: one gate for orders, fills booked once, marks pulled from the last prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.config import RiskSettings
from stockyard.core import (
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Quote,
    SimClock,
    TimeInForce,
    Trade,
    to_ns,
)
from stockyard.engine import Kernel
from stockyard.portfolio import Portfolio
from stockyard.risk import RiskEngine
from stockyard.strategy import BarRow, Strategy, StrategyOrder, SubmitResult

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
MINUTE_NS = 60_000_000_000


class FillAtOnce:
    """An order route (``OrderRouter``) that acknowledges and fills every order inside
    ``submit``, as a synchronous simulated venue does."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.kernel: Kernel | None = None
        self.sent: list[StrategyOrder] = []

    def submit(self, order: StrategyOrder) -> SubmitResult:
        assert self.kernel is not None
        self.sent.append(order)
        cid = f"{order.strategy_id}-{order.sequence}"
        request = order.request
        assert request.qty is not None
        now = self.clock.now()
        placed = Order(
            id=f"o{order.sequence}", client_order_id=cid, symbol=request.symbol,
            side=request.side, type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
            status=OrderStatus.NEW, created_at=now, updated_at=now, qty=request.qty,
        )  # fmt: skip
        self.kernel.on_order_update(placed)
        fill = Fill(
            id=f"f{order.sequence}", order_id=placed.id, client_order_id=cid,
            symbol=request.symbol, side=request.side, qty=request.qty, price=Decimal(10),
            timestamp=now,
        )  # fmt: skip
        self.kernel.on_fill(fill)
        self.kernel.on_fill(fill)  # a duplicate delivery
        return SubmitResult.ok(cid)

    def cancel(self, strategy_id: str, client_order_id: str) -> SubmitResult:
        return SubmitResult.refused("unknown_order", client_order_id)


class BuyOnce(Strategy):
    name = "buy_once"

    def on_start(self) -> None:
        self.results: list[SubmitResult] = []
        self.heard: list[tuple[str, Decimal]] = []

    def on_bar(self, bar: BarRow) -> None:
        if not self.results:
            self.results.append(self.buy(bar.symbol, 5))

    def on_fill(self, fill: Fill) -> None:
        self.heard.append((fill.client_order_id, self.position(fill.symbol)))


def _kernel(settings: RiskSettings | None = None) -> tuple[Kernel, FillAtOnce, SimClock]:
    clock = SimClock(T0)
    route = FillAtOnce(clock)
    books = Portfolio(1_000)
    risk = RiskEngine(settings, now=clock.now)
    kernel = Kernel(clock=clock, orders=route, risk=risk, portfolio=books)
    route.kernel = kernel
    return kernel, route, clock


def _row(i: int, close: float) -> BarRow:
    return BarRow("AAPL", to_ns(T0) + i * MINUTE_NS, close, close, close, close, 100.0)


def test_an_order_passes_risk_then_the_order_manager_and_its_fill_is_booked_once() -> None:
    kernel, _route, clock = _kernel()
    bot = BuyOnce(symbols=["AAPL"])
    kernel.add(bot)
    kernel.start()
    push = kernel.bar_pusher("AAPL", span_ns=MINUTE_NS)
    clock.set(to_ns(T0) + MINUTE_NS)
    push(_row(0, 10.0))
    assert [r.client_order_id for r in bot.results] == ["buy_once-1"]
    # The fill arrived inside submit; the strategy heard it after learning its order id.
    assert bot.heard == [("buy_once-1", Decimal(5))]
    assert kernel.portfolio.qty("AAPL") == 5
    assert kernel.portfolio.cash == Decimal(950)
    assert kernel.owners == {"buy_once-1": "buy_once"}
    assert kernel.open_orders == {} or all(o.is_open for o in kernel.open_orders.values())


def test_a_risk_refusal_reaches_the_strategy_with_its_code_and_nothing_is_sent() -> None:
    kernel, route, clock = _kernel(RiskSettings(max_order_qty=Decimal(1)))
    bot = BuyOnce(symbols=["AAPL"])
    kernel.add(bot)
    kernel.start()
    clock.set(to_ns(T0) + MINUTE_NS)
    kernel.on_bar(_row(0, 10.0), span_ns=MINUTE_NS)
    [result] = bot.results
    assert not result.accepted
    assert result.code == "max_order_qty"
    assert route.sent == []
    assert [r.code for _, r in kernel.refusals] == ["max_order_qty"]


def test_the_portfolio_view_is_marked_at_the_last_price_when_read() -> None:
    kernel, _, clock = _kernel()
    kernel.add(BuyOnce(symbols=["AAPL"]))
    kernel.start()
    push = kernel.bar_pusher("AAPL", span_ns=MINUTE_NS)
    clock.set(to_ns(T0) + MINUTE_NS)
    push(_row(0, 10.0))
    push(_row(1, 12.5))
    assert kernel.view.equity() == Decimal(950) + 5 * Decimal("12.5")
    assert kernel.view.exposure().long == Decimal("62.5")
    assert kernel.latest_price("AAPL") == Decimal("12.5")
    assert kernel.portfolio.equity_curve == ()  # nothing was marked to get there


def test_the_simulated_clock_never_goes_back() -> None:
    clock = SimClock(T0)
    assert clock.now() == T0
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(to_ns(T0) - 1)


class Watcher(Strategy):
    name = "watcher"


def test_a_strategy_and_the_risk_check_read_one_last_price() -> None:
    kernel, _, clock = _kernel()
    bot = Watcher(symbols=["AAPL", "MSFT"])
    kernel.add(bot)
    kernel.start()
    market = bot.context.market
    risk_prices = kernel._last_prices  # what the risk check is handed

    def both(symbol: str) -> tuple[float | None, Decimal | None]:
        found = risk_prices.get(symbol)
        return market.last_price(symbol), None if found is None else found.price

    kernel.on_quote(Quote("MSFT", T0, 49.0, 1.0, 51.0, 1.0))
    assert both("MSFT") == (50.0, Decimal(50))  # a quote's mid, with nothing else seen
    clock.set(to_ns(T0) + MINUTE_NS)
    kernel.on_bar(_row(0, 10.0), span_ns=MINUTE_NS)  # opens at T0, prints at T0 + 1 min
    inside = T0 + timedelta(seconds=30)  # a print inside that bar: older than its close
    kernel.on_trade(Trade("AAPL", inside, 9.5, 1.0))
    assert both("AAPL") == (10.0, Decimal(10))
    after = T0 + timedelta(seconds=70)  # a print after the close: the newest price
    kernel.on_trade(Trade("AAPL", after, 10.25, 1.0))
    assert both("AAPL") == (10.25, Decimal("10.25"))


def test_holding_events_the_strategy_hears_its_orders_fate_after_its_hook_returns() -> None:
    kernel, _route, clock = _kernel()

    class Looks(BuyOnce):
        def on_bar(self, bar: BarRow) -> None:
            super().on_bar(bar)
            self.during = list(self.heard)  # what it had heard when its verb returned

    bot = Looks(symbols=["AAPL"])
    kernel.add(bot)
    kernel.start()
    kernel.hold_events = True  # as the backtester's replay loop does
    push = kernel.bar_pusher("AAPL", span_ns=MINUTE_NS)
    clock.set(to_ns(T0) + MINUTE_NS)
    push(_row(0, 10.0))
    assert bot.during == []  # live, the venue's answer comes on a later turn of the loop
    assert len(kernel.deferred) == 3  # the order, its fill and the duplicate
    kernel.drain()
    assert bot.heard == [("looks-1", Decimal(5))]
    assert kernel.deferred == []
