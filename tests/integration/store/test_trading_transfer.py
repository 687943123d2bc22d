"""``export_state``/``import_state``: the state moves exactly, SQLite → PostgreSQL → SQLite."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    SimClock,
)
from stockyard.health import Alert, AlertSeverity, AlertState
from stockyard.resilience import ErrorRegistry, NetworkError
from stockyard.store import (
    STATE_TABLES,
    Database,
    EquitySnapshot,
    SqlAlertStore,
    SqlErrorStore,
    SqlOrderJournal,
    SqlRunStore,
    SqlSnapshotStore,
    SqlStrategyStateStore,
    StateFormatError,
    StateNotEmptyError,
    dump_state,
    export_state,
    import_state,
    load_state,
    open_database,
)

T0 = datetime(2026, 1, 5, 14, 30, 0, 123456, tzinfo=UTC)
Opener = Callable[[str], Database]


@pytest.fixture
def opened() -> Iterator[Opener]:
    databases: list[Database] = []

    def open_(url: str) -> Database:
        databases.append(open_database(url))
        return databases[-1]

    yield open_
    for database in databases:
        database.dispose()


def _fill_with_state(database: Database) -> str:
    """A little of everything, the awkward values included."""
    runs = SqlRunStore(database, clock=SimClock(T0))
    run_id = runs.start_run(mode="paper", strategies=["sma", "pairs"], symbols=["AAPL", "BTC/USD"])
    journal = SqlOrderJournal(database, run_id=run_id)
    for seq in range(3):
        coid = f"sma-{seq}"
        request = OrderRequest(
            symbol="BTC/USD" if seq else "AAPL",
            side=OrderSide.BUY,
            qty=Decimal("0.00012345") if seq else Decimal("10"),
            type=OrderType.LIMIT,
            limit_price=Decimal("43000.10"),
        )
        journal.record_intent(
            OrderIntent(
                client_order_id=coid,
                strategy_id="sma",
                sequence=seq,
                request=request,
                created_at=T0 + timedelta(microseconds=seq),
            )
        )
        journal.record_event(
            OrderEvent(
                client_order_id=coid,
                kind=OrderEventKind.UPDATE,
                status=OrderStatus.FILLED if seq == 0 else OrderStatus.NEW,
                timestamp=T0,
                detail="ünïcode ✓" if seq == 2 else None,
            )
        )
    journal.record_fill(
        Fill(
            id="f-1",
            order_id="b-1",
            client_order_id="sma-0",
            symbol="AAPL",
            side=OrderSide.BUY,
            qty=Decimal("10"),
            price=Decimal("187.2500"),
            timestamp=T0,
            fee=Decimal("0.01"),
        ),
        strategy_id="sma",
    )
    snapshots = SqlSnapshotStore(database)
    snapshots.record_equity(
        run_id,
        EquitySnapshot(
            timestamp=T0,
            equity=Decimal("100000.00"),
            cash=Decimal("98127.50"),
            gross_exposure=Decimal("1872.50"),
            net_exposure=Decimal("1872.50"),
            realized_pl=Decimal("0"),
        ),
    )
    snapshots.record_positions(
        run_id,
        timestamp=T0,
        positions=[Position(symbol="AAPL", qty=Decimal(10), avg_entry_price=Decimal("187.25"))],
    )
    SqlStrategyStateStore(database, clock=SimClock(T0)).save("sma", {"fast": [1.5, 2], "n": None})
    registry = ErrorRegistry(clock=SimClock(T0))
    registry.record(NetworkError("reset"), component="feed")
    SqlErrorStore(database).sync(registry)
    SqlAlertStore(database).save(
        Alert(
            "a1",
            "disk-low",
            "disk:free",
            AlertSeverity.WARNING,
            AlertState.FIRING,
            "low",
            0.5,
            T0,
            T0,
        )
    )
    runs.stop_run(run_id)
    return run_id


def test_the_state_goes_sqlite_to_postgresql_and_back_unchanged(
    tmp_path: Path, postgres_url: str, opened: Opener
) -> None:
    source = opened(f"sqlite:///{tmp_path / 'a.db'}")
    _fill_with_state(source)
    first = export_state(source)
    assert all(first["tables"][name] for name in STATE_TABLES)  # type: ignore[index]
    text = dump_state(first)

    postgres = opened(postgres_url)
    assert import_state(postgres, load_state(text)) == {
        name: len(rows)
        for name, rows in first["tables"].items()  # type: ignore[attr-defined]
    }
    second = export_state(postgres)
    back = opened(f"sqlite:///{tmp_path / 'b.db'}")
    import_state(back, load_state(dump_state(second)))
    third = export_state(back)
    assert first["tables"] == second["tables"] == third["tables"]
    assert json.loads(dump_state(first))["tables"] == first["tables"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_imported_database_goes_on_recording(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, opened: Opener
) -> None:
    source = opened(f"sqlite:///{tmp_path / 'a.db'}")
    run_id = _fill_with_state(source)
    url = (
        f"sqlite:///{tmp_path / 'b.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    target = opened(url)
    import_state(target, export_state(source))
    journal = SqlOrderJournal(target, run_id=run_id)
    journal.record_event(
        OrderEvent(
            client_order_id="sma-1",
            kind=OrderEventKind.UPDATE,
            status=OrderStatus.CANCELED,
            timestamp=T0 + timedelta(seconds=1),
        )
    )
    assert [i.client_order_id for i, _ in journal.intents(open_only=True)] == ["sma-2"]
    assert journal.last_sequence("sma") == 2
    events = export_state(target)["tables"]["order_events"]  # type: ignore[index]
    assert [e["id"] for e in events] == [1, 2, 3, 4]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_importing_over_existing_state_is_refused_unless_replacing(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, opened: Opener
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'b.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    source = opened(f"sqlite:///{tmp_path / 'a.db'}")
    _fill_with_state(source)
    document = export_state(source)
    target = opened(url)
    SqlRunStore(target).start_run(mode="live", strategies=["x"], symbols=["SPY"], run_id="mine")
    before = export_state(target)["tables"]
    with pytest.raises(StateNotEmptyError, match="already holds runs; nothing was imported"):
        import_state(target, document)
    assert export_state(target)["tables"] == before
    import_state(target, document, replace=True)
    assert export_state(target)["tables"] == document["tables"]


def _broken(document: dict[str, object], change: Callable[[dict[str, object]], object]) -> object:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def _tables(document: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    return document["tables"]  # type: ignore[return-value]


Change = Callable[[dict[str, object]], object]
BAD: list[tuple[str, Change, str]] = [
    ("wrong version", lambda d: d.update(version=2), "version 2 is not supported"),
    ("not ours", lambda d: d.update(format="other"), "not a stockyard state document"),
    ("a table missing", lambda d: _tables(d).pop("fills"), "tables missing: ['fills']"),
    ("an unknown table", lambda d: _tables(d).update(x=[]), "unknown: ['x']"),
    (
        "a float for a decimal",
        lambda d: _tables(d)["fills"][0].update(price=187.25),
        "fills row 0, column 'price' must be decimal text",
    ),
    (
        "a naive time",
        lambda d: _tables(d)["runs"][0].update(started_at="2026-01-05T14:30:00"),
        "must carry a UTC offset",
    ),
    (
        "a missing column",
        lambda d: _tables(d)["order_events"][0].pop("kind"),
        "order_events row 0: expected columns",
    ),
    (
        "an impossible order",
        lambda d: _tables(d)["order_intents"][0].update(limit_price=None),
        "a limit order needs a limit_price",
    ),
    (
        "an unknown status",
        lambda d: _tables(d)["order_events"][0].update(status="lost"),
        "'lost' is not a valid OrderStatus",
    ),
    (
        "a fill of an unknown run",
        lambda d: _tables(d)["fills"][0].update(run_id="nowhere"),
        "does not fit the database",
    ),
    (
        "a duplicate fill id",
        lambda d: _tables(d)["fills"].append({**_tables(d)["fills"][0], "seq": 99}),
        "does not fit the database",
    ),
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_a_bad_document_gets_a_clear_error_and_changes_nothing(
    backend: str,
    bad: tuple[str, Change, str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    opened: Opener,
) -> None:
    _case, change, message = bad
    source = opened(f"sqlite:///{tmp_path / 'a.db'}")
    _fill_with_state(source)
    document = export_state(source)
    url = (
        f"sqlite:///{tmp_path / 'b.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    target = opened(url)
    with pytest.raises(StateFormatError, match=message.replace("[", r"\[").replace("(", r"\(")):
        import_state(target, _broken(document, change), replace=True)
    assert not any(export_state(target)["tables"].values())  # type: ignore[attr-defined]


def test_text_that_is_not_json_is_a_format_error() -> None:
    with pytest.raises(StateFormatError, match="not valid JSON"):
        load_state('{"format": ')
    with pytest.raises(StateFormatError, match="not valid JSON"):
        load_state('{"x": NaN}')
