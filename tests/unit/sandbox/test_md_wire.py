from __future__ import annotations

import json
from datetime import UTC, datetime

import msgpack

from stockyard.core import Bar, Quote, Trade
from stockyard.sandbox._md_wire import (
    bar_message,
    encode_json,
    encode_msgpack,
    ns_rfc3339,
    quote_message,
    trade_message,
)

AT = datetime(2024, 3, 4, 14, 30, 0, 123456, tzinfo=UTC)


def test_msgpack_frames_carry_timestamps_as_the_timestamp_extension() -> None:
    frame = encode_msgpack([trade_message(Trade("AAPL", AT, 101.5, 10.0), trade_id=7)])
    (message,) = msgpack.unpackb(frame)
    assert isinstance(message["t"], msgpack.Timestamp)
    assert message["t"].to_datetime() == AT
    assert message | {"t": None} == {
        "T": "t", "S": "AAPL", "i": 7, "x": "V", "p": 101.5, "s": 10.0,
        "c": ["@"], "t": None, "z": "C",
    }  # fmt: skip


def test_json_frames_carry_rfc3339_times_with_nanoseconds() -> None:
    text = encode_json([quote_message(Quote("BTC/USD", AT, 100.0, 1.0, 101.0, 2.0))])
    (message,) = json.loads(text)
    assert message["t"] == "2024-03-04T14:30:00.123456000Z"
    assert message["T"] == "q"
    assert message["bp"] == 100.0
    assert "bx" not in message


def test_bars_and_daily_bars_share_one_shape() -> None:
    bar = Bar("AAPL", AT, 1.0, 2.0, 0.5, 1.5, 100.0, 3, 1.2)
    assert bar_message(bar)["T"] == "b"
    assert bar_message(bar, kind="d")["T"] == "d"
    assert bar_message(bar)["vw"] == 1.2
    assert bar_message(bar)["n"] == 3


def test_whole_seconds_have_no_fraction() -> None:
    assert ns_rfc3339(1_709_562_600 * 10**9) == "2024-03-04T14:30:00Z"
