"""Live vs backtest matching on hand-made executions: pairs, missed, extra, ties, partial
fills taken together, the tolerance's edge, slippage and P&L per symbol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockyard.backtest import (
    Execution,
    OrderRecord,
    executions_from_fills,
    executions_from_orders,
    match_executions,
    symbol_pnl,
)
from stockyard.core import Fill, OrderSide, OrderStatus, to_ns

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
S = 1_000_000_000  # ns in a second
MINUTE = 60 * S
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def ex(
    at_s: float, *, side: OrderSide = BUY, price: float = 100.0, symbol: str = "AAPL"
) -> Execution:
    return Execution(
        symbol=symbol,
        side=side,
        qty=10.0,
        price=price,
        time=to_ns(T0) + int(at_s * S),
        order_id=f"{symbol}-{side.value}-{at_s}",
    )


def test_executions_within_the_tolerance_match_and_the_rest_are_missed_or_extra() -> None:
    live = [ex(15), ex(200, side=SELL), ex(400)]
    backtest = [ex(0), ex(180, side=SELL), ex(600)]
    out = match_executions(live, backtest, tolerance_ns=MINUTE)
    assert [(m.live.time, m.backtest.time) for m in out.matched] == [
        (live[0].time, backtest[0].time),
        (live[1].time, backtest[1].time),
    ]
    assert out.missed == (backtest[2],)
    assert out.extra == (live[2],)


def test_a_trade_just_outside_the_tolerance_does_not_match_and_one_at_its_edge_does() -> None:
    edge = match_executions([ex(60)], [ex(0)], tolerance_ns=MINUTE)
    assert len(edge.matched) == 1
    outside = match_executions([ex(60.000000001)], [ex(0)], tolerance_ns=MINUTE)
    assert outside.matched == ()
    assert outside.missed == (ex(0),)
    assert outside.extra == (ex(60.000000001),)


def test_the_same_symbol_and_side_are_needed_to_match() -> None:
    out = match_executions([ex(0, side=SELL), ex(0, symbol="MSFT")], [ex(0)], tolerance_ns=MINUTE)
    assert out.matched == ()
    assert len(out.extra) == 2
    assert out.missed == (ex(0),)


def test_of_two_backtest_executions_equally_near_the_earlier_is_taken() -> None:
    live = [ex(30)]
    out = match_executions(live, [ex(60), ex(0)], tolerance_ns=MINUTE)
    assert [m.backtest for m in out.matched] == [ex(0)]
    assert out.missed == (ex(60),)


def test_of_two_live_executions_equally_near_the_earlier_is_taken() -> None:
    out = match_executions([ex(60), ex(0)], [ex(30)], tolerance_ns=MINUTE)
    assert [m.live for m in out.matched] == [ex(0)]
    assert out.extra == (ex(60),)


def test_matches_never_cross_and_a_steady_lag_keeps_every_pair() -> None:
    live = [ex(0 + 50), ex(100 + 50), ex(200 + 50)]
    backtest = [ex(0), ex(100), ex(200)]
    out = match_executions(live, backtest, tolerance_ns=MINUTE)
    assert [(m.live, m.backtest) for m in out.matched] == list(zip(live, backtest, strict=True))
    assert all(m.delay_ns == 50 * S for m in out.matched)


def test_slippage_is_signed_against_the_trader_in_price_and_basis_points() -> None:
    buy = match_executions([ex(10, price=100.5)], [ex(0, price=100.0)], tolerance_ns=MINUTE)
    [paid_more] = buy.matched
    assert paid_more.price_diff == pytest.approx(0.5)
    assert paid_more.slippage_bps == pytest.approx(50.0)
    assert paid_more.slippage_cost == pytest.approx(5.0)
    sell = match_executions(
        [ex(10, side=SELL, price=100.5)], [ex(0, side=SELL, price=100.0)], tolerance_ns=MINUTE
    )
    [got_more] = sell.matched
    assert got_more.slippage_bps == pytest.approx(-50.0)


def fill(coid: str, qty: str, price: str, at_s: int, fee: str = "0") -> Fill:
    return Fill(
        id=f"{coid}-{at_s}",
        order_id=f"broker-{coid}",
        client_order_id=coid,
        symbol="AAPL",
        side=BUY,
        qty=Decimal(qty),
        price=Decimal(price),
        timestamp=T0 + timedelta(seconds=at_s),
        fee=Decimal(fee),
    )


def test_partial_fills_of_one_order_are_one_execution_at_their_average_price() -> None:
    fills = [fill("b", "5", "50", 100), fill("a", "4", "100", 10), fill("a", "6", "101", 20)]
    first, second = executions_from_fills(fills)
    assert (first.order_id, first.qty, first.fills) == ("a", 10.0, 2)
    assert first.price == pytest.approx(100.6)
    assert first.time == to_ns(T0) + 10 * S  # its first fill
    assert (second.order_id, second.qty, second.fills) == ("b", 5.0, 1)
    out = match_executions([first], [ex(0)], tolerance_ns=MINUTE)
    assert len(out.matched) == 1  # the partial fills match one backtest order together


def test_only_filled_backtest_orders_are_executions() -> None:
    done = OrderRecord(
        symbol="AAPL", side=BUY, qty=10, submitted_at=to_ns(T0), status=OrderStatus.FILLED,
        filled_at=to_ns(T0) + MINUTE, fill_price=100.0, fee=0.5, client_order_id="x",
    )  # fmt: skip
    canceled = OrderRecord(
        symbol="AAPL", side=SELL, qty=10, submitted_at=to_ns(T0), status=OrderStatus.CANCELED
    )
    [only] = executions_from_orders([canceled, done])
    assert (only.price, only.fee, only.order_id) == (100.0, 0.5, "x")


def test_pnl_per_symbol_counts_cash_flows_fees_and_what_is_held_at_the_mark() -> None:
    trades = [
        ex(0, price=100.0),
        ex(60, side=SELL, price=103.0),
        ex(120, symbol="MSFT", price=50.0),
    ]
    pnl = symbol_pnl(trades, {"AAPL": 999.0, "MSFT": 52.0})
    assert pnl == {"AAPL": pytest.approx(30.0), "MSFT": pytest.approx(20.0)}
    with pytest.raises(ValueError, match="no price to mark MSFT"):
        symbol_pnl(trades, {"AAPL": 1.0})


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        match_executions([], [], tolerance_ns=-1)
