"""An intent whose ``record_intent`` returned survives a kill -9 of the writing process."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from stockyard.store import SqlOrderJournal, SqlRunStore, open_database

# The child journals intents as fast as it can and prints each id once record_intent returns.
WRITER = """
import sys
from datetime import UTC, datetime
from decimal import Decimal
from stockyard.core import OrderIntent, OrderRequest, OrderSide, OrderEvent, OrderEventKind
from stockyard.store import SqlOrderJournal, SqlRunStore, open_database

database = open_database(sys.argv[1])
run_id = SqlRunStore(database).start_run(mode="sandbox", strategies=["s"], symbols=["AAPL"])
journal = SqlOrderJournal(database, run_id=run_id)
sequence = journal.last_sequence("s") + 1
while True:
    coid = f"s-{sequence}"
    now = datetime.now(UTC)
    request = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal("1.5"))
    journal.record_intent(OrderIntent(
        client_order_id=coid, strategy_id="s", sequence=sequence, request=request, created_at=now
    ))
    print(coid, flush=True)
    journal.record_event(OrderEvent(
        client_order_id=coid, kind=OrderEventKind.SUBMITTING, status=None, timestamp=now
    ))
    sequence += 1
"""


def _kill_after(url: str, acknowledged: int) -> list[str]:
    """Start a writer, SIGKILL it once it has acknowledged ``acknowledged`` intents."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    seen: list[str] = []
    try:
        while len(seen) < acknowledged:
            line = child.stdout.readline()
            assert line, f"the writer died early: {child.stderr.read() if child.stderr else ''}"
            seen.append(line.strip())
        child.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next one
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return seen + [line for line in rest.splitlines() if line]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_acknowledged_intent_is_in_the_database_after_kill_9(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    open_database(url).dispose()  # migrate once, before the writers race to
    rng = random.Random(20260105)
    acknowledged: list[str] = []
    for _ in range(4):
        acknowledged += _kill_after(url, rng.randint(20, 150))
    with open_database(url) as database:
        if database.is_sqlite:
            with database.engine.connect() as connection:
                assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        runs = SqlRunStore(database).runs()
        assert len(runs) == 4
        assert all(run.stopped_at is None for run in runs)  # killed, never stopped
        journal = SqlOrderJournal(database, run_id=runs[0].id)
        stored = [intent.client_order_id for intent, _ in journal.intents()]
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))
    # each restart went on from the last durable sequence: no gaps beyond the one in flight
    assert sorted(int(c.split("-")[1]) for c in stored) == list(range(len(stored)))
