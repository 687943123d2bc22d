"""runs: the strategy specs of a run (reference, id, symbols, parameters)

Revision ID: 0003_run_specs
Revises: 0002_trading
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_run_specs"
down_revision = "0002_trading"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("specs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("specs")
