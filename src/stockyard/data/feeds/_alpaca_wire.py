"""Alpaca's market-data stream messages as our core values, and where the streams live.

The one place where a ``t`` / ``q`` / ``b`` message (MessagePack or JSON, as alpaca-py
hands it over with ``raw_data=True``) becomes a `Trade`, `Quote` or `Bar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

import msgpack  # type: ignore[import-untyped]  # ships no type hints

from stockyard.config import AlpacaSettings, ConfigError
from stockyard.core import AssetClass, Bar, Quote, Trade

__all__ = [
    "ALPACA_STREAM_URL",
    "CRYPTO_PATH",
    "StreamKind",
    "market_from_alpaca",
    "stream_base_url",
    "stream_kind",
]

StreamKind = Literal["stocks", "crypto"]

ALPACA_STREAM_URL = "wss://stream.data.alpaca.markets"
"""Alpaca's market-data WebSocket host (paper and live accounts share it)."""
CRYPTO_PATH = "/v1beta3/crypto/us"


def stream_kind(symbol: str) -> StreamKind:
    """Which stream carries ``symbol``: ``crypto`` for ``BTC/USD``, ``stocks`` otherwise."""
    return "crypto" if AssetClass.of_symbol(symbol) is AssetClass.CRYPTO else "stocks"


def _timestamp(value: object) -> datetime:
    if isinstance(value, msgpack.Timestamp):
        stamp: datetime = value.to_datetime()  # aware, UTC, microseconds
        return stamp
    if isinstance(value, str):
        return datetime.fromisoformat(value)  # RFC 3339 with up to 9 fraction digits
    raise TypeError(f"timestamp 't' must be a MessagePack Timestamp or text, got {value!r}")


def _number(msg: Mapping[str, object], key: str) -> float:
    value = msg[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"field {key!r} must be a number, got {value!r}")
    return float(value)


def _symbol(msg: Mapping[str, object]) -> str:
    symbol = msg["S"]
    if not isinstance(symbol, str) or not symbol:
        raise TypeError(f"field 'S' must be a symbol, got {symbol!r}")
    return symbol


def market_from_alpaca(raw: object) -> Bar | Quote | Trade:
    """A trade (``T`` = ``t``), quote (``q``) or minute bar (``b``) message as a core value.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` for a message that is not one of
    these or fails the core type's checks (NaN price, crossed quote, naive time)."""
    if not isinstance(raw, Mapping):
        raise TypeError(f"a market-data message must be a map, got {type(raw).__name__}")
    msg: Mapping[str, object] = raw
    kind = msg.get("T")
    if kind == "t":
        trade_id = msg.get("i")
        if trade_id is not None and not isinstance(trade_id, int | str):
            raise TypeError(f"field 'i' must be an id, got {trade_id!r}")
        return Trade(
            _symbol(msg),
            _timestamp(msg["t"]),
            _number(msg, "p"),
            _number(msg, "s"),
            trade_id,
        )
    if kind == "q":
        return Quote(
            _symbol(msg),
            _timestamp(msg["t"]),
            _number(msg, "bp"),
            _number(msg, "bs"),
            _number(msg, "ap"),
            _number(msg, "as"),
        )
    if kind == "b":
        count = msg.get("n")
        return Bar(
            _symbol(msg),
            _timestamp(msg["t"]),
            _number(msg, "o"),
            _number(msg, "h"),
            _number(msg, "l"),
            _number(msg, "c"),
            _number(msg, "v"),
            trade_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
            vwap=_number(msg, "vw") if msg.get("vw") is not None else None,
        )
    raise ValueError(f"not a trade, quote or bar message: T={kind!r}")


def stream_base_url(settings: AlpacaSettings) -> str:
    """``ws[s]://host[:port]`` of the market-data streams: ``alpaca.stream_url`` when set;
    Alpaca's stream host when ``alpaca.base_url`` is an ``alpaca.markets`` URL; else the
    WebSocket twin of ``alpaca.base_url`` (the sandbox serves both on one port)."""
    if settings.stream_url:
        url = settings.stream_url.rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ConfigError(f"alpaca.stream_url must be a ws:// or wss:// URL, got {url!r}")
        return url
    parts = urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"alpaca.base_url must be an http:// or https:// URL, got {settings.base_url!r}"
        )
    if parts.hostname.endswith("alpaca.markets"):
        return ALPACA_STREAM_URL
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
