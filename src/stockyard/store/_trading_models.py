"""The trading tables: runs, order intents and events, fills, snapshots, strategy state, errors.

Money and quantities are ``ExactDecimal``; times are ``UtcDateTime``. Every row a node writes
carries the ``run_id`` of the run that wrote it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockyard.store._models import Base, UtcDateTime
from stockyard.store._sql import ExactDecimal

__all__ = [
    "EquitySnapshotRow",
    "ErrorRow",
    "FillRow",
    "OrderEventRow",
    "OrderIntentRow",
    "PositionSnapshotRow",
    "RunRow",
    "StrategyStateRow",
]

_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only
_RUN_FK = "runs.id"


class RunRow(Base):
    """One run of a node (paper, live or sandbox)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    strategies: Mapped[list[str]] = mapped_column(JSON())
    symbols: Mapped[list[str]] = mapped_column(JSON())
    # How to make each strategy again (StrategySpec.to_json); null for runs before 0003.
    specs: Mapped[list[dict[str, object]] | None] = mapped_column(JSON(), nullable=True)


class OrderIntentRow(Base):
    """An order the node decided to send, written before it is sent; the request in columns.

    ``client_order_id`` is unique; ``seq`` keeps the order in which intents were recorded.
    """

    __tablename__ = "order_intents"
    __table_args__ = (Index("ix_order_intents_strategy_id_sequence", "strategy_id", "sequence"),)

    seq: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)  # recorded order
    client_order_id: Mapped[str] = mapped_column(String(128), unique=True)
    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK), index=True)
    strategy_id: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(BigInteger())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    notional: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(8))
    limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    trail_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    trail_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    extended_hours: Mapped[bool] = mapped_column(Boolean())
    order_class: Mapped[str] = mapped_column(String(16))
    take_profit_limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    stop_loss_stop_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    stop_loss_limit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    # The request's own client_order_id: None or the intent's (kept so a round trip is exact).
    request_client_order_id: Mapped[str | None] = mapped_column(String(128))


class OrderEventRow(Base):
    """One change in an order's state; append-only, ordered by ``id``.

    No foreign key to ``order_intents``: reconciliation may record an event for an order the
    broker has and we never intended.
    """

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_client_order_id_id", "client_order_id", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK), index=True)
    client_order_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    broker_order_id: Mapped[str | None] = mapped_column(String(128))
    filled_qty: Mapped[Decimal] = mapped_column(ExactDecimal())
    filled_avg_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    detail: Mapped[str | None] = mapped_column(Text())


class FillRow(Base):
    """One execution; ``fill_id`` is unique, so recording a fill twice is a no-op."""

    __tablename__ = "fills"

    seq: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(String(128), unique=True)
    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK), index=True)
    strategy_id: Mapped[str] = mapped_column(String(128), index=True)
    order_id: Mapped[str] = mapped_column(String(128))
    client_order_id: Mapped[str] = mapped_column(String(128), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal())
    cumulative_qty: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    leaves_qty: Mapped[Decimal | None] = mapped_column(ExactDecimal())


class PositionSnapshotRow(Base):
    """A run's whole book at one moment: ``positions`` is a JSON list (an empty book is ``[]``)
    of ``{"symbol", "qty", "avg_entry_price", "current_price"}``, the numbers as decimal text."""

    __tablename__ = "position_snapshots"
    __table_args__ = (Index("ix_position_snapshots_run_id_timestamp", "run_id", "timestamp"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    positions: Mapped[list[dict[str, str | None]]] = mapped_column(JSON())


class EquitySnapshotRow(Base):
    """The account's value at one moment of a run (one point of the equity curve)."""

    __tablename__ = "equity_snapshots"
    __table_args__ = (Index("ix_equity_snapshots_run_id_timestamp", "run_id", "timestamp"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    equity: Mapped[Decimal] = mapped_column(ExactDecimal())
    cash: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross_exposure: Mapped[Decimal] = mapped_column(ExactDecimal())
    net_exposure: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pl: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    unrealized_pl: Mapped[Decimal | None] = mapped_column(ExactDecimal())


class StrategyStateRow(Base):
    """A strategy's saved state: last write wins; ``version`` counts the saves."""

    __tablename__ = "strategy_state"

    strategy_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[dict[str, object]] = mapped_column(JSON())
    version: Mapped[int] = mapped_column(BigInteger())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ErrorRow(Base):
    """All persisted occurrences of one error fingerprint."""

    __tablename__ = "errors"

    fingerprint: Mapped[str] = mapped_column(String(1024), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str | None] = mapped_column(String(16))
    error_type: Mapped[str] = mapped_column(String(128))
    component: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text())
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    count: Mapped[int] = mapped_column(BigInteger())
