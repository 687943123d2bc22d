from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from stockyard.config import load_settings
from stockyard.store import MIGRATIONS, Database, MetricSampleRow, open_database


def test_the_migrations_ship_inside_the_package_with_no_alembic_ini() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert any((MIGRATIONS / "versions").glob("0001_*.py"))
    assert not (MIGRATIONS.parent / "alembic.ini").exists()


def test_the_default_database_is_a_sqlite_file_under_home(tmp_path: Path) -> None:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path / "home")})
    with open_database(settings) as database:
        assert database.is_sqlite
        assert database.revision() == Database.head()
    assert (tmp_path / "home" / "state.db").is_file()


def test_an_unmigrated_database_has_no_revision(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'x.db'}", migrate=False) as database:
        assert database.revision() is None


def test_times_come_back_aware_in_utc_whatever_zone_went_in(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=1))
    with open_database(f"sqlite:///{tmp_path / 'x.db'}") as database:
        with database.session() as session:
            session.add(
                MetricSampleRow(
                    time=datetime(2026, 1, 5, 13, 0, tzinfo=paris), component="c", name="n", value=1
                )
            )
        with database.session() as session:
            row = session.scalars(select(MetricSampleRow)).one()
    assert row.time == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert row.time.tzinfo is UTC


def test_a_naive_time_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    naive = MetricSampleRow(time=datetime(2026, 1, 5), component="c", name="n", value=1)
    with open_database(f"sqlite:///{tmp_path / 'x.db'}") as database, database.session() as session:
        session.add(naive)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()
