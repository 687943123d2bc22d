"""Issue 6's crash-safety bar: kill -9 the node at random moments while it trades against
the sandbox (at least 20 kills over 500+ orders, seeded); after every restart no order is
lost, none is sent twice, and positions equal the sandbox's exactly.

The node is the real ``stockyard run`` in a process of its own, journaling to a SQLite
file; the sandbox runs in this process at speed 120 over six stocks. A churn bot orders on
every trade print. Each run is killed with SIGKILL after a seeded random delay (some land
during start-up and reconciliation, most while orders are in flight); the next run
reconciles. After the last kill a run ends gracefully, the replay is paused, and one more
run reconciles everything that was still moving. Then the journal and the sandbox must
agree order by order, fill by fill, and position by position.
"""

from __future__ import annotations

import random
import signal
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from tests.integration.engine.conftest import (
    node_process,
    sandbox_orders,
    sandbox_positions,
    stderr_tail,
    wait_for,
)
from tests.integration.sandbox.conftest import make_config

from stockyard.core import OrderSide, OrderStatus
from stockyard.sandbox import SandboxServer
from stockyard.store import SqlOrderJournal, SqlRunStore, SqlSnapshotStore, open_database

SYMBOLS = ("AAPL", "MSFT", "SPY", "NVDA", "AMD", "TSLA")
KILLS = 22
MIN_ORDERS = 520
SEED = 20240304


def _count(home: Path, table: str) -> int:
    path = home / "state.db"
    if not path.exists():
        return 0
    database = open_database(f"sqlite:///{path}", migrate=False)
    try:
        with database.engine.connect() as connection:
            return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
    except OperationalError:  # the first node has not created the tables yet
        return 0
    finally:
        database.dispose()


def _intents(home: Path) -> int:
    return _count(home, "order_intents")


def _runs(home: Path) -> int:
    return _count(home, "runs")


@pytest.mark.timeout(300)  # about 2.5 minutes: 20+ restarts of a process
def test_kill_9_at_random_moments_loses_no_order_sends_none_twice_and_books_agree(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    home = tmp_path / "home"
    home.mkdir()
    server = SandboxServer(
        make_config(symbols=SYMBOLS, speed=120.0, cash=Decimal(10_000_000))
    ).start()
    symbols = ",".join(SYMBOLS)
    try:
        kills = attempts = 0
        while kills < KILLS:
            attempts += 1
            assert attempts <= 2 * KILLS, "the node keeps dying before it starts"
            runs_before = _runs(home)
            process = node_process(server, home, symbols=symbols)
            time.sleep(rng.uniform(2.5, 6.0))  # the chaos itself: a kill at a random moment
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            kills += _runs(home) > runs_before  # only a node that had begun counts
        before = _intents(home)
        process = node_process(server, home, symbols=symbols)
        wanted = max(MIN_ORDERS, before + 30)  # and the node is trading: its signal handler is in
        wait_for(lambda: _intents(home) >= wanted, within=90, what=f"{wanted} orders")
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, stderr_tail(home)
        server.sandbox.set_speed(0.0)  # nothing moves now: what is open stays open
        process = node_process(server, home, symbols=symbols, seconds=1.0)
        assert process.wait(60) == 0, stderr_tail(home)

        database = open_database(f"sqlite:///{home / 'state.db'}")
        runs = SqlRunStore(database).runs(limit=100)
        assert len(runs) >= KILLS + 2
        every_run = SqlOrderJournal(database, run_id=runs[0].id)  # reads span every run
        journal = every_run.intents()
        at_sandbox = sandbox_orders(server)
        assert len(journal) >= MIN_ORDERS

        # No sandbox order is unknown to the journal (so none was sent that we did not
        # intend), and each holds a distinct client order id (so none went twice).
        assert set(at_sandbox) <= {intent.client_order_id for intent, _ in journal}
        for intent, event in journal:
            coid = intent.client_order_id
            assert event is not None, f"{coid} was never sent, nor closed"
            order = at_sandbox.get(coid)
            if order is None:
                # Never reached the sandbox: it must be closed and say so.
                assert event.status is OrderStatus.REJECTED, (coid, event)
                assert event.broker_order_id is None, (coid, event)
                continue
            assert event.broker_order_id == order["id"], (coid, event, order)
            assert event.status is OrderStatus(str(order["status"])), (coid, event, order)
            assert event.filled_qty == Decimal(str(order["filled_qty"])), (coid, event, order)

        # Every fill once: per order, the journal's fills add up to what the sandbox filled.
        fills = every_run.fills()
        filled: dict[str, Decimal] = defaultdict(Decimal)
        net: dict[str, Decimal] = defaultdict(Decimal)
        for fill in fills:
            filled[fill.client_order_id] += fill.qty
            net[fill.symbol] += fill.qty if fill.side is OrderSide.BUY else -fill.qty
        assert len({f.id for f in fills}) == len(fills)
        for coid, order in at_sandbox.items():
            assert filled.get(coid, Decimal(0)) == Decimal(str(order["filled_qty"])), coid

        # Positions: the journal's, and the node's own last snapshot, equal the sandbox's.
        theirs = sandbox_positions(server)
        assert {s: q for s, q in net.items() if q} == theirs
        last_run = runs[0].id
        snapshot = SqlSnapshotStore(database).positions(last_run)
        assert {p.symbol: p.qty for p in snapshot} == theirs
        database.dispose()
    finally:
        server.stop()
