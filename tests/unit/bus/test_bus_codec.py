from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest

from stockyard.bus import CodecError, decode, encode
from stockyard.core import Bar, Quote, Timeframe, Trade

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
