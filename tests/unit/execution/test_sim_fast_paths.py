"""The exchange's order-path shortcuts give exactly what the plain code gives.

Ids spelled without a UUID object, ``evolve`` without ``dataclasses.replace``, bar values
without a ``Bar``, equity without the other balances: each is checked against the long way.
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest
from sim_desk import MINUTE, make_desk

from stockyard.core import Bar, OrderStatus
from stockyard.execution import sequential_ids
from stockyard.execution.sim._ledger import balances, equity
from stockyard.execution.sim._state import evolve


@pytest.mark.parametrize("seed", [0, 1, 42, 2**63 + 5, -3, 2**70 + 9])
def test_sequential_ids_are_the_uuids_of_seed_and_counter(seed: int) -> None:
    ids = sequential_ids(seed)
    high = (seed & 0xFFFF_FFFF_FFFF_FFFF) << 64
    for n in range(1, 70_000):  # past 0xffff, where the fourth group starts to move
        assert ids() == str(uuid.UUID(int=high | n))


def test_evolve_equals_dataclasses_replace() -> None:
    desk = make_desk()
    desk.bar(100, 100, 100, 100, advance=False)
    order = desk.exchange.get_order("acct", desk.buy("3"))
    at = desk.clock.tick()
    changes = {"status": OrderStatus.FILLED, "filled_qty": Decimal(3), "updated_at": at}
    assert evolve(order, **changes) == dataclasses.replace(order, **changes)  # type: ignore[arg-type]
    assert evolve(order) == order
    assert evolve(order) is not order


def test_bar_values_trade_exactly_as_the_bar_does() -> None:
    by_bar, by_values = make_desk(), make_desk()
    for desk in (by_bar, by_values):
        desk.bar(100, 100, 100, 100, advance=False)
        desk.buy("10")
        desk.buy("5", type="limit", limit_price=Decimal("99.5"))
        desk.sell("2", type="stop", stop_price=Decimal("98"))
    bars = [(100.5, 101.0, 99.0, 100.2, 5_000.0), (99.0, 99.4, 97.5, 98.0, 7_000.0)]
    for o, h, lo, c, v in bars:
        at = by_bar.clock.tick()
        by_bar.exchange.on_bar(Bar("AAPL", at, o, h, lo, c, v))
        by_values.clock.tick()
        by_values.exchange.on_bar_values("AAPL", at, (o, h, lo, c, v))
    assert by_values.events == by_bar.events
    assert by_values.exchange.snapshot() == by_bar.exchange.snapshot()
    assert [e.event.value for e in by_bar.events].count("fill") == 3


def test_equity_alone_is_the_balances_equity() -> None:
    desk = make_desk()
    desk.bar(100, 100, 100, 100, advance=False)
    desk.buy("10")
    desk.bar(101, 102, 100, 101.5)
    desk.sell("25")  # through zero: short 15
    desk.bar(99, 99.5, 98, 98.25, advance=True)
    desk.clock.tick(MINUTE)
    exchange = desk.exchange
    ledger = exchange._accounts["acct"]
    assert ledger.positions["AAPL"].qty == -15
    price = exchange._price
    assert equity(ledger, price) == balances(ledger, price, pdt_equity=Decimal(25_000)).equity
