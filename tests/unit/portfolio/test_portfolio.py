"""The books in exact decimals: average cost, P&L, shorts and flips, idempotent fills,
equity curve, exposure and reconciliation with the broker."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.core import Fill, OrderSide, Position
from stockyard.portfolio import Correction, Portfolio

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
_ids = itertools.count(1)


def fill(
    side: str, qty: str, price: str, *, symbol: str = "AAPL", fee: str = "0", id: str = ""
) -> Fill:
    return Fill(
        id=id or f"f{next(_ids)}",
        order_id="o",
        client_order_id="c",
        symbol=symbol,
        side=OrderSide(side),
        qty=Decimal(qty),
        price=Decimal(price),
        timestamp=T0,
        fee=Decimal(fee),
    )


def test_buys_average_their_cost_and_a_sale_realises_against_it() -> None:
    books = Portfolio(10_000)
    books.apply(fill("buy", "10", "100.00"))
    books.apply(fill("buy", "10", "110.00", fee="1.00"))
    # average = (10 * 100 + 10 * 110) / 20 = 105
    assert books.position("AAPL").avg_entry_price == Decimal("105")
    assert books.cash == Decimal("10000") - 1000 - 1100 - 1  # 7899.00
    books.apply(fill("sell", "5", "120.00"))
    # realised = 5 * (120 - 105) = 75; the average stays 105
    assert books.realized_pl() == Decimal("75")
    assert books.qty("AAPL") == 15
    assert books.position("AAPL").avg_entry_price == Decimal("105")
    assert books.fees == Decimal("1.00")


def test_a_short_realises_when_covered_cheaper() -> None:
    books = Portfolio(0)
    books.apply(fill("sell", "10", "50"))
    books.apply(fill("sell", "10", "40"))
    # average short price (10 * 50 + 10 * 40) / 20 = 45
    assert books.qty("AAPL") == -20
    assert books.position("AAPL").avg_entry_price == 45
    books.apply(fill("buy", "5", "30"))
    # realised = 5 * (30 - 45) * -1 = 75
    assert books.realized_pl("AAPL") == 75
    assert books.cash == 500 + 400 - 150


def test_a_fill_through_zero_closes_the_position_and_opens_the_rest_at_its_price() -> None:
    books = Portfolio(0)
    books.apply(fill("buy", "10", "100"))
    books.apply(fill("sell", "25", "90"))
    # closes 10 long: realised 10 * (90 - 100) = -100; opens 15 short at 90
    assert books.realized_pl() == -100
    assert books.qty("AAPL") == -15
    assert books.position("AAPL").avg_entry_price == 90
    books.apply(fill("buy", "20", "80"))
    # covers 15 short: realised += 15 * (80 - 90) * -1 = +150; opens 5 long at 80
    assert books.realized_pl() == 50
    assert books.position("AAPL").avg_entry_price == 80
    assert books.qty("AAPL") == 5


def test_closing_exactly_leaves_a_flat_position_with_no_average() -> None:
    books = Portfolio(0)
    books.apply(fill("buy", "3", "10"))
    books.apply(fill("sell", "3", "12"))
    assert books.position("AAPL") == Position(
        symbol="AAPL", qty=Decimal(0), avg_entry_price=Decimal(0), current_price=Decimal(12)
    )
    assert books.positions() == {}
    assert books.realized_pl() == 6


def test_a_fill_seen_twice_is_applied_once() -> None:
    books = Portfolio(1000)
    once = fill("buy", "1", "10", id="same")
    assert books.apply(once) is True
    assert books.apply(once) is False
    assert books.apply(fill("buy", "1", "10", id="same")) is False
    assert books.qty("AAPL") == 1
    assert books.cash == 990


def test_equity_unrealised_pl_exposure_and_the_curve_follow_the_marks() -> None:
    books = Portfolio(10_000)
    books.apply(fill("buy", "10", "100"))
    books.apply(fill("sell", "5", "20", symbol="XYZ"))
    # cash = 10000 - 1000 + 100 = 9100
    assert books.mark(T0, {"AAPL": Decimal("110"), "XYZ": "25"}) == Decimal("9100") + 1100 - 125
    assert books.unrealized_pl("AAPL") == 100
    assert books.unrealized_pl("XYZ") == -25
    assert books.unrealized_pl() == 75
    exposure = books.exposure()
    assert (exposure.long, exposure.short, exposure.gross, exposure.net) == (1100, 125, 1225, 975)
    books.mark(T0 + timedelta(minutes=1), {"AAPL": 0.1 + 0.2})
    assert books.price("AAPL") == Decimal("0.30000000000000004")  # floats go through str
    assert [p.timestamp for p in books.equity_curve] == [T0, T0 + timedelta(minutes=1)]


def test_a_nan_mark_is_refused() -> None:
    with pytest.raises(ValueError, match="price of AAPL must be finite"):
        Portfolio(0).mark(T0, {"AAPL": float("nan")})


def test_reconciliation_takes_the_brokers_positions_and_cash_and_reports_each_difference() -> None:
    books = Portfolio(1000)
    books.apply(fill("buy", "10", "10"))  # we think: 10 AAPL, cash 900
    books.apply(fill("buy", "2", "50", symbol="MSFT"))  # and 2 MSFT, cash 800
    broker = [
        Position(symbol="AAPL", qty=Decimal(12), avg_entry_price=Decimal("10.5")),
        Position(symbol="SPY", qty=Decimal(-1), avg_entry_price=Decimal(400)),
    ]
    corrections = books.reconcile(broker, Decimal(790))
    assert corrections == [
        Correction(kind="position", symbol="AAPL", ours=Decimal(10), theirs=Decimal(12)),
        Correction(kind="position", symbol="MSFT", ours=Decimal(2), theirs=Decimal(0)),
        Correction(kind="position", symbol="SPY", ours=Decimal(0), theirs=Decimal(-1)),
        Correction(kind="cash", symbol=None, ours=Decimal(800), theirs=Decimal(790)),
    ]
    assert books.qty("AAPL") == 12
    assert books.position("AAPL").avg_entry_price == Decimal("10.5")
    assert books.qty("MSFT") == 0
    assert books.cash == 790
    assert books.reconcile(broker, Decimal(790)) == []  # in step now: nothing to correct


def test_the_view_reads_but_cannot_change_the_books() -> None:
    books = Portfolio(100)
    view = books.view()
    books.apply(fill("buy", "1", "10"))
    assert view.qty("AAPL") == 1
    assert view.cash == 90
    assert not hasattr(view, "apply")
