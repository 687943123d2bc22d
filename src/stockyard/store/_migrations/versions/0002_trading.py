"""trading: runs, order intents and events, fills, snapshots, strategy state, errors

Revision ID: 0002_trading
Revises: 0001_health
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stockyard.store._models import UtcDateTime
from stockyard.store._sql import ExactDecimal

revision = "0002_trading"
down_revision = "0001_health"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _run_id() -> sa.Column[str]:
    return sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id"), nullable=False)


def _money(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("strategies", sa.JSON(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_mode"), "runs", ["mode"])
    op.create_index(op.f("ix_runs_started_at"), "runs", ["started_at"])

    op.create_table(
        "order_intents",
        sa.Column("seq", _ID, autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(128), nullable=False),
        _run_id(),
        sa.Column("strategy_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        _money("qty", nullable=True),
        _money("notional", nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        _money("limit_price", nullable=True),
        _money("stop_price", nullable=True),
        _money("trail_price", nullable=True),
        _money("trail_percent", nullable=True),
        sa.Column("extended_hours", sa.Boolean(), nullable=False),
        sa.Column("order_class", sa.String(16), nullable=False),
        _money("take_profit_limit_price", nullable=True),
        _money("stop_loss_stop_price", nullable=True),
        _money("stop_loss_limit_price", nullable=True),
        sa.Column("request_client_order_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_order_intents")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_order_intents_client_order_id")),
    )
    op.create_index(op.f("ix_order_intents_run_id"), "order_intents", ["run_id"])
    op.create_index(op.f("ix_order_intents_created_at"), "order_intents", ["created_at"])
    op.create_index(
        "ix_order_intents_strategy_id_sequence", "order_intents", ["strategy_id", "sequence"]
    )

    op.create_table(
        "order_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        _run_id(),
        sa.Column("client_order_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        sa.Column("broker_order_id", sa.String(128), nullable=True),
        _money("filled_qty"),
        _money("filled_avg_price", nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_run_id"), "order_events", ["run_id"])
    op.create_index("ix_order_events_client_order_id_id", "order_events", ["client_order_id", "id"])

    op.create_table(
        "fills",
        sa.Column("seq", _ID, autoincrement=True, nullable=False),
        sa.Column("fill_id", sa.String(128), nullable=False),
        _run_id(),
        sa.Column("strategy_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("client_order_id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        _money("qty"),
        _money("price"),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        _money("fee"),
        _money("cumulative_qty", nullable=True),
        _money("leaves_qty", nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_fills")),
        sa.UniqueConstraint("fill_id", name=op.f("uq_fills_fill_id")),
    )
    for column in ("run_id", "strategy_id", "client_order_id", "timestamp"):
        op.create_index(op.f(f"ix_fills_{column}"), "fills", [column])

    op.create_table(
        "position_snapshots",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        _run_id(),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_snapshots")),
    )
    op.create_index(
        "ix_position_snapshots_run_id_timestamp", "position_snapshots", ["run_id", "timestamp"]
    )

    op.create_table(
        "equity_snapshots",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        _run_id(),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        _money("equity"),
        _money("cash"),
        _money("gross_exposure"),
        _money("net_exposure"),
        _money("realized_pl", nullable=True),
        _money("unrealized_pl", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equity_snapshots")),
    )
    op.create_index(
        "ix_equity_snapshots_run_id_timestamp", "equity_snapshots", ["run_id", "timestamp"]
    )

    op.create_table(
        "strategy_state",
        sa.Column("strategy_id", sa.String(128), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("strategy_id", name=op.f("pk_strategy_state")),
    )

    op.create_table(
        "errors",
        sa.Column("fingerprint", sa.String(1024), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("error_type", sa.String(128), nullable=False),
        sa.Column("component", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_errors")),
    )
    op.create_index(op.f("ix_errors_category"), "errors", ["category"])
    op.create_index(op.f("ix_errors_last_seen"), "errors", ["last_seen"])


def downgrade() -> None:
    for table in (
        "errors",
        "strategy_state",
        "equity_snapshots",
        "position_snapshots",
        "fills",
        "order_events",
        "order_intents",
        "runs",
    ):
        op.drop_table(table)
