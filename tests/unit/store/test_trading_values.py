"""The store's values and column types, without a server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from stockyard.store import (
    Database,
    EquitySnapshot,
    SqlRunStore,
    SqlSnapshotStore,
    canonical_decimal,
    open_database,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1E+2", "100"),
        ("-0.00", "0.00"),
        ("0.10", "0.10"),
        ("1E-7", "1E-7"),
        ("-12.5", "-12.5"),
        ("123456789012345678901234567890.000000001", "123456789012345678901234567890.000000001"),
    ],
)
def test_decimals_are_stored_in_the_one_form_both_backends_give_back(
    given: str, stored: str
) -> None:
    value = canonical_decimal(Decimal(given))
    assert str(value) == stored
    assert value == Decimal(given)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), 0.1])
def test_a_non_finite_or_binary_number_is_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_decimal(bad)  # type: ignore[arg-type]


def test_an_equity_snapshot_needs_an_aware_time_and_exact_money() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EquitySnapshot(
            timestamp=datetime(2026, 1, 5),
            equity=Decimal(1),
            cash=Decimal(1),
            gross_exposure=Decimal(0),
            net_exposure=Decimal(0),
        )
    with pytest.raises(ValueError, match="cash must be a finite Decimal"):
        EquitySnapshot(
            timestamp=datetime(2026, 1, 5, tzinfo=UTC),
            equity=Decimal(1),
            cash=1.5,  # type: ignore[arg-type]
            gross_exposure=Decimal(0),
            net_exposure=Decimal(0),
        )


def test_a_float_never_reaches_a_money_column(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 's.db'}") as database:
        run_id = SqlRunStore(database).start_run(mode="paper", strategies=[], symbols=[])
        snapshot = EquitySnapshot(
            timestamp=datetime(2026, 1, 5, tzinfo=UTC),
            equity=Decimal(1),
            cash=Decimal(1),
            gross_exposure=Decimal(0),
            net_exposure=Decimal(0),
        )
        object.__setattr__(snapshot, "cash", 0.1)  # as a careless caller might
        with pytest.raises(StatementError, match="expected a Decimal, got float"):
            SqlSnapshotStore(database).record_equity(run_id, snapshot)
        assert SqlSnapshotStore(database).equity_curve(run_id) == []


@pytest.mark.parametrize(("synchronous", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_sqlite_runs_in_wal_mode_at_the_chosen_synchronous_level(
    tmp_path: Path, synchronous: str, level: int
) -> None:
    database = open_database(f"sqlite:///{tmp_path / 's.db'}", sqlite_synchronous=synchronous)  # type: ignore[arg-type]
    with database, database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == level


def test_an_unknown_synchronous_level_is_refused() -> None:
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        Database("sqlite://", sqlite_synchronous="OFF")  # type: ignore[arg-type]
