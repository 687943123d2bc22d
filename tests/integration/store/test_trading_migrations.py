"""Migration 0002 on both backends: after 0001 on a health-only database, and from nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from stockyard.health import MetricSample
from stockyard.store import (
    Base,
    Database,
    SqlMetricsHistory,
    SqlRunStore,
    alembic_config,
    open_database,
)

TRADING = {
    "runs",
    "order_intents",
    "order_events",
    "fills",
    "position_snapshots",
    "equity_snapshots",
    "strategy_state",
    "errors",
}


def _url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_health_only_database_gains_the_trading_tables_and_keeps_its_samples(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _url(backend, request, tmp_path)
    with Database(url) as old:
        command.upgrade(alembic_config(old.engine), "0001_health")
        assert old.revision() == "0001_health"
        assert not TRADING & set(inspect(old.engine).get_table_names())
        sample = MetricSample(datetime(2026, 1, 5, tzinfo=UTC), "cpu", "utilization", 3.5, "%")
        SqlMetricsHistory(old).add([sample])
    with open_database(url) as upgraded:
        assert upgraded.revision() == Database.head() == "0005_control"
        assert set(inspect(upgraded.engine).get_table_names()) >= TRADING
        assert SqlMetricsHistory(upgraded).query() == [sample]
        assert SqlRunStore(upgraded).start_run(mode="sandbox", strategies=[], symbols=[])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_fresh_database_migrates_to_a_schema_that_matches_the_models(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with open_database(_url(backend, request, tmp_path)) as database:
        assert database.revision() == "0005_control"
        with database.engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert drift == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_downgrading_0002_leaves_the_health_tables(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with open_database(_url(backend, request, tmp_path)) as database:
        command.downgrade(alembic_config(database.engine), "0001_health")
        tables = set(inspect(database.engine).get_table_names())
        assert not TRADING & tables
        assert "research_runs" not in tables
        assert {"metric_samples", "alerts"} <= tables
        database.migrate()
        assert database.revision() == "0005_control"
