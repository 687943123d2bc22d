"""Runs of a node: when, in which mode, which strategies and symbols; and what each did."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import select, update

from stockyard.core import Clock, Fill, OrderEvent, OrderIntent, WallClock
from stockyard.store._db import Database
from stockyard.store._errors import UnknownRunError
from stockyard.store._journal import read_fills, read_intents
from stockyard.store._trading_models import RunRow

__all__ = ["RunMode", "RunRecord", "SpecValue", "SqlRunStore", "StrategySpec"]


class RunMode(StrEnum):
    """Where a run's orders went."""

    PAPER = "paper"
    LIVE = "live"
    SANDBOX = "sandbox"


SpecValue = str | int | float | bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySpec:
    """How to make one of a run's strategies again: its ``reference`` (a registered name or
    ``module:Class``), id, symbols and parameter values (a ``Decimal`` is kept as text)."""

    strategy_id: str
    reference: str
    symbols: tuple[str, ...]
    params: Mapping[str, SpecValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.strategy_id or not self.reference:
            raise ValueError("a strategy spec needs a strategy_id and a reference")
        symbols = self.symbols
        if isinstance(symbols, str) or not all(isinstance(s, str) for s in symbols):
            raise ValueError(f"spec symbols must be a sequence of strings, got {symbols!r}")
        params: dict[str, SpecValue] = {}
        for key, given in self.params.items():
            value = str(given) if isinstance(given, Decimal) else given
            if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
                raise ValueError(f"spec parameter {key!r} must be text, a number or a bool")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"spec parameter {key!r} must be finite")
            params[key] = value
        object.__setattr__(self, "symbols", tuple(symbols))
        object.__setattr__(self, "params", MappingProxyType(params))

    def to_json(self) -> dict[str, object]:
        """A JSON object: ``strategy_id``, ``reference``, ``symbols``, ``params``."""
        return {
            "strategy_id": self.strategy_id,
            "reference": self.reference,
            "symbols": list(self.symbols),
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, data: object) -> StrategySpec:
        """The spec ``to_json`` wrote; ValueError when ``data`` is not one."""
        keys = {"strategy_id", "reference", "symbols", "params"}
        if not isinstance(data, dict) or set(data) != keys:
            raise ValueError(f"a strategy spec is an object with {sorted(keys)}")
        symbols, params = data["symbols"], data["params"]
        if not isinstance(symbols, list) or not isinstance(params, dict):
            raise ValueError("a strategy spec's symbols must be a list and params an object")
        return cls(
            strategy_id=str(data["strategy_id"]),
            reference=str(data["reference"]),
            symbols=tuple(symbols),
            params=params,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One stored run; ``stopped_at`` is None while it runs (or if it was killed).
    ``specs`` say how to make its strategies again (empty when the writer did not say)."""

    id: str
    mode: RunMode
    started_at: datetime
    stopped_at: datetime | None
    strategies: tuple[str, ...]
    symbols: tuple[str, ...]
    specs: tuple[StrategySpec, ...] = ()


def _to_run(row: RunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        mode=RunMode(row.mode),
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        strategies=tuple(row.strategies),
        symbols=tuple(row.symbols),
        specs=tuple(StrategySpec.from_json(s) for s in row.specs or ()),
    )


class SqlRunStore:
    """Start, stop and list runs; the orders and fills of one run."""

    def __init__(self, database: Database, *, clock: Clock | None = None) -> None:
        self._db = database
        self._clock = clock if clock is not None else WallClock()

    def start_run(
        self,
        *,
        mode: RunMode | str,
        strategies: Sequence[str],
        symbols: Sequence[str],
        run_id: str | None = None,
        specs: Sequence[StrategySpec] = (),
    ) -> str:
        """Record a new run starting now; return its id (``run-<UTC time>-<random hex>``).
        ``specs``: how to make its strategies again (live vs backtest replays them)."""
        mode = RunMode(mode)
        started_at = self._clock.now()
        if run_id is None:
            run_id = f"run-{started_at:%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"
        elif not 0 < len(run_id) <= 64:
            raise ValueError(f"run_id must be 1 to 64 characters, got {run_id!r}")
        for name, values in (("strategies", strategies), ("symbols", symbols)):
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name} must be a sequence of strings, got {values!r}")
        with self._db.session() as session:
            if session.get(RunRow, run_id) is not None:
                raise ValueError(f"a run {run_id!r} already exists")
            session.add(
                RunRow(
                    id=run_id,
                    mode=mode.value,
                    started_at=started_at,
                    stopped_at=None,
                    strategies=list(strategies),
                    symbols=list(symbols),
                    specs=[s.to_json() for s in specs] if specs else None,
                )
            )
        return run_id

    def stop_run(self, run_id: str) -> None:
        """Mark ``run_id`` stopped now (a second stop keeps the first time)."""
        with self._db.session() as session:
            if session.get(RunRow, run_id) is None:
                raise UnknownRunError(f"no run {run_id!r}", context={"run_id": run_id})
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.stopped_at.is_(None))
                .values(stopped_at=self._clock.now())
            )

    def run(self, run_id: str) -> RunRecord | None:
        """The run with this id, if any."""
        with self._db.session() as session:
            row = session.get(RunRow, run_id)
            return None if row is None else _to_run(row)

    def runs(self, *, mode: RunMode | str | None = None, limit: int = 100) -> list[RunRecord]:
        """The newest ``limit`` runs (of ``mode``), newest first."""
        statement = select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc())
        if mode is not None:
            statement = statement.where(RunRow.mode == RunMode(mode).value)
        with self._db.session() as session:
            return [_to_run(r) for r in session.scalars(statement.limit(limit)).all()]

    def intents(self, run_id: str) -> list[tuple[OrderIntent, OrderEvent | None]]:
        """The intents ``run_id`` recorded, in that order, each with its latest event."""
        return read_intents(self._db, run_id=run_id)

    def fills(self, run_id: str) -> list[Fill]:
        """The fills ``run_id`` recorded, in that order."""
        return read_fills(self._db, run_id=run_id)
