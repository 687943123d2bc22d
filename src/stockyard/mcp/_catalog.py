"""The strategy catalog as MCP shows it: each registered strategy, its documentation and
its declared parameters (read from the strategy registry, the same in every process)."""

from __future__ import annotations

import inspect
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from stockyard.services import ServiceError
from stockyard.strategy import Strategy, StrategyError, available_strategies, strategy_class

__all__ = ["ParamInfo", "StrategyInfo", "strategy_catalog", "strategy_doc"]

Scalar = bool | int | float | str | None


class ParamInfo(BaseModel):
    """One declared parameter of a strategy."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    default: Scalar
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: list[Scalar] | None = None
    changeable: bool


class StrategyInfo(BaseModel):
    """A strategy: its name, the first line of its documentation, its parameters."""

    model_config = ConfigDict(frozen=True)

    name: str
    summary: str
    params: list[ParamInfo]


def _scalar(value: object) -> Scalar:
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _params(cls: type[Strategy]) -> list[ParamInfo]:
    out = []
    for name, spec in cls.params().items():
        low = spec.ge if spec.ge is not None else spec.gt
        high = spec.le if spec.le is not None else spec.lt
        out.append(
            ParamInfo(
                name=name,
                type=getattr(spec.kind, "__name__", str(spec.kind)),
                default=_scalar(spec.default),
                doc=spec.doc,
                minimum=low,
                maximum=high,
                choices=None if spec.choices is None else [_scalar(c) for c in spec.choices],
                changeable=spec.changeable,
            )
        )
    return out


def _doc(cls: type[Strategy]) -> str:
    return inspect.cleandoc(cls.__doc__ or "").strip()


def strategy_catalog() -> list[StrategyInfo]:
    """Every registered strategy with its parameters, by name."""
    out = []
    for name in available_strategies():
        cls = strategy_class(name)
        doc = _doc(cls)
        out.append(
            StrategyInfo(
                name=name, summary=doc.split("\n", 1)[0] if doc else "", params=_params(cls)
            )
        )
    return out


def strategy_doc(name: str) -> str:
    """A registered strategy's documentation and parameter table, as Markdown."""
    if name not in available_strategies():
        known = ", ".join(available_strategies())
        raise ServiceError("unknown_strategy", f"no strategy {name!r} (known: {known})", status=404)
    try:
        cls = strategy_class(name)
    except StrategyError as exc:  # registered names always load; kept for a clear answer
        raise ServiceError("unknown_strategy", str(exc), status=404) from None
    lines = [f"# {name}", "", _doc(cls) or "(no documentation)", "", "## Parameters", ""]
    lines += ["| name | type | default | changeable live | what |", "|---|---|---|---|---|"]
    for p in _params(cls):
        bounds = ""
        if p.minimum is not None or p.maximum is not None:
            bounds = f" (from {p.minimum} to {p.maximum})"
        changeable = "yes" if p.changeable else "no"
        lines.append(f"| {p.name} | {p.type} | {p.default} | {changeable} | {p.doc}{bounds} |")
    return "\n".join(lines) + "\n"
