from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgpack
import pytest

from stockyard.bus import CodecError, decode, encode
from stockyard.core import (
    Bar,
    Fill,
    Order,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Timeframe,
    TimeInForce,
    Trade,
)

WHEN = datetime(2024, 3, 4, 14, 30, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "message",
    [
        Bar("AAPL", WHEN, 10.0, 11.5, 9.25, 11.0, 1234.0, 17, 10.7),
        Bar("BTC/USD", WHEN, 1.0, 1.0, 1.0, 1.0, 0.0, None, None, Timeframe.MINUTE_5),
        Quote("MSFT", WHEN, 400.01, 3.0, 400.03, 5.0),
        Trade("NVDA", WHEN, 900.5, 10.0, 123456789),
        Trade("NVDA", WHEN, 900.5, 10.0, "abc"),
        {"order_id": "x1", "qty": 3, "nested": [1, 2.5, None]},
    ],
)
def test_every_core_type_round_trips_exactly(message: object) -> None:
    assert decode(encode(message)) == message


def test_timestamps_travel_as_integer_nanoseconds() -> None:
    frame = msgpack.unpackb(encode(Trade("A", WHEN, 1.0, 1.0)))
    assert frame[0] == "T"
    assert frame[2] == int(WHEN.timestamp()) * 10**9 + 123456 * 1000


def test_a_bar_frame_is_compact() -> None:
    assert len(encode(Bar("AAPL", WHEN, 10.0, 11.5, 9.25, 11.0, 1234.0, 17, 10.7))) < 80


def test_an_unknown_tag_is_a_clear_codec_error() -> None:
    with pytest.raises(CodecError, match="unknown codec tag 'Z'"):
        decode(msgpack.packb(["Z", 1, 2]))


@pytest.mark.parametrize(
    "frame",
    [b"\xc1", b"", msgpack.packb(["B", "AAPL", 0, 1.0]), msgpack.packb([1, 2]), msgpack.packb(3)],
)
def test_garbage_and_short_frames_raise_codec_error(frame: bytes) -> None:
    with pytest.raises(CodecError):
        decode(frame)


def test_a_frame_with_invalid_values_fails_core_validation_as_codec_error() -> None:
    frame = msgpack.packb(["Q", "X", 0, 10.0, 1.0, 9.0, 1.0])  # crossed book
    with pytest.raises(CodecError, match="crossed"):
        decode(frame)


def test_a_type_without_a_codec_is_refused_on_encode() -> None:
    with pytest.raises(CodecError, match="no codec for object"):
        encode(object())


def _order(**given: object) -> Order:
    fields: dict[str, object] = {
        "id": "o-1",
        "client_order_id": "sma_cross-0",
        "symbol": "AAPL",
        "side": OrderSide.BUY,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.DAY,
        "status": OrderStatus.PARTIALLY_FILLED,
        "created_at": WHEN,
        "updated_at": WHEN,
        "qty": Decimal("10"),
        "filled_qty": Decimal("4"),
        "filled_avg_price": Decimal("187.125"),
        "limit_price": Decimal("187.13"),
        "submitted_at": WHEN,
    }
    return Order(**{**fields, **given})  # type: ignore[arg-type]  # the test's own values


@pytest.mark.parametrize(
    "message",
    [
        _order(),
        _order(order_class=OrderClass.BRACKET, legs=(_order(id="o-2", client_order_id="l"),)),
        Fill(
            id="f-1",
            order_id="o-1",
            client_order_id="sma_cross-0",
            symbol="BTC/USD",
            side=OrderSide.SELL,
            qty=Decimal("0.0001"),
            price=Decimal("64123.45"),
            timestamp=WHEN,
            fee=Decimal("0.0016"),
            cumulative_qty=Decimal("0.0001"),
        ),
        Position(symbol="AAPL", qty=Decimal("-3"), avg_entry_price=Decimal("187.1")),
        Position(symbol="AAPL", qty=Decimal(0), avg_entry_price=Decimal(0), current_price=None),
    ],
)
def test_execution_events_round_trip_exactly_money_as_decimal_text(message: object) -> None:
    frame = msgpack.unpackb(encode(message))
    assert all(not isinstance(v, float) for v in frame[1:])
    assert decode(encode(message)) == message


def test_a_fill_frame_with_a_bad_price_is_a_codec_error() -> None:
    fill = Fill(
        id="f",
        order_id="o",
        client_order_id="c",
        symbol="A",
        side=OrderSide.BUY,
        qty=Decimal(1),
        price=Decimal(1),
        timestamp=WHEN,
    )
    frame = msgpack.unpackb(encode(fill))
    frame[7] = "-1"  # price
    with pytest.raises(CodecError, match="price"):
        decode(msgpack.packb(frame))
