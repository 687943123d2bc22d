"""Alpaca stream messages become core values in one place; where the streams live."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import msgpack
import pytest

from stockyard.config import AlpacaSettings, ConfigError
from stockyard.core import Bar, Quote, Trade
from stockyard.data.feeds import (
    ALPACA_STREAM_URL,
    market_from_alpaca,
    stream_base_url,
    stream_kind,
)

AT = datetime(2024, 3, 4, 15, 0, 15, 123456, tzinfo=UTC)
STAMP = msgpack.Timestamp.from_unix_nano(1_709_564_415_123_456_789)


def test_a_stock_trade_message_becomes_a_trade_with_its_id_and_time() -> None:
    msg = {"T": "t", "S": "AAPL", "i": 42, "x": "V", "p": 187.5, "s": 100, "t": STAMP}
    assert market_from_alpaca(msg) == Trade("AAPL", AT, 187.5, 100.0, 42)


def test_a_crypto_quote_message_becomes_a_quote() -> None:
    msg = {"T": "q", "S": "BTC/USD", "bp": 100.0, "bs": 0.5, "ap": 100.5, "as": 1.25, "t": STAMP}
    assert market_from_alpaca(msg) == Quote("BTC/USD", AT, 100.0, 0.5, 100.5, 1.25)


def test_a_bar_message_becomes_a_minute_bar_with_count_and_vwap() -> None:
    msg = {
        "T": "b",
        "S": "MSFT",
        "o": 10.0,
        "h": 11.0,
        "l": 9.5,
        "c": 10.5,
        "v": 1200,
        "t": msgpack.Timestamp.from_unix_nano(1_709_564_400_000_000_000),
        "n": 7,
        "vw": 10.2,
    }
    bar = market_from_alpaca(msg)
    assert bar == Bar(
        "MSFT",
        datetime(2024, 3, 4, 15, 0, tzinfo=UTC),
        10.0,
        11.0,
        9.5,
        10.5,
        1200.0,
        trade_count=7,
        vwap=10.2,
    )


def test_json_text_timestamps_with_nanoseconds_are_read_too() -> None:
    msg = {"T": "t", "S": "AAPL", "p": 1.0, "s": 1, "t": "2024-03-04T15:00:15.123456789Z"}
    trade = market_from_alpaca(msg)
    assert trade.timestamp == AT
    assert trade.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    "msg",
    [
        {"T": "t", "S": "AAPL", "p": math.nan, "s": 1, "t": STAMP},  # NaN price
        {"T": "t", "S": "AAPL", "p": "1.0", "s": 1, "t": STAMP},  # price as text
        {"T": "t", "S": "AAPL", "p": True, "s": 1, "t": STAMP},  # a bool is not a price
        {"T": "t", "S": "AAPL", "p": 1.0, "s": 1},  # no time
        {"T": "t", "S": "AAPL", "p": 1.0, "s": 1, "t": 1709564415},  # time as a number
        {"T": "t", "S": "", "p": 1.0, "s": 1, "t": STAMP},  # no symbol
        {"T": "q", "S": "AAPL", "bp": 2.0, "bs": 1, "ap": 1.0, "as": 1, "t": STAMP},  # crossed
        {"T": "b", "S": "AAPL", "o": 1, "h": 0.5, "l": 0.4, "c": 0.5, "v": 1, "t": STAMP},
        {"T": "d", "S": "AAPL", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": STAMP},  # daily
        {"T": "x", "S": "AAPL"},
        ["not", "a", "map"],
    ],
)
def test_a_malformed_message_raises_what_the_feed_counts_as_malformed(msg: object) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        market_from_alpaca(msg)


def test_crypto_symbols_go_to_the_crypto_stream_and_the_rest_to_stocks() -> None:
    assert stream_kind("BTC/USD") == "crypto"
    assert stream_kind("AAPL") == "stocks"
    assert stream_kind("BRK.B") == "stocks"


@pytest.mark.parametrize(
    ("base_url", "stream_url", "expected"),
    [
        ("http://127.0.0.1:8765", None, "ws://127.0.0.1:8765"),
        ("https://sandbox.example:9000/v2", None, "wss://sandbox.example:9000"),
        ("https://paper-api.alpaca.markets", None, ALPACA_STREAM_URL),
        ("https://api.alpaca.markets", None, ALPACA_STREAM_URL),
        ("https://paper-api.alpaca.markets", "ws://127.0.0.1:9999/", "ws://127.0.0.1:9999"),
    ],
)
def test_the_stream_url_comes_from_stream_url_else_from_base_url(
    base_url: str, stream_url: str | None, expected: str
) -> None:
    settings = AlpacaSettings(base_url=base_url, stream_url=stream_url)
    assert stream_base_url(settings) == expected


def test_a_stream_url_that_is_not_a_websocket_url_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"alpaca\.stream_url"):
        stream_base_url(AlpacaSettings(stream_url="http://127.0.0.1:8765"))
    with pytest.raises(ConfigError, match=r"alpaca\.base_url"):
        stream_base_url(AlpacaSettings(base_url="127.0.0.1:8765"))
