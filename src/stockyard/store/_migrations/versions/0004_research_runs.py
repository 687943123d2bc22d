"""research_runs: backtests, walk-forwards and Monte Carlo runs stored as documents

Revision ID: 0004_research_runs
Revises: 0003_run_specs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stockyard.store._models import UtcDateTime

revision = "0004_research_runs"
down_revision = "0003_run_specs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "research_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
        sa.Column("strategy", sa.String(200), nullable=True),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_runs")),
    )
    op.create_index(op.f("ix_research_runs_kind"), "research_runs", ["kind"])
    op.create_index(op.f("ix_research_runs_stored_at"), "research_runs", ["stored_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_research_runs_stored_at"), table_name="research_runs")
    op.drop_index(op.f("ix_research_runs_kind"), table_name="research_runs")
    op.drop_table("research_runs")
