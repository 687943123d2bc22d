"""Each pre-trade rule, its code and reason; halts, the throttle and the kill switch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.config import LogSettings, RiskSettings
from stockyard.core import (
    Fill,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    SimClock,
    TimeInForce,
)
from stockyard.obs import configure_logging, flush_logs, shutdown_logging
from stockyard.portfolio import Portfolio
from stockyard.risk import LastPrice, RiskCode, RiskEngine, RiskRejection

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def books() -> Portfolio:
    return Portfolio(100_000)


PRICES = {"AAPL": LastPrice(Decimal(100), T0), "MSFT": LastPrice(Decimal(400), T0)}


def buy(qty: int, symbol: str = "AAPL", **kw: object) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=OrderSide.BUY, qty=Decimal(qty), **kw)  # type: ignore[arg-type]


def sell(qty: int, symbol: str = "AAPL", **kw: object) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=OrderSide.SELL, qty=Decimal(qty), **kw)  # type: ignore[arg-type]


def open_order(qty: int, symbol: str = "AAPL", side: OrderSide = OrderSide.BUY) -> Order:
    return Order(
        id=f"o{qty}{symbol}",
        client_order_id=f"c{qty}{symbol}",
        symbol=symbol,
        side=side,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.DAY,
        status=OrderStatus.NEW,
        created_at=T0,
        updated_at=T0,
        qty=Decimal(qty),
    )


def engine(clock: SimClock, **limits: object) -> RiskEngine:
    return RiskEngine(RiskSettings(**limits), now=clock.now)  # type: ignore[arg-type]


def check(
    risk: RiskEngine,
    books: Portfolio,
    request: OrderRequest,
    *,
    open_orders: tuple[Order, ...] = (),
    prices: dict[str, LastPrice] | None = None,
) -> RiskRejection | None:
    return risk.check(
        request,
        portfolio=books.view(),
        prices=PRICES if prices is None else prices,
        open_orders=open_orders,
    )


def code(rejection: RiskRejection | None) -> str | None:
    return None if rejection is None else rejection.code.value


def test_an_order_within_every_limit_passes(clock: SimClock, books: Portfolio) -> None:
    assert check(engine(clock), books, buy(10)) is None


def test_max_order_qty_and_notional(clock: SimClock, books: Portfolio) -> None:
    risk = engine(clock, max_order_qty=100, max_order_notional=5_000)
    assert str(check(risk, books, buy(101))) == (
        "max_order_qty: order qty 101 exceeds max_order_qty 100"
    )
    refusal = check(risk, books, buy(60))
    assert refusal == RiskRejection(
        code=RiskCode.MAX_NOTIONAL,
        reason="order notional 6,000.00 exceeds max_notional 5,000.00",
        symbol="AAPL",
    )
    assert check(risk, books, buy(50)) is None
    notional = OrderRequest(symbol="AAPL", side=OrderSide.BUY, notional=Decimal(5_001))
    assert code(check(risk, books, notional)) == "max_notional"


def test_max_position_counts_the_position_and_open_orders_but_lets_it_shrink(
    clock: SimClock, books: Portfolio
) -> None:
    risk = engine(clock, max_position_qty=100)
    books.apply(fill("buy", 60))
    assert code(check(risk, books, buy(30), open_orders=(open_order(20),))) == "max_position"
    assert check(risk, books, buy(20), open_orders=(open_order(20),)) is None
    assert check(risk, books, sell(60)) is None
    assert code(check(risk, books, sell(170))) == "max_position"  # -110 short is over too


def test_max_gross_exposure(clock: SimClock, books: Portfolio) -> None:
    risk = engine(clock, max_gross_exposure=10_000)
    books.apply(fill("buy", 20, symbol="MSFT", price=400))  # 8,000 gross
    refusal = check(risk, books, buy(21))  # + 2,100 = 10,100
    assert refusal is not None
    assert refusal.reason == "gross exposure would be 10,100.00; max_gross_exposure is 10,000.00"
    assert check(risk, books, buy(20)) is None
    assert check(risk, books, sell(20, "MSFT")) is None  # reducing is always fine


def test_max_open_orders(clock: SimClock, books: Portfolio) -> None:
    risk = engine(clock, max_open_orders=2)
    working = (open_order(1), open_order(2, "MSFT"))
    assert code(check(risk, books, buy(1), open_orders=working)) == "max_open_orders"
    assert check(risk, books, buy(1), open_orders=working[:1]) is None


def test_the_daily_loss_limit_halts_opening_orders_until_reset_or_the_next_day(
    clock: SimClock, books: Portfolio
) -> None:
    risk = engine(clock, daily_loss_limit=1_000)
    books.apply(fill("buy", 100))  # at 100: equity 100,000
    assert check(risk, books, buy(1)) is None  # starts the day at equity 100,000
    assert risk.start_equity == 100_000
    books.mark(T0, {"AAPL": "89.99"})  # equity 98,999 < 100,000 - 1,000
    refusal = check(risk, books, buy(1))
    assert code(refusal) == "daily_loss"
    assert risk.halted
    books.mark(T0, {"AAPL": "100"})  # back up: the halt stays until reset
    assert code(check(risk, books, buy(1))) == "daily_loss"
    assert check(risk, books, sell(50)) is None  # reducing is allowed while halted
    risk.reset_daily_halt()
    assert check(risk, books, buy(1)) is None
    books.mark(T0, {"AAPL": "80"})
    assert code(check(risk, books, buy(1))) == "daily_loss"
    clock.set(T0 + timedelta(days=1))  # a new trading day starts from today's equity
    fresh = {"AAPL": LastPrice(Decimal(80), clock.now())}
    assert check(risk, books, buy(1), prices=fresh) is None
    assert risk.start_equity == books.equity()


def test_limit_and_stop_prices_must_lie_within_the_band_of_the_last_trade(
    clock: SimClock, books: Portfolio
) -> None:
    risk = engine(clock, price_band_pct=5)
    assert check(risk, books, buy(1, type=OrderType.LIMIT, limit_price=Decimal(105))) is None
    refusal = check(risk, books, buy(1, type=OrderType.LIMIT, limit_price=Decimal("105.01")))
    assert refusal is not None
    assert refusal.reason == (
        "limit_price 105.01 is 5.01% from the last trade 100; price_band_pct is 5"
    )
    stop = sell(1, type=OrderType.STOP, stop_price=Decimal(90))
    assert code(check(risk, books, stop)) == "price_band"


def test_a_market_order_needs_a_recent_last_price(clock: SimClock, books: Portfolio) -> None:
    risk = engine(clock, max_price_age_s=60)
    assert code(check(risk, books, buy(1), prices={})) == "no_price"
    clock.set(T0 + timedelta(seconds=61))
    assert code(check(risk, books, buy(1))) == "no_price"
    limit = buy(1, type=OrderType.LIMIT, limit_price=Decimal(100))
    assert check(risk, books, limit, prices={}) is None  # a limit order carries its price


def test_the_throttle_allows_n_orders_per_rolling_window_on_the_injected_clock(
    clock: SimClock, books: Portfolio
) -> None:
    risk = engine(clock, max_orders=3, order_window_s=10, max_order_qty=5)
    assert [check(risk, books, buy(1)) for _ in range(3)] == [None, None, None]
    refusal = check(risk, books, buy(1))
    assert code(refusal) == "throttle"
    clock.set(T0 + timedelta(seconds=9.999))
    assert code(check(risk, books, buy(1))) == "throttle"
    clock.set(T0 + timedelta(seconds=10))  # the first three left the window
    assert code(check(risk, books, buy(6))) == "max_order_qty"  # refused: uses no budget
    assert [code(check(risk, books, buy(1))) for _ in range(4)] == [None, None, None, "throttle"]


def test_market_hours_refuse_queue_or_allow(clock: SimClock, books: Portfolio) -> None:
    def closed(symbol: str, now: datetime) -> bool:
        return symbol == "BTC/USD"

    refuse = RiskEngine(RiskSettings(), now=clock.now, market_open=closed)
    refusal = check(refuse, books, buy(1))
    assert refusal == RiskRejection(
        code=RiskCode.MARKET_CLOSED, reason="the market for AAPL is closed", symbol="AAPL"
    )
    queue = RiskEngine(RiskSettings(when_closed="queue"), now=clock.now, market_open=closed)
    queued = check(queue, books, buy(1))
    assert queued is not None
    assert queued.deferrable
    allow = RiskEngine(RiskSettings(when_closed="allow"), now=clock.now, market_open=closed)
    assert check(allow, books, buy(1)) is None


def test_an_unknown_symbol_is_refused(clock: SimClock, books: Portfolio) -> None:
    risk = RiskEngine(RiskSettings(), now=clock.now, tradable={"AAPL"}.__contains__)
    assert str(check(risk, books, buy(1, "ZZZZ"), prices={})) == (
        "unknown_symbol: unknown symbol 'ZZZZ'"
    )


def test_the_kill_switch_halts_new_positions_and_tells_its_listeners_once(
    clock: SimClock, books: Portfolio
) -> None:
    risk = engine(clock)
    heard: list[str] = []
    risk.kill_listeners.append(heard.append)
    risk.kill_listeners.append(lambda reason: 1 / 0)  # a failing listener stops nobody
    books.apply(fill("buy", 10))
    risk.engage("operator pressed stop")
    risk.engage("again")
    assert heard == ["operator pressed stop"]
    refusal = check(risk, books, buy(1))
    assert str(refusal) == "kill_switch: kill switch engaged: operator pressed stop"
    assert check(risk, books, sell(10)) is None  # flattening still passes
    assert code(check(risk, books, sell(11))) == "kill_switch"  # going short does not
    risk.release()
    assert check(risk, books, buy(1)) is None


def test_every_rejection_is_counted_and_logged_with_its_code(
    clock: SimClock, books: Portfolio, tmp_path: Path
) -> None:
    configure_logging(LogSettings(dir=tmp_path, format="json", console=False))
    try:
        risk = engine(clock, max_order_qty=1)
        check(risk, books, buy(2))
        check(risk, books, buy(3))
        assert flush_logs()
        lines = (tmp_path / "risk.log").read_text(encoding="utf-8").splitlines()
    finally:
        shutdown_logging()
    logged = [json.loads(line) for line in lines]
    assert [e["code"] for e in logged if e.get("code")] == ["max_order_qty", "max_order_qty"]
    assert risk.rejections == {"max_order_qty": 2}


_ids = iter(range(1, 1_000_000))


def fill(side: str, qty: int, symbol: str = "AAPL", price: int = 100) -> Fill:
    return Fill(
        id=f"f{next(_ids)}",
        order_id="o",
        client_order_id="c",
        symbol=symbol,
        side=OrderSide(side),
        qty=Decimal(qty),
        price=Decimal(price),
        timestamp=T0,
    )
