"""The parameter space of a walk-forward search: per parameter, the values a grid walks, and
whether they are a stepped numeric range (Optuna samples it as an int or float distribution)
or a list of choices (a categorical one).

A space maps each name to a spec: text as on the command line (``"5:50:5"`` — start, stop
included, step; ``"0.5:2:0.25"``; ``"5,10,20"``; ``"100"``), a ``range`` (stepped), or a
list or tuple of values (choices, walked in the order given).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Axis", "ParamSet", "ParamValue", "SpaceSpec", "parse_space"]

ParamValue = str | int | float
ParamSet = dict[str, ParamValue]
SpaceSpec = Sequence[ParamValue] | str  # a str is a spec to parse, never a list of letters


@dataclass(frozen=True, slots=True)
class Axis:
    """One parameter: ``choices``, or the range ``low``, ``low + step``, … up to ``high``
    (``high`` is on the steps; ints when all three are ints)."""

    name: str
    choices: tuple[ParamValue, ...] = ()
    low: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    step: Decimal = Decimal(0)

    @property
    def stepped(self) -> bool:
        return not self.choices

    @property
    def integral(self) -> bool:
        return all(v == v.to_integral_value() for v in (self.low, self.high, self.step))

    @property
    def first(self) -> ParamValue:
        return self.choices[0] if self.choices else self.at(0)

    def __len__(self) -> int:
        return len(self.choices) if self.choices else int((self.high - self.low) / self.step) + 1

    def at(self, k: int) -> ParamValue:
        """The ``k``-th value of a stepped range, exact (no ``0.30000000000000004``)."""
        value = self.low + k * self.step
        return int(value) if self.integral else float(value)

    def values(self) -> list[ParamValue]:
        """What a grid walks, in order."""
        return list(self.choices) if self.choices else [self.at(k) for k in range(len(self))]


def parse_space(space: Mapping[str, SpaceSpec]) -> list[Axis]:
    """Every parameter of ``space`` as an :class:`Axis`; ``ValueError`` names a bad one.
    (No parameters at all is one set: the strategy's defaults.)"""
    return [_axis(str(name), spec) for name, spec in space.items()]


def _axis(name: str, spec: SpaceSpec) -> Axis:
    if isinstance(spec, str):
        return _parse(name, spec)
    if isinstance(spec, range):
        if len(spec) == 0:
            raise ValueError(f"parameter {name!r}: {spec!r} is empty")
        if len(spec) == 1 or spec.step < 0:
            return Axis(name, choices=tuple(spec))
        return Axis(name, low=Decimal(spec.start), high=Decimal(spec[-1]), step=Decimal(spec.step))
    values = tuple(spec)
    if not values:
        raise ValueError(f"parameter {name!r} has no values")
    for value in values:
        if not isinstance(value, str | int | float):
            raise ValueError(f"parameter {name!r}: {value!r} is not a number or a string")
    return Axis(name, choices=values)


def _parse(name: str, text: str) -> Axis:
    spec = text.strip()
    if ":" in spec:
        return _parse_range(name, spec)
    if "," in spec:
        parts = [_scalar(p) for p in spec.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"parameter {name!r}: {text!r} lists no values")
        if all(isinstance(p, int | float) for p in parts) and any(
            isinstance(p, float) for p in parts
        ):
            parts = [float(p) for p in parts]  # "0,0.5" is two floats
        return Axis(name, choices=tuple(dict.fromkeys(parts)))  # duplicates dropped, in order
    if not spec:
        raise ValueError(f"parameter {name!r} has no value")
    return Axis(name, choices=(_scalar(spec),))


def _parse_range(name: str, spec: str) -> Axis:
    bad = f"parameter {name!r}: bad range {spec!r}; use start:stop[:step], stop included"
    try:
        parts = [Decimal(p.strip()) for p in spec.split(":")]
    except InvalidOperation:
        raise ValueError(bad) from None
    if len(parts) not in (2, 3) or not all(p.is_finite() for p in parts):
        raise ValueError(bad)
    low, stop = parts[0], parts[1]
    step = parts[2] if len(parts) == 3 else Decimal(1)
    if step <= 0:
        raise ValueError(f"{bad} (the step must be positive)")
    if stop < low:
        raise ValueError(f"{bad} (stop is below start)")
    high = low + ((stop - low) // step) * step  # the last value on the steps
    if high == low:
        axis = Axis(name, low=low, high=low, step=step)
        return Axis(name, choices=(axis.at(0),))
    return Axis(name, low=low, high=high, step=step)


def _scalar(text: str) -> ParamValue:
    """``"5"`` → 5, ``"0.5"`` → 0.5, anything else stays text (``"true"``, ``"long"``)."""
    word = text.strip()
    try:
        return int(word)
    except ValueError:
        pass
    try:
        number = float(word)
    except ValueError:
        return word
    return number if math.isfinite(number) else word
