"""Research runs in the state database: backtests, walk-forwards and Monte Carlo runs.

Each run is one JSON document (the bytes its exports are written from) under an id derived
from those bytes, so the same run stored twice is one row with the same bytes. A listing
reads the small ``summary`` beside the document, never the document.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import select

from stockyard.core import Clock, WallClock
from stockyard.store._db import Database
from stockyard.store._errors import UnknownRunError
from stockyard.store._research_models import ResearchRunRow

__all__ = ["ResearchKind", "ResearchRun", "SqlResearchStore", "SummaryValue", "research_id"]

SummaryValue = str | int | float | bool | None


class ResearchKind(StrEnum):
    """What a research run is."""

    BACKTEST = "backtest"
    WALKFORWARD = "walkforward"
    MONTECARLO = "montecarlo"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResearchRun:
    """A stored research run without its document (see ``SqlResearchStore.document``)."""

    id: str
    kind: ResearchKind
    stored_at: datetime
    strategy: str | None
    symbols: tuple[str, ...]
    summary: Mapping[str, SummaryValue]


def research_id(document: bytes) -> str:
    """The id of a run's document: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(document).hexdigest()[:12]


def _checked_summary(summary: Mapping[str, object]) -> dict[str, SummaryValue]:
    plain: dict[str, SummaryValue] = {}
    for key, given in summary.items():
        if given is not None and not isinstance(given, str | int | float | bool):
            raise ValueError(f"summary value {key!r} must be text, a number, a bool or null")
        finite = not isinstance(given, float) or math.isfinite(given)
        plain[key] = given if finite else None  # JSON has no NaN; a listing shows "-"
    return plain


def _to_run(row: ResearchRunRow) -> ResearchRun:
    return ResearchRun(
        id=row.id,
        kind=ResearchKind(row.kind),
        stored_at=row.stored_at,
        strategy=row.strategy,
        symbols=tuple(row.symbols),
        summary=MappingProxyType(_checked_summary(row.summary)),
    )


class SqlResearchStore:
    """Store, read and list research runs (SQLite or PostgreSQL)."""

    def __init__(self, database: Database, *, clock: Clock | None = None) -> None:
        self._db = database
        self._clock = clock if clock is not None else WallClock()

    def save(
        self,
        *,
        kind: ResearchKind | str,
        document: bytes,
        strategy: str | None,
        symbols: Sequence[str],
        summary: Mapping[str, object],
    ) -> str:
        """Store ``document`` and return its id; storing the same document again changes
        nothing (the first ``stored_at`` stays). ValueError on a bad summary or symbols."""
        kind = ResearchKind(kind)
        if not document:
            raise ValueError("a research run needs a document")
        if isinstance(symbols, str) or not all(isinstance(s, str) for s in symbols):
            raise ValueError(f"symbols must be a sequence of strings, got {symbols!r}")
        plain = _checked_summary(summary)
        run_id = research_id(document)
        with self._db.session() as session:
            if session.get(ResearchRunRow, run_id) is None:
                session.add(
                    ResearchRunRow(
                        id=run_id,
                        kind=kind.value,
                        stored_at=self._clock.now(),
                        strategy=strategy,
                        symbols=list(symbols),
                        summary=plain,
                        document=document,
                    )
                )
        return run_id

    def document(self, run_id: str, *, kind: ResearchKind | str | None = None) -> bytes:
        """The stored document of ``run_id`` (of ``kind``, when given); UnknownRunError
        when there is none."""
        with self._db.session() as session:
            row = session.get(ResearchRunRow, run_id)
            if row is None or (kind is not None and row.kind != ResearchKind(kind).value):
                raise UnknownRunError(f"no stored run {run_id!r}", context={"run_id": run_id})
            return bytes(row.document)

    def run(self, run_id: str) -> ResearchRun | None:
        """The run with this id (without its document), if any."""
        with self._db.session() as session:
            row = session.get(ResearchRunRow, run_id)
            return None if row is None else _to_run(row)

    def runs(
        self, *, kind: ResearchKind | str | None = None, limit: int = 100
    ) -> list[ResearchRun]:
        """The newest ``limit`` runs (of ``kind``), newest first (then by id)."""
        statement = select(ResearchRunRow).order_by(
            ResearchRunRow.stored_at.desc(), ResearchRunRow.id
        )
        if kind is not None:
            statement = statement.where(ResearchRunRow.kind == ResearchKind(kind).value)
        with self._db.session() as session:
            return [_to_run(r) for r in session.scalars(statement.limit(limit)).all()]
