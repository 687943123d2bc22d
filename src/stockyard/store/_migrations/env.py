"""Alembic environment: the engine comes from ``config.attributes`` (see ``alembic_config``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from stockyard.store._models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through stockyard.store.Database.migrate()")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
