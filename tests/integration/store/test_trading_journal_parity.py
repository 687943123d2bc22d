"""SqlOrderJournal answers exactly as the order manager's in-memory journal does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockyard.core import (
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from stockyard.execution.oms import DuplicateIntentError, InMemoryOrderJournal, OrderJournal
from stockyard.store import Database, SqlOrderJournal, SqlRunStore

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _apply(journals: list[OrderJournal], rng: random.Random, step: int) -> None:
    strategy = rng.choice(["a", "b"])
    coid = f"{strategy}-{rng.randrange(40)}"
    at = T0 + timedelta(seconds=rng.randrange(100))
    action = rng.random()
    if action < 0.35:
        intent = OrderIntent(
            client_order_id=coid,
            strategy_id=strategy,
            sequence=int(coid.split("-")[1]),
            request=OrderRequest(
                symbol="AAPL", side=OrderSide.BUY, qty=Decimal(rng.randrange(1, 9)) / 4
            ),
            created_at=at,
        )
        outcomes = []
        for journal in journals:
            try:
                journal.record_intent(intent)
                outcomes.append("ok")
            except DuplicateIntentError:
                outcomes.append("duplicate")
        assert len(set(outcomes)) == 1, (step, outcomes)
    elif action < 0.75:
        status = rng.choice([None, *OrderStatus])
        event = OrderEvent(
            client_order_id=coid,
            kind=rng.choice(list(OrderEventKind)),
            status=status,
            timestamp=at,
            filled_qty=Decimal(rng.randrange(3)),
        )
        for journal in journals:
            journal.record_event(event)
    else:
        fill = Fill(
            id=f"f{rng.randrange(30)}",
            order_id="b",
            client_order_id=coid,
            symbol="AAPL",
            side=OrderSide.SELL,
            qty=Decimal("0.5"),
            price=Decimal("100.01"),
            timestamp=at,
        )
        recorded = {journal.record_fill(fill, strategy_id=strategy) for journal in journals}
        assert len(recorded) == 1, step


def test_a_seeded_stream_of_intents_events_and_fills_reads_back_the_same(
    database: Database,
) -> None:
    run_id = SqlRunStore(database).start_run(mode="paper", strategies=["a", "b"], symbols=[])
    sql = SqlOrderJournal(database, run_id=run_id)
    memory = InMemoryOrderJournal()
    assert isinstance(sql, OrderJournal)
    journals: list[OrderJournal] = [sql, memory]
    rng = random.Random(7)
    for step in range(400):
        _apply(journals, rng, step)
        if step % 50 == 49:
            for open_only in (False, True):
                assert sql.intents(open_only=open_only) == memory.intents(open_only=open_only)
    for strategy in ("a", "b", "c"):
        assert sql.last_sequence(strategy) == memory.last_sequence(strategy)
        for since in (None, T0, T0 + timedelta(seconds=50)):
            assert sql.fills(strategy_id=strategy, since=since) == memory.fills(
                strategy_id=strategy, since=since
            )
    assert sql.fills() == memory.fills()
