"""Equity and position snapshots of a run: its equity curve and its holdings over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select

from stockyard.core import Position
from stockyard.store._db import Database
from stockyard.store._sql import canonical_decimal
from stockyard.store._trading_models import EquitySnapshotRow, PositionSnapshotRow

__all__ = ["EquitySnapshot", "SqlSnapshotStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EquitySnapshot:
    """The account's value at one moment. Exposures are market values (gross: |long|+|short|).

    ``realized_pl`` and ``unrealized_pl`` are None when the writer does not know them.
    """

    timestamp: datetime
    equity: Decimal
    cash: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    realized_pl: Decimal | None = None
    unrealized_pl: Decimal | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        for name in ("equity", "cash", "gross_exposure", "net_exposure"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{name} must be a finite Decimal, got {value!r}")


class SqlSnapshotStore:
    """Equity snapshots (the equity curve) and position snapshots, per run."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record_equity(self, run_id: str, snapshot: EquitySnapshot) -> None:
        """Append one point of ``run_id``'s equity curve."""
        with self._db.engine.begin() as connection:
            connection.execute(
                insert(EquitySnapshotRow),
                {
                    "run_id": run_id,
                    "timestamp": snapshot.timestamp,
                    "equity": snapshot.equity,
                    "cash": snapshot.cash,
                    "gross_exposure": snapshot.gross_exposure,
                    "net_exposure": snapshot.net_exposure,
                    "realized_pl": snapshot.realized_pl,
                    "unrealized_pl": snapshot.unrealized_pl,
                },
            )

    def equity_curve(self, run_id: str) -> list[EquitySnapshot]:
        """``run_id``'s equity snapshots in time order."""
        statement = (
            select(EquitySnapshotRow)
            .where(EquitySnapshotRow.run_id == run_id)
            .order_by(EquitySnapshotRow.timestamp, EquitySnapshotRow.id)
        )
        with self._db.session() as session:
            return [_snapshot(r) for r in session.scalars(statement).all()]

    def equity_history(
        self, run_ids: Sequence[str], *, since: datetime | None = None, limit: int = 20_000
    ) -> list[tuple[str, EquitySnapshot]]:
        """The equity snapshots of ``run_ids`` at or after ``since``, in time order (the
        newest ``limit``), each with its run's id: one account's curve across its runs."""
        if not run_ids:
            return []
        statement = (
            select(EquitySnapshotRow)
            .where(EquitySnapshotRow.run_id.in_(list(run_ids)))
            .order_by(EquitySnapshotRow.timestamp.desc(), EquitySnapshotRow.id.desc())
            .limit(limit)
        )
        if since is not None:
            statement = statement.where(EquitySnapshotRow.timestamp >= since)
        with self._db.session() as session:
            rows = session.scalars(statement).all()
            return [(r.run_id, _snapshot(r)) for r in reversed(rows)]

    def record_positions(
        self, run_id: str, *, timestamp: datetime, positions: Sequence[Position]
    ) -> None:
        """Write ``run_id``'s whole book at ``timestamp`` (an empty one too: the book is flat)."""
        if timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        book = [
            {
                "symbol": p.symbol,
                "qty": str(canonical_decimal(p.qty)),
                "avg_entry_price": str(canonical_decimal(p.avg_entry_price)),
                "current_price": None
                if p.current_price is None
                else str(canonical_decimal(p.current_price)),
            }
            for p in positions
        ]
        with self._db.engine.begin() as connection:
            connection.execute(
                insert(PositionSnapshotRow),
                {"run_id": run_id, "timestamp": timestamp, "positions": book},
            )

    def positions(self, run_id: str, *, at: datetime | None = None) -> list[Position]:
        """``run_id``'s book in the newest snapshot at or before ``at`` (or the newest of all);
        empty when there is none."""
        statement = (
            select(PositionSnapshotRow)
            .where(PositionSnapshotRow.run_id == run_id)
            .order_by(PositionSnapshotRow.timestamp.desc(), PositionSnapshotRow.id.desc())
            .limit(1)
        )
        if at is not None:
            statement = statement.where(PositionSnapshotRow.timestamp <= at)
        with self._db.session() as session:
            row = session.scalars(statement).first()
            book = [] if row is None else row.positions
        return [
            Position(
                symbol=str(p["symbol"]),
                qty=Decimal(str(p["qty"])),
                avg_entry_price=Decimal(str(p["avg_entry_price"])),
                current_price=None if p["current_price"] is None else Decimal(p["current_price"]),
            )
            for p in book
        ]


def _snapshot(row: EquitySnapshotRow) -> EquitySnapshot:
    return EquitySnapshot(
        timestamp=row.timestamp,
        equity=row.equity,
        cash=row.cash,
        gross_exposure=row.gross_exposure,
        net_exposure=row.net_exposure,
        realized_pl=row.realized_pl,
        unrealized_pl=row.unrealized_pl,
    )
