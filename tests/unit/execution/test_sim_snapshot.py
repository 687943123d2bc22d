"""State: snapshot → restore → snapshot is identical, and the same inputs give the same state."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sim_desk import LIMIT, Desk, make_desk

from stockyard.core import Bar, OrderClass, OrderRequest, OrderSide, OrderType, Quote
from stockyard.execution import ExchangeConfig, RegulatoryFee, SimExchange


def _session(desk: Desk) -> None:
    """A morning of mixed orders: fills, partials, legs, a trailing stop, a cancel."""
    desk.bar(100, 100, 100, 100, advance=False)
    desk.buy("300")
    desk.buy(
        "10",
        type=LIMIT,
        limit_price=Decimal("99"),
        order_class=OrderClass.BRACKET,
        take_profit_limit_price=Decimal("104"),
        stop_loss_stop_price=Decimal("96"),
    )
    doomed = desk.buy("5", type=LIMIT, limit_price=Decimal("80"), client_order_id="doomed")
    for i in range(6):
        price = 100 - i * 0.5
        desk.bar(price, price + 1, price - 1, price, volume=2000)
    desk.sell("50", type=OrderType.TRAILING_STOP, trail_percent=Decimal("1"))
    desk.exchange.cancel("acct", doomed)
    desk.exchange.on_quote(Quote("AAPL", desk.clock.tick(), 97.5, 100, 97.6, 100))
    for i in range(4):
        price = 98 + i
        desk.bar(price, price + 0.5, price - 0.5, price, volume=2000)
    desk.bar(95, 95.5, 94, 95, volume=2000)  # trips the trailing stop and the stop-loss


def _desk() -> Desk:
    return make_desk(config=ExchangeConfig(participation=0.1, stock_fees=RegulatoryFee()))


def test_the_same_inputs_give_an_identical_snapshot() -> None:
    first, second = _desk(), _desk()
    _session(first)
    _session(second)
    assert first.exchange.snapshot() == second.exchange.snapshot()
    assert len(first.exchange.fills("acct")) == 5


def test_snapshot_restore_snapshot_is_identical_through_json() -> None:
    desk = _desk()
    _session(desk)
    document = desk.exchange.snapshot()
    restored = SimExchange.restore(
        json.loads(json.dumps(document)),
        clock=desk.clock,
        config=desk.exchange.config,
        calendar=desk.exchange.calendar,
    )
    assert restored.snapshot() == document
    assert restored.get_order_by_client_id("acct", "doomed").status.value == "canceled"


class Counter:
    """Ids ``id-1``, ``id-2``, ... from ``start``: a factory whose position we know."""

    def __init__(self, start: int = 0) -> None:
        self.n = start

    def __call__(self) -> str:
        self.n += 1
        return f"id-{self.n}"


def test_a_restored_exchange_goes_on_exactly_as_the_original_would() -> None:
    ids = Counter()
    desk = make_desk(config=ExchangeConfig(participation=0.1), ids=ids)
    _session(desk)
    twin = SimExchange.restore(
        desk.exchange.snapshot(),
        clock=desk.clock,
        config=desk.exchange.config,
        calendar=desk.exchange.calendar,
        id_factory=Counter(ids.n),
    )
    start = desk.clock.now
    for exchange in (desk.exchange, twin):
        exchange.submit("acct", OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(7)))
        for i in range(1, 8):
            price = 101 - i
            at = start + timedelta(minutes=i)
            exchange.on_bar(Bar("AAPL", at, price, price + 0.5, price - 1.5, price, 2000))
    assert twin.snapshot() == desk.exchange.snapshot()
