"""Market-data values as Alpaca's REST JSON and stream messages (MessagePack or JSON).

A stream message is built once as a dict whose ``t`` is a ``msgpack.Timestamp``; MessagePack
frames carry it as the Timestamp extension type (what alpaca-py's ``.to_datetime()`` needs),
JSON frames as RFC 3339 text with nanoseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import msgpack  # type: ignore[import-untyped]  # ships no type hints
import orjson

from stockyard.core import Bar, Quote, Trade, to_ns

__all__ = [
    "Message",
    "bar_message",
    "bar_rest",
    "encode_json",
    "encode_msgpack",
    "ns_rfc3339",
    "quote_message",
    "quote_rest",
    "status_message",
    "trade_message",
    "trade_rest",
]

Message = dict[str, object]


def ns_rfc3339(ns: int) -> str:
    """``2024-01-02T14:30:00.123456789Z`` (fraction only when non-zero)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{frac:09d}Z" if frac else f"{text}Z"


def _stamp(at: datetime) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(to_ns(at))


def _crypto(symbol: str) -> bool:
    return "/" in symbol


def trade_message(trade: Trade, *, trade_id: int) -> Message:
    """A ``t`` message."""
    if _crypto(trade.symbol):
        return {
            "T": "t",
            "S": trade.symbol,
            "p": trade.price,
            "s": trade.size,
            "t": _stamp(trade.timestamp),
            "i": trade_id,
            "tks": "B",
        }
    return {
        "T": "t",
        "S": trade.symbol,
        "i": trade_id,
        "x": "V",
        "p": trade.price,
        "s": trade.size,
        "c": ["@"],
        "t": _stamp(trade.timestamp),
        "z": "C",
    }


def quote_message(quote: Quote) -> Message:
    """A ``q`` message."""
    if _crypto(quote.symbol):
        return {
            "T": "q",
            "S": quote.symbol,
            "bp": quote.bid_price,
            "bs": quote.bid_size,
            "ap": quote.ask_price,
            "as": quote.ask_size,
            "t": _stamp(quote.timestamp),
        }
    return {
        "T": "q",
        "S": quote.symbol,
        "bx": "V",
        "bp": quote.bid_price,
        "bs": quote.bid_size,
        "ax": "V",
        "ap": quote.ask_price,
        "as": quote.ask_size,
        "c": ["R"],
        "z": "C",
        "t": _stamp(quote.timestamp),
    }


def bar_message(bar: Bar, *, kind: str = "b") -> Message:
    """A ``b`` (minute), ``d`` (daily) or ``u`` (updated) bar message."""
    return {
        "T": kind,
        "S": bar.symbol,
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": bar.volume,
        "t": _stamp(bar.timestamp),
        "n": bar.trade_count or 0,
        "vw": bar.vwap if bar.vwap is not None else bar.close,
    }


def status_message(symbol: str, at: datetime, *, trading: bool) -> Message:
    """An ``s`` trading-status message (``T`` trading, ``H`` halted/closed)."""
    return {
        "T": "s",
        "S": symbol,
        "sc": "T" if trading else "H",
        "sm": "Trading" if trading else "Trading Halt",
        "rc": "",
        "rm": "",
        "t": _stamp(at),
        "z": "C",
    }


def _json_default(value: object) -> str:
    if isinstance(value, msgpack.Timestamp):
        return ns_rfc3339(value.to_unix_nano())
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_msgpack(messages: Sequence[Message]) -> bytes:
    """One binary frame: an array of messages."""
    return msgpack.packb(list(messages))  # type: ignore[no-any-return]


def encode_json(messages: Sequence[Message]) -> str:
    """One text frame: a JSON array of messages."""
    return orjson.dumps(list(messages), default=_json_default).decode()


def trade_rest(trade: Trade, *, trade_id: int) -> Message:
    """A trade as the REST API returns it."""
    row: Message = {
        "t": ns_rfc3339(to_ns(trade.timestamp)),
        "p": trade.price,
        "s": trade.size,
        "i": trade_id,
    }
    if not _crypto(trade.symbol):
        row.update({"x": "V", "c": ["@"], "z": "C"})
    else:
        row["tks"] = "B"
    return row


def quote_rest(quote: Quote) -> Message:
    """A quote as the REST API returns it."""
    row: Message = {
        "t": ns_rfc3339(to_ns(quote.timestamp)),
        "bp": quote.bid_price,
        "bs": quote.bid_size,
        "ap": quote.ask_price,
        "as": quote.ask_size,
    }
    if not _crypto(quote.symbol):
        row.update({"bx": "V", "ax": "V", "c": ["R"], "z": "C"})
    return row


def bar_rest(bar: Bar) -> Message:
    """A bar as the REST API returns it."""
    return {
        "t": ns_rfc3339(to_ns(bar.timestamp)),
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": bar.volume,
        "n": bar.trade_count or 0,
        "vw": bar.vwap if bar.vwap is not None else bar.close,
    }
