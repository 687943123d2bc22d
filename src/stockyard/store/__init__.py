"""Persistence (floor 2): the state database, SQLite by default, PostgreSQL by URL.

``open_database(settings)`` gives a ``Database`` migrated to the latest schema (Alembic,
configured in code). The tables live in ``_models``; later layers add theirs with a
migration in ``_migrations/versions``.
"""

from stockyard.store._db import MIGRATIONS, Database, alembic_config, open_database
from stockyard.store._health import SqlAlertStore, SqlMetricsHistory
from stockyard.store._models import AlertRow, Base, MetricSampleRow, UtcDateTime

__all__ = [
    "MIGRATIONS",
    "AlertRow",
    "Base",
    "Database",
    "MetricSampleRow",
    "SqlAlertStore",
    "SqlMetricsHistory",
    "UtcDateTime",
    "alembic_config",
    "open_database",
]
