"""Strategies by name: the built-in bots, registered ones, and user code by reference.

A reference is a registered name (``sma_cross``), ``package.module:Class``, or a file path
(``bots/my_bot.py`` or ``bots/my_bot.py:MyBot``; without ``:Class`` the file must define
exactly one Strategy subclass).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

from stockyard.strategy._base import Strategy, StrategyError
from stockyard.strategy.bots import BUILTIN
from stockyard.strategy.ml import ML_BOTS

__all__ = ["available_strategies", "create_strategy", "register_strategy", "strategy_class"]

_REGISTRY: dict[str, type[Strategy]] = {cls.name: cls for cls in (*BUILTIN, *ML_BOTS)}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Register ``cls`` under ``cls.name`` (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"{cls!r} is not a Strategy subclass")
    known = _REGISTRY.get(cls.name)
    if known is not None and known is not cls:
        raise StrategyError(f"a strategy named {cls.name!r} is already registered ({known!r})")
    _REGISTRY[cls.name] = cls
    return cls


def available_strategies() -> list[str]:
    """Names of every registered strategy, sorted."""
    return sorted(_REGISTRY)


def strategy_class(reference: str) -> type[Strategy]:
    """The Strategy class a name, ``module:Class`` or file path refers to."""
    found = _REGISTRY.get(reference)
    if found is not None:
        return found
    path_part, _, class_name = reference.partition(":")
    if path_part.endswith(".py") or "/" in path_part or "\\" in path_part:
        return _pick(_load_file(Path(path_part)), class_name, reference)
    if class_name:
        try:
            module = importlib.import_module(path_part)
        except ImportError as exc:
            raise StrategyError(
                f"cannot import {path_part!r} for strategy {reference!r}: {exc}"
            ) from exc
        return _pick(module, class_name, reference)
    close = difflib.get_close_matches(reference, list(_REGISTRY), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise StrategyError(
        f"unknown strategy {reference!r}{hint} (known: {', '.join(available_strategies())}; "
        "or give module:Class or a .py file)"
    )


def create_strategy(
    reference: str,
    *,
    symbols: Sequence[str],
    strategy_id: str | None = None,
    params: Mapping[str, object] | None = None,
) -> Strategy:
    """Make a strategy from a reference and parameters (strings are converted, e.g. CLI)."""
    cls = strategy_class(reference)
    return cls(symbols=symbols, strategy_id=strategy_id, **dict(params or {}))


def _load_file(path: Path) -> ModuleType:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise StrategyError(f"strategy file {path} does not exist")
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:12]
    name = f"stockyard_user_strategy_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"cannot load strategy file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise StrategyError(f"strategy file {path} raised on import: {exc!r}", cause=exc) from exc
    return module


def _pick(module: ModuleType, class_name: str, reference: str) -> type[Strategy]:
    if class_name:
        found = getattr(module, class_name, None)
        if not (isinstance(found, type) and issubclass(found, Strategy)):
            raise StrategyError(f"{reference!r}: {class_name!r} is not a Strategy subclass")
        return found
    defined = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Strategy)
        and value.__module__ == module.__name__
    ]
    if len(defined) != 1:
        names = ", ".join(c.__name__ for c in defined) or "none"
        raise StrategyError(
            f"{reference!r} defines {len(defined)} Strategy classes ({names}); name one as "
            f"{reference}:ClassName"
        )
    return defined[0]
