"""Wire types for the execution events: ``O`` Order, ``F`` Fill, ``P`` Position.

They travel as their fields in declaration order: money and quantities as exact decimal
text, times as integer nanoseconds, enums as their values, an order's legs as nested
frames. Decoding goes through the constructors, so a frame that decodes is a valid value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum

from stockyard.bus._codec import WireType, register_type
from stockyard.core import Fill, Order, Position, ns_to_datetime, to_ns

__all__: list[str] = []

_Convert = Callable[[object], object]


def _plain(value: object) -> object:
    return value


def _optional(convert: _Convert) -> _Convert:
    def run(value: object) -> object:
        return None if value is None else convert(value)

    return run


def _text(value: object) -> object:
    return str(value)


def _decimal(value: object) -> object:
    return Decimal(str(value))


def _enum_value(value: object) -> object:
    return value.value  # type: ignore[attr-defined]  # an enum member by the annotation


def _legs_fields(value: object) -> object:
    return [_ORDER.fields(leg) for leg in value]  # type: ignore[attr-defined]  # a tuple of orders


def _legs_build(value: object) -> object:
    return tuple(_ORDER.build(leg) for leg in value)  # type: ignore[attr-defined]  # a list of frames


def _time_fields(value: object) -> object:
    return to_ns(value)  # type: ignore[arg-type]  # a datetime by the annotation


def _time_build(value: object) -> object:
    return ns_to_datetime(value)  # type: ignore[arg-type]  # an int on the wire


def _converters(hint: object) -> tuple[_Convert, _Convert]:
    """(to wire, from wire) for one field's annotation."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        out, back = _converters(inner)
        return _optional(out), _optional(back)
    if hint is Decimal:
        return _text, _decimal
    if hint is datetime:
        return _time_fields, _time_build
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_value, hint
    if typing.get_origin(hint) is tuple:
        return _legs_fields, _legs_build
    return _plain, _plain


def _wire_type(tag: str, cls: type) -> WireType:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    outs, backs = zip(*(_converters(hints[name]) for name in names), strict=True)

    def fields(message: object) -> list[object]:
        return [out(getattr(message, name)) for out, name in zip(outs, names, strict=True)]

    def build(values: list[object]) -> object:
        if len(values) != len(names):
            raise ValueError(f"{len(values)} fields, expected {len(names)}")
        kwargs = {name: back(v) for name, back, v in zip(names, backs, values, strict=True)}
        return cls(**kwargs)

    return WireType(tag, cls, fields, build)


_ORDER = _wire_type("O", Order)
for _wire in (_ORDER, _wire_type("F", Fill), _wire_type("P", Position)):
    register_type(_wire)
