"""Fast constructors and copies for the frozen, slotted values the order path makes per order
(the one place that generates them; ``stockyard bench oms`` and docs/benchmarks.md have the
figures against the dataclass ``__init__``, ``copy.copy`` and ``dataclasses.replace``).

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__(self, "name", value)``: a name lookup per field, about 150 ns each, so a
13-field value costs microseconds. :func:`maker` generates the same constructor storing
through the slots' own setters (as ``dataclasses`` generates ``__init__``): the same
keyword-only signature and defaults, then the class's own ``__post_init__`` when it has one,
so every value it makes is one the class itself would have made, validated the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["copier", "maker"]

T = TypeVar("T")


def maker(cls: type[T]) -> Callable[..., T]:
    """``cls(**fields)`` for a frozen, slotted, keyword-only dataclass, several times cheaper.

    Fields with a ``default_factory`` (a shared default would be wrong) or ``init=False``
    are refused.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # checked just above
    scope: dict[str, Any] = {"_new": object.__new__, "cls": cls}
    signature: list[str] = []
    for f in fields:
        if f.default_factory is not dataclasses.MISSING or not f.init:
            raise TypeError(f"{cls.__name__}.{f.name} has a default_factory or init=False")
        if f.default is dataclasses.MISSING:
            signature.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            signature.append(f"{f.name}=_default_{f.name}")
        scope[f"_put_{f.name}"] = vars(cls)[f.name].__set__
    lines = [f"def make(*, {', '.join(signature)}):", "    new = _new(cls)"]
    lines += [f"    _put_{f.name}(new, {f.name})" for f in fields]
    post_init = getattr(cls, "__post_init__", None)
    if post_init is not None:
        scope["_post_init"] = post_init
        lines.append("    _post_init(new)")
    lines.append("    return new")
    exec("\n".join(lines), scope)  # generated as dataclasses generates __init__
    make: Callable[..., T] = scope["make"]
    return make


def copier(cls: type[T]) -> Callable[[T], T]:
    """A field-by-field copy of a frozen slotted dataclass, skipping ``__init__`` (the value
    was validated when it was made; the caller then sets the fields it changes through
    ``object.__setattr__``). One straight line per field through the slots' own setters: a
    loop over the fields costs about twice as much, ``copy.copy`` five times."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]  # checked above
    lines = ["def copy(value):", "    new = _new(cls)"]
    lines += [f"    _put_{name}(new, value.{name})" for name in names]
    lines.append("    return new")
    scope: dict[str, Any] = {"_new": object.__new__, "cls": cls}
    scope.update({f"_put_{name}": vars(cls)[name].__set__ for name in names})
    exec("\n".join(lines), scope)  # generated as dataclasses generates __init__
    copy: Callable[[T], T] = scope["copy"]
    return copy
