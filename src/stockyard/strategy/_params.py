"""Declared strategy parameters: a default, a type, bounds, and "did you mean" for typos.

A parameter is a class attribute made with :func:`param`::

    class SmaCross(Strategy):
        fast: int = param(10, ge=2, doc="bars in the fast mean")

The class keeps the :class:`Param` (``SmaCross.params()`` lists them); each instance gets the
validated value as a plain attribute, so reading ``self.fast`` on the hot path costs one
dictionary lookup.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar, cast

from stockyard.resilience import ValidationError

__all__ = ["Param", "ParamValue", "ParameterError", "param"]

ParamValue = int | float | str | bool | Decimal
T = TypeVar("T", int, float, str, bool, Decimal)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ParameterError(ValidationError):
    """A strategy parameter is unknown or has a bad value; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """One declared parameter. ``kind`` is filled from the class annotation."""

    default: ParamValue
    kind: type = object
    name: str = ""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[ParamValue, ...] | None = None
    doc: str = ""
    changeable: bool = False

    def coerce(self, value: object, owner: str) -> ParamValue:
        """``value`` as this parameter's type, checked against its bounds; else ParameterError."""
        where = f"parameter {self.name!r} of {owner}"
        converted = _convert(value, self.kind, where)
        if isinstance(converted, int | float | Decimal) and not isinstance(converted, bool):
            for bound, ok, word in (
                (self.ge, operator.ge, ">="),
                (self.gt, operator.gt, ">"),
                (self.le, operator.le, "<="),
                (self.lt, operator.lt, "<"),
            ):
                if bound is not None and not ok(float(converted), bound):
                    raise ParameterError(f"{where} must be {word} {bound:g}, got {value!r}")
        if self.choices is not None and converted not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ParameterError(f"{where} must be one of {allowed}, got {value!r}")
        return converted


def param(
    default: T,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Iterable[T] | None = None,
    doc: str = "",
    changeable: bool = False,
) -> T:
    """Declare a strategy parameter with a default and optional bounds or choices.

    Typed as the default's type so ``fast: int = param(10, ge=2)`` reads naturally; the
    class attribute actually holds a :class:`Param` (as ``dataclasses.field`` does).
    """
    made = Param(
        default=default,
        ge=ge,
        gt=gt,
        le=le,
        lt=lt,
        choices=None if choices is None else tuple(choices),
        doc=doc,
        changeable=changeable,
    )
    return cast(T, made)


def collect_params(cls: type, annotations: Mapping[str, object]) -> dict[str, Param]:
    """The parameters declared on ``cls`` itself, with names and types filled in."""
    found: dict[str, Param] = {}
    for name, value in vars(cls).items():
        if not isinstance(value, Param):
            continue
        kind = _kind(annotations.get(name), type(value.default))
        made = Param(
            default=value.default,
            kind=kind,
            name=name,
            ge=value.ge,
            gt=value.gt,
            le=value.le,
            lt=value.lt,
            choices=value.choices,
            doc=value.doc,
            changeable=value.changeable,
        )
        made.coerce(made.default, cls.__name__)  # a bad default is the author's bug: fail now
        found[name] = made
    return found


def unknown_parameter(name: str, known: Iterable[str], owner: str) -> ParameterError:
    """The error for a parameter ``owner`` does not declare, with the closest known name."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif names:
        hint = f"; known: {', '.join(names)}"
    else:
        hint = f"; {owner} takes no parameters"
    return ParameterError(f"unknown parameter {name!r} for {owner}{hint}")


_KINDS: dict[object, type] = {
    int: int,
    float: float,
    str: str,
    bool: bool,
    Decimal: Decimal,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "Decimal": Decimal,
}


def _kind(annotation: object, fallback: type) -> type:
    # Annotations are strings under `from __future__ import annotations`.
    return _KINDS.get(annotation, fallback) if annotation is not None else fallback


def _to_bool(value: object) -> ParamValue | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _to_int(value: object) -> ParamValue | None:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _to_float(value: object) -> ParamValue | None:
    if not isinstance(value, int | float | str | Decimal):
        return None
    try:
        result = float(value)
    except ValueError:
        return None
    return result if math.isfinite(result) else None


def _to_decimal(value: object) -> ParamValue | None:
    if not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _to_str(value: object) -> ParamValue | None:
    return value if isinstance(value, str) else None


_CONVERTERS: dict[type, Callable[[object], ParamValue | None]] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    Decimal: _to_decimal,
    str: _to_str,
}


def _convert(value: object, kind: type, where: str) -> ParamValue:
    converter = _CONVERTERS.get(kind)
    if converter is None:
        raise ParameterError(f"{where} has an unsupported type {kind.__name__}")
    # True is an int to Python, never a number to a trader.
    result = None if isinstance(value, bool) and kind is not bool else converter(value)
    if result is None:
        raise ParameterError(f"{where} must be {kind.__name__}, got {value!r}")
    return result
