"""MessagePack wire format: a type tag then the fields, timestamps as integer nanoseconds.

A frame is the MessagePack array ``[tag, field, ...]``. Tags: ``B`` Bar, ``Q`` Quote,
``T`` Trade, ``V`` a plain value (dict, list, str, int, float, bool, None) for commands and
replies. Upper layers add their own types with `register_type` (execution adds fills and
orders). Decoding re-validates through the core constructors, so a frame that decodes is a
valid value; anything else raises `CodecError` naming the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgpack  # type: ignore[import-untyped]  # ships no type hints

from stockyard.core import Bar, Quote, Timeframe, Trade, ns_to_datetime, to_ns
from stockyard.resilience import InvalidDataError

__all__ = [
    "CodecError",
    "WireType",
    "decode",
    "encode",
    "from_wire",
    "register_type",
    "to_wire",
]


class CodecError(InvalidDataError):
    """A frame that cannot be decoded (bad bytes, unknown tag, invalid fields)."""


@dataclass(frozen=True, slots=True)
class WireType:
    """How one message type travels: its tag, and its fields to and from a list."""

    tag: str
    cls: type
    fields: Callable[[object], list[object]]
    build: Callable[[list[object]], object]


def _bar_fields(m: object) -> list[object]:
    b: Bar = m  # type: ignore[assignment]  # dispatch by exact type guarantees it
    tf = b.timeframe
    return [
        b.symbol,
        to_ns(b.timestamp),
        b.open,
        b.high,
        b.low,
        b.close,
        b.volume,
        b.trade_count,
        b.vwap,
        None if tf == Timeframe.MINUTE else str(tf),
    ]


def _bar_build(f: list[object]) -> object:
    s, ts, o, h, lo, c, v, n, vwap, tf = f
    frame = Timeframe.MINUTE if tf is None else Timeframe.parse(str(tf))
    return Bar(s, ns_to_datetime(ts), o, h, lo, c, v, n, vwap, frame)  # type: ignore[arg-type]


def _quote_fields(m: object) -> list[object]:
    q: Quote = m  # type: ignore[assignment]
    return [q.symbol, to_ns(q.timestamp), q.bid_price, q.bid_size, q.ask_price, q.ask_size]


def _quote_build(f: list[object]) -> object:
    s, ts, bp, bs, ap, az = f
    return Quote(s, ns_to_datetime(ts), bp, bs, ap, az)  # type: ignore[arg-type]


def _trade_fields(m: object) -> list[object]:
    t: Trade = m  # type: ignore[assignment]
    return [t.symbol, to_ns(t.timestamp), t.price, t.size, t.id]


def _trade_build(f: list[object]) -> object:
    s, ts, p, z, i = f
    return Trade(s, ns_to_datetime(ts), p, z, i)  # type: ignore[arg-type]


_BY_TAG: dict[str, WireType] = {}
_BY_TYPE: dict[type, WireType] = {}
_PLAIN = (dict, list, tuple, str, int, float, bool, type(None), bytes)


def register_type(wire: WireType) -> None:
    """Teach the codec a new message type; tags and types are unique."""
    if wire.tag in _BY_TAG or wire.tag == "V":
        raise ValueError(f"codec tag {wire.tag!r} is already registered")
    if wire.cls in _BY_TYPE:
        raise ValueError(f"codec type {wire.cls.__name__} is already registered")
    _BY_TAG[wire.tag] = wire
    _BY_TYPE[wire.cls] = wire


for _wire in (
    WireType("B", Bar, _bar_fields, _bar_build),
    WireType("Q", Quote, _quote_fields, _quote_build),
    WireType("T", Trade, _trade_fields, _trade_build),
):
    register_type(_wire)


def to_wire(message: object) -> list[object]:
    """``message`` as the list ``[tag, *fields]`` (MessagePack-ready, not yet packed)."""
    wire = _BY_TYPE.get(type(message))
    if wire is not None:
        return [wire.tag, *wire.fields(message)]
    if isinstance(message, _PLAIN):
        return ["V", message]
    raise CodecError(f"no codec for {type(message).__name__}: register_type() it first")


def from_wire(item: object) -> object:
    """The inverse of `to_wire`; raises `CodecError` for an unknown tag or bad fields."""
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise CodecError(f"a frame must be [tag, fields...], got {type(item).__name__}")
    tag = item[0]
    if tag == "V" and len(item) == 2:
        return item[1]
    wire = _BY_TAG.get(tag)
    if wire is None:
        raise CodecError(f"unknown codec tag {tag!r}")
    try:
        return wire.build(item[1:])
    except (ValueError, TypeError, OverflowError) as exc:
        raise CodecError(f"bad {wire.cls.__name__} frame: {exc}", cause=exc) from exc


def encode(message: object) -> bytes:
    """One message → compact MessagePack bytes."""
    return msgpack.packb(to_wire(message), use_bin_type=True)  # type: ignore[no-any-return]


def decode(frame: bytes) -> object:
    """MessagePack bytes from `encode` → the message; `CodecError` for anything else."""
    try:
        item = msgpack.unpackb(frame, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise CodecError(f"not a MessagePack frame: {exc}", cause=exc) from exc
    return from_wire(item)
