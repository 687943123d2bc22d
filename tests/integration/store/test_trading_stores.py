"""Runs, snapshots, strategy state and errors on both backends."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.core import Position
from stockyard.resilience import ErrorCategory, ErrorRegistry, NetworkError, Severity
from stockyard.store import (
    Database,
    EquitySnapshot,
    RunMode,
    SqlErrorStore,
    SqlRunStore,
    SqlSnapshotStore,
    SqlStrategyStateStore,
    UnknownRunError,
    open_database,
)

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class TickingClock:
    """A ``Clock`` that moves a minute each time it is read."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def now(self) -> datetime:
        return T0 + timedelta(minutes=next(self._ticks))


def test_runs_are_started_stopped_and_listed_newest_first(database: Database) -> None:
    runs = SqlRunStore(database, clock=TickingClock())
    first = runs.start_run(mode=RunMode.PAPER, strategies=["sma_cross"], symbols=["AAPL", "MSFT"])
    second = runs.start_run(mode="live", strategies=["momentum"], symbols=["SPY"], run_id="r-2")
    assert first.startswith("run-20260105T143000Z-")
    assert second == "r-2"
    runs.stop_run(first)
    runs.stop_run(first)  # the first stop time stands
    record = runs.run(first)
    assert record is not None
    assert record.mode is RunMode.PAPER
    assert record.started_at == T0
    assert record.stopped_at == T0 + timedelta(minutes=2)
    assert record.strategies == ("sma_cross",)
    assert record.symbols == ("AAPL", "MSFT")
    assert [r.id for r in runs.runs()] == ["r-2", first]
    assert [r.id for r in runs.runs(mode="live")] == ["r-2"]
    assert runs.run("nope") is None


def test_bad_runs_are_refused_with_a_clear_error(database: Database) -> None:
    runs = SqlRunStore(database)
    with pytest.raises(ValueError, match="'backtest' is not a valid RunMode"):
        runs.start_run(mode="backtest", strategies=[], symbols=[])
    with pytest.raises(ValueError, match="symbols must be a sequence of strings"):
        runs.start_run(mode="paper", strategies=[], symbols="AAPL")
    runs.start_run(mode="paper", strategies=[], symbols=[], run_id="same")
    with pytest.raises(ValueError, match="already exists"):
        runs.start_run(mode="paper", strategies=[], symbols=[], run_id="same")
    with pytest.raises(UnknownRunError):
        runs.stop_run("nope")
    assert [r.id for r in runs.runs()] == ["same"]


def test_the_equity_curve_comes_back_in_time_order_and_exact(database: Database) -> None:
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s"], symbols=["AAPL"])
    store = SqlSnapshotStore(database)
    points = [
        EquitySnapshot(
            timestamp=T0 + timedelta(minutes=m),
            equity=Decimal("100000.00") + m,
            cash=Decimal("81234.5678"),
            gross_exposure=Decimal("18765.4322"),
            net_exposure=Decimal("-18765.4322"),
            realized_pl=None if m == 0 else Decimal("12.34"),
        )
        for m in (2, 0, 1)
    ]
    for point in points:
        store.record_equity(run_id, point)
    curve = store.equity_curve(run_id)
    assert curve == sorted(points, key=lambda p: p.timestamp)
    assert str(curve[0].cash) == "81234.5678"
    assert curve[0].unrealized_pl is None
    assert store.equity_curve("other") == []


def test_position_snapshots_give_the_book_at_a_time_flat_included(database: Database) -> None:
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["s"], symbols=["AAPL"])
    store = SqlSnapshotStore(database)
    book = [
        Position(symbol="AAPL", qty=Decimal("10"), avg_entry_price=Decimal("187.255")),
        Position(
            symbol="BTC/USD",
            qty=Decimal("-0.00012"),
            avg_entry_price=Decimal("43000.1"),
            current_price=Decimal("43100"),
        ),
    ]
    store.record_positions(run_id, timestamp=T0, positions=book)
    store.record_positions(run_id, timestamp=T0 + timedelta(hours=1), positions=[])
    assert store.positions(run_id, at=T0 + timedelta(minutes=30)) == book
    assert store.positions(run_id) == []  # flat at the end
    assert store.positions(run_id, at=T0 - timedelta(seconds=1)) == []


def test_strategy_state_survives_reopening_and_the_last_write_wins(
    database: Database, tmp_path: Path
) -> None:
    store = SqlStrategyStateStore(database)
    assert store.load("sma") is None
    assert store.version("sma") == 0
    store.save(
        "sma", {"last_cross": "up", "bars": 12, "prices": [1.5, 2.25], "nested": {"a": None}}
    )
    store.save("sma", {"last_cross": "down", "entry": "187.25"})
    reopened = open_database(database.url)
    try:
        again = SqlStrategyStateStore(reopened)
        assert again.load("sma") == {"last_cross": "down", "entry": "187.25"}
        assert again.version("sma") == 2
    finally:
        reopened.dispose()


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ({"price": Decimal("1.5")}, "not JSON"),
        ({"x": float("nan")}, "not JSON"),
        ({1: "a"}, "would not round-trip"),
        ({"pair": (1, 2)}, "would not round-trip"),
    ],
)
def test_state_that_json_cannot_keep_is_refused_and_nothing_changes(
    database: Database, state: dict[object, object], reason: str
) -> None:
    store = SqlStrategyStateStore(database)
    store.save("s", {"ok": True})
    with pytest.raises(ValueError, match=reason):
        store.save("s", state)  # type: ignore[arg-type]
    assert store.load("s") == {"ok": True}
    assert store.version("s") == 1


def test_error_counts_accumulate_across_syncs_and_restarts(database: Database) -> None:
    clock = TickingClock()
    registry = ErrorRegistry(clock=clock)
    store = SqlErrorStore(database)
    for _ in range(3):
        registry.record(NetworkError("connection reset by peer 10.0.0.1"), component="feed")
    registry.record(ValueError("bad price nan"), component="strategy")
    assert store.sync(registry) == 4
    assert store.sync(registry) == 0  # nothing new
    registry.record(NetworkError("connection reset by peer 10.0.0.2"), component="broker")
    assert store.sync(registry) == 1
    restarted = ErrorRegistry(clock=clock)  # a new process: its counts start at zero
    restarted.record(NetworkError("connection reset by peer 10.0.0.3"), component="feed")
    assert SqlErrorStore(database).sync(restarted) == 1
    top = store.top()
    assert [(e.category, e.count) for e in top] == [
        (ErrorCategory.NETWORK, 5),
        (ErrorCategory.VALIDATION, 1),
    ]
    network = top[0]
    assert network.severity is Severity.MEDIUM
    assert network.component == "feed"
    assert network.first_seen == T0
    assert network.last_seen == T0 + timedelta(minutes=5)
    assert network.message == "connection reset by peer 10.0.0.3"
    assert [e.count for e in store.top(category=ErrorCategory.VALIDATION)] == [1]


def test_single_error_records_are_counted_one_each(database: Database) -> None:
    registry = ErrorRegistry(clock=TickingClock())
    records = [registry.record(NetworkError("down"), component="bus") for _ in range(2)]
    store = SqlErrorStore(database)
    assert store.record(records) == 2
    [stored] = store.top()
    assert stored.count == 2
    assert stored.first_seen == T0
    assert stored.last_seen == T0 + timedelta(minutes=1)
