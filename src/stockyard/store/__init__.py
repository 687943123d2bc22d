"""Persistence (floor 2): the state database, SQLite by default, PostgreSQL by URL.

``open_database(settings)`` gives a ``Database`` migrated to the latest schema (Alembic,
configured in code). The health tables live in ``_models``, the trading ones in
``_trading_models``; each change of schema is a migration in ``_migrations/versions``.

Trading state: ``SqlRunStore`` (runs of a node), ``SqlOrderJournal`` (order intents, events
and fills of a run), ``SqlSnapshotStore`` (equity curve, positions), ``SqlStrategyStateStore``,
``SqlErrorStore``, ``SqlResearchStore`` (backtests, walk-forwards and Monte Carlo runs, each
one JSON document); ``export_state``/``import_state`` move the trading state as one JSON
document.
"""

from stockyard.store._audit import AuditEntry, SqlAuditLog
from stockyard.store._control_models import ApiKeyRow, AuditRow
from stockyard.store._db import (
    MIGRATIONS,
    Database,
    SqliteSynchronous,
    alembic_config,
    open_database,
)
from stockyard.store._error_log import SqlErrorStore, StoredError
from stockyard.store._errors import StateFormatError, StateNotEmptyError, UnknownRunError
from stockyard.store._health import SqlAlertStore, SqlMetricsHistory
from stockyard.store._journal import SqlOrderJournal
from stockyard.store._keys import ApiKey, ApiKeyError, KeyScope, SqlKeyStore
from stockyard.store._models import AlertRow, Base, MetricSampleRow, UtcDateTime
from stockyard.store._research import (
    ResearchKind,
    ResearchRun,
    SqlResearchStore,
    SummaryValue,
    research_id,
)
from stockyard.store._research_models import ResearchRunRow
from stockyard.store._runs import RunMode, RunRecord, SpecValue, SqlRunStore, StrategySpec
from stockyard.store._snapshots import EquitySnapshot, SqlSnapshotStore
from stockyard.store._sql import ExactDecimal, canonical_decimal
from stockyard.store._strategy_state import SqlStrategyStateStore
from stockyard.store._trading_models import (
    EquitySnapshotRow,
    ErrorRow,
    FillRow,
    OrderEventRow,
    OrderIntentRow,
    PositionSnapshotRow,
    RunRow,
    StrategyStateRow,
)
from stockyard.store._transfer import (
    STATE_FORMAT,
    STATE_FORMAT_VERSION,
    STATE_TABLES,
    dump_state,
    export_state,
    import_state,
    load_state,
)

__all__ = [
    "MIGRATIONS",
    "STATE_FORMAT",
    "STATE_FORMAT_VERSION",
    "STATE_TABLES",
    "AlertRow",
    "ApiKey",
    "ApiKeyError",
    "ApiKeyRow",
    "AuditEntry",
    "AuditRow",
    "Base",
    "Database",
    "EquitySnapshot",
    "EquitySnapshotRow",
    "ErrorRow",
    "ExactDecimal",
    "FillRow",
    "KeyScope",
    "MetricSampleRow",
    "OrderEventRow",
    "OrderIntentRow",
    "PositionSnapshotRow",
    "ResearchKind",
    "ResearchRun",
    "ResearchRunRow",
    "RunMode",
    "RunRecord",
    "RunRow",
    "SpecValue",
    "SqlAlertStore",
    "SqlAuditLog",
    "SqlErrorStore",
    "SqlKeyStore",
    "SqlMetricsHistory",
    "SqlOrderJournal",
    "SqlResearchStore",
    "SqlRunStore",
    "SqlSnapshotStore",
    "SqlStrategyStateStore",
    "SqliteSynchronous",
    "StateFormatError",
    "StateNotEmptyError",
    "StoredError",
    "StrategySpec",
    "StrategyStateRow",
    "SummaryValue",
    "UnknownRunError",
    "UtcDateTime",
    "alembic_config",
    "canonical_decimal",
    "dump_state",
    "export_state",
    "import_state",
    "load_state",
    "open_database",
    "research_id",
]
