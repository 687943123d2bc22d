"""``stockyard bench store``: what writing the order journal costs, per call, on a backend."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from stockyard.store import (
    Database,
    FillRow,
    OrderEventRow,
    OrderIntentRow,
    RunMode,
    RunRow,
    SqliteSynchronous,
    SqlOrderJournal,
    SqlRunStore,
    open_database,
)

__all__ = ["run_store_benchmark"]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _figures(name: str, seconds: list[float]) -> dict[str, float]:
    micros = [s * 1e6 for s in seconds]
    return {
        f"{name}_p50_us": round(_percentile(micros, 0.50), 1),
        f"{name}_p99_us": round(_percentile(micros, 0.99), 1),
    }


def _drop_run(database: Database, run_id: str) -> None:
    with database.session() as session:
        for model in (FillRow, OrderEventRow, OrderIntentRow):
            session.execute(delete(model).where(model.run_id == run_id))
        session.execute(delete(RunRow).where(RunRow.id == run_id))


def _values(coid: str, i: int, at: datetime) -> tuple[OrderIntent, OrderEvent, OrderEvent, Fill]:
    """Order ``i``'s intent, its two events and its fill (made before the clock starts)."""
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(10))
    intent = OrderIntent(
        client_order_id=coid, strategy_id="bench", sequence=i, request=request, created_at=at
    )
    submitting = OrderEvent(
        client_order_id=coid, kind=OrderEventKind.SUBMITTING, status=None, timestamp=at
    )
    filled = OrderEvent(
        client_order_id=coid, kind=OrderEventKind.UPDATE, status=OrderStatus.FILLED,
        timestamp=at, broker_order_id=f"b{i}", filled_qty=Decimal(10),
        filled_avg_price=Decimal("187.25"),
    )  # fmt: skip
    fill = Fill(
        id=f"{coid}-f", order_id=f"b{i}", client_order_id=coid, symbol="AAPL",
        side=OrderSide.BUY, qty=Decimal(10), price=Decimal("187.25"), timestamp=at,
    )  # fmt: skip
    return intent, submitting, filled, fill


def run_store_benchmark(
    url: str | None = None,
    *,
    orders: int = 2000,
    sqlite_synchronous: SqliteSynchronous = "NORMAL",
) -> dict[str, object]:
    """Time ``orders`` × (record_intent, record_event ×2, record_fill), each call committed.

    ``url`` None: a fresh SQLite file in a temporary directory. Another URL's database gets
    a run of its own, deleted afterwards. The values are made before each call is timed.
    """
    with tempfile.TemporaryDirectory(prefix="stockyard-bench-store-") as scratch:
        url = url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        database = open_database(url, sqlite_synchronous=sqlite_synchronous)
        run_id = SqlRunStore(database).start_run(
            mode=RunMode.SANDBOX, strategies=["bench"], symbols=["AAPL"]
        )
        journal = SqlOrderJournal(database, run_id=run_id)
        base = datetime.now(UTC)
        intent_s: list[float] = []
        event_s: list[float] = []
        fill_s: list[float] = []
        started = time.perf_counter()
        try:
            for i in range(orders):
                at = base + timedelta(milliseconds=i)
                intent, submitting, filled, fill = _values(f"{run_id}-bench-{i}", i, at)
                t0 = time.perf_counter()
                journal.record_intent(intent)
                t1 = time.perf_counter()
                journal.record_event(submitting)
                t2 = time.perf_counter()
                journal.record_event(filled)
                t3 = time.perf_counter()
                journal.record_fill(fill, strategy_id="bench")
                t4 = time.perf_counter()
                intent_s.append(t1 - t0)
                event_s.append(t3 - t2)
                fill_s.append(t4 - t3)
            wall = time.perf_counter() - started
        finally:
            if not database.is_sqlite:
                _drop_run(database, run_id)
            database.dispose()
    pair = [a + b for a, b in zip(intent_s, event_s, strict=True)]
    return {
        "backend": "sqlite" if database.is_sqlite else "postgresql",
        "sqlite_synchronous": sqlite_synchronous if database.is_sqlite else None,
        "orders": orders,
        **_figures("intent", intent_s),
        **_figures("event", event_s),
        **_figures("intent_plus_event", pair),
        **_figures("fill", fill_s),
        "orders_per_s": round(orders / wall, 1),
    }
