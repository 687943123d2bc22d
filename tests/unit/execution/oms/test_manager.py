"""The order manager: intents journaled before sending, deterministic ids, updates, fills,
cancels, refusals and duplicate ids."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from memory_broker import Clock, MemoryBroker, make_manager

from stockyard.core import (
    Fill,
    OrderEventKind,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from stockyard.execution import ExchangeError, TradeEvent
from stockyard.execution.oms import (
    InMemoryOrderJournal,
    ManagedOrder,
    OrderManager,
    OrderPhase,
)


def buy(qty: str = "10", symbol: str = "AAPL") -> OrderRequest:
    return OrderRequest(symbol=symbol, side=OrderSide.BUY, qty=Decimal(qty))


def test_the_intent_is_journaled_before_the_broker_sees_anything() -> None:
    manager, broker, journal = make_manager()
    seen: list[str] = []

    def check(request: OrderRequest) -> None:
        assert request.client_order_id is not None
        recorded = {i.client_order_id: e for i, e in journal.intents()}
        assert request.client_order_id in recorded
        latest = recorded[request.client_order_id]
        assert latest is not None
        assert latest.kind is OrderEventKind.SUBMITTING
        seen.append(request.client_order_id)

    broker.on_submit = check
    view = manager.submit_sync("bot", buy())
    assert seen == ["bot-0"]
    assert view.phase is OrderPhase.SUBMITTED
    assert view.status is OrderStatus.NEW
    kinds = [e.kind for e in journal.events("bot-0")]
    assert kinds == [OrderEventKind.SUBMITTING, OrderEventKind.SUBMITTED]


def test_prepare_journals_the_intent_and_sends_nothing() -> None:
    manager, broker, journal = make_manager()
    view = manager.prepare("bot", buy())
    assert view.phase is OrderPhase.PENDING
    assert broker.submits == []
    assert [i.client_order_id for i, _ in journal.intents(open_only=True)] == ["bot-0"]
    assert asyncio.run(manager.send("bot-0")).phase is OrderPhase.SUBMITTED
    assert asyncio.run(manager.send("bot-0")).phase is OrderPhase.SUBMITTED
    assert len(broker.submits) == 1  # sending a sent order again does nothing


def test_one_journal_write_makes_an_order_durable_before_it_leaves() -> None:
    manager, broker, journal = make_manager()
    events_at_send: list[int] = []
    broker.on_submit = lambda _request: events_at_send.append(len(journal.events("bot-0")))
    manager.submit_sync("bot", buy())
    assert events_at_send == [1]  # the intent's own ``submitting``, written with it


def test_an_order_prepared_for_sending_and_lost_in_a_crash_is_looked_up_then_sent_once() -> None:
    manager, broker, journal = make_manager()
    view = manager.prepare("bot", buy(), sending=True)
    assert view.phase is OrderPhase.SUBMITTING
    assert broker.submits == []  # the process dies here, before ``send``
    restarted = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    report = restarted.start_sync()
    assert report.resubmitted == ("bot-0",)
    assert [r.client_order_id for r in broker.submits] == ["bot-0"]
    assert restarted.order("bot-0") is not None
    assert restarted.order("bot-0").phase is OrderPhase.SUBMITTED  # type: ignore[union-attr]


def test_sending_a_prepared_order_twice_sends_it_once() -> None:
    manager, broker, _journal = make_manager()
    manager.prepare("bot", buy(), sending=True)

    async def both() -> None:
        await asyncio.gather(manager.send("bot-0"), manager.send("bot-0"))

    asyncio.run(both())
    assert [r.client_order_id for r in broker.submits] == ["bot-0"]


def test_client_order_ids_continue_from_the_journal_after_a_restart() -> None:
    manager, broker, journal = make_manager()
    assert manager.submit_sync("bot", buy()).client_order_id == "bot-0"
    assert manager.submit_sync("bot", buy()).client_order_id == "bot-1"
    assert manager.submit_sync("other", buy()).client_order_id == "other-0"
    restarted = OrderManager(broker=broker, journal=journal, clock=broker.clock)
    restarted.start_sync()
    assert restarted.submit_sync("bot", buy()).client_order_id == "bot-2"
    assert [r.client_order_id for r in broker.submits] == ["bot-0", "bot-1", "other-0", "bot-2"]


def test_updates_move_the_order_forward_and_late_ones_are_ignored_and_counted() -> None:
    manager, broker, _ = make_manager()
    changes: list[ManagedOrder] = []
    manager.add_update_listener(changes.append)
    manager.submit_sync("bot", buy())
    order = broker.book["bot-0"]
    broker.fill("bot-0", "10", "101.5")
    broker.emit(TradeEvent.NEW, order)  # the stream's "new" arrives after the fill
    view = manager.order("bot-0")
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert view.filled_qty == Decimal(10)
    assert view.phase is OrderPhase.DONE
    assert manager.stats()["stale_updates_ignored"] == 1
    assert [c.status for c in changes] == [OrderStatus.NEW, OrderStatus.FILLED]
    assert manager.open_orders() == []


def test_each_fill_is_recorded_and_handed_on_once() -> None:
    manager, broker, journal = make_manager()
    got: list[tuple[str, Fill]] = []
    manager.add_fill_listener(lambda strategy, fill: got.append((strategy, fill)))
    manager.submit_sync("bot", buy())
    fill = broker.fill("bot-0", "4", "100", fee="0.01")
    broker.emit(  # the same execution delivered twice
        TradeEvent.PARTIAL_FILL,
        broker.book["bot-0"],
        price=fill.price,
        qty=fill.qty,
        execution_id=fill.id,
    )
    assert [(s, f.id, f.qty, f.fee) for s, f in got] == [("bot", "X1", Decimal(4), Decimal("0.01"))]
    assert [f.id for f in journal.fills(strategy_id="bot")] == ["X1"]
    assert manager.order("bot-0").status is OrderStatus.PARTIALLY_FILLED  # type: ignore[union-attr]


def test_a_refused_order_ends_rejected_with_the_reason() -> None:
    manager, broker, journal = make_manager()
    broker.refuse_with = ExchangeError(403, "insufficient buying power")
    changes: list[ManagedOrder] = []
    manager.add_update_listener(changes.append)
    view = manager.submit_sync("bot", buy())
    assert view.status is OrderStatus.REJECTED
    assert view.phase is OrderPhase.DONE
    assert view.detail == "403 insufficient buying power"
    assert [c.status for c in changes] == [OrderStatus.REJECTED]
    assert journal.intents(open_only=True) == []


def test_a_duplicate_client_order_id_means_it_arrived_so_it_is_looked_up_not_failed() -> None:
    manager, broker, journal = make_manager()
    view = manager.prepare("bot", buy())
    broker.put(view.request)  # it reached the broker, but we never heard back
    sent = asyncio.run(manager.send(view.client_order_id))
    assert sent.phase is OrderPhase.SUBMITTED
    assert sent.broker_order_id == "B1"
    assert len(broker.book) == 1
    assert journal.events("bot-0")[-1].kind is OrderEventKind.RECONCILED


def test_a_different_order_under_our_id_is_a_collision_and_is_not_adopted() -> None:
    manager, broker, _ = make_manager()
    view = manager.prepare("bot", buy())
    broker.put(
        OrderRequest(symbol="MSFT", side=OrderSide.SELL, qty=Decimal(1), client_order_id="bot-0")
    )
    sent = asyncio.run(manager.send(view.client_order_id))
    assert sent.status is OrderStatus.REJECTED
    assert sent.detail is not None
    assert "collision" in sent.detail


def test_cancel_goes_to_the_broker_and_the_update_ends_the_order() -> None:
    manager, broker, journal = make_manager()
    manager.submit_sync("bot", buy())
    view = manager.cancel_sync("bot-0")
    assert broker.cancels == ["B1"]
    assert view.status is OrderStatus.CANCELED
    kinds = [e.kind for e in journal.events("bot-0")]
    assert kinds[-2:] == [OrderEventKind.CANCEL_REQUESTED, OrderEventKind.UPDATE]


def test_an_order_not_yet_sent_is_canceled_here_and_never_sent() -> None:
    manager, broker, _ = make_manager()
    manager.prepare("bot", buy())
    assert manager.cancel_sync("bot-0").status is OrderStatus.CANCELED
    assert asyncio.run(manager.send("bot-0")).status is OrderStatus.CANCELED
    assert broker.submits == []


def test_a_refused_cancel_refreshes_the_order_from_the_broker() -> None:
    manager, broker, _ = make_manager()
    manager.submit_sync("bot", buy())
    broker.fill("bot-0", "10", "100", emit=False)  # filled; we have not heard yet
    view = manager.cancel_sync("bot-0")
    assert view.status is OrderStatus.FILLED


def test_bad_calls_are_refused_with_a_clear_error() -> None:
    manager, _, _ = make_manager()
    with pytest.raises(ValueError, match="no order with client_order_id 'nope'"):
        manager.cancel_sync("nope")
    with pytest.raises(ValueError, match="strategy_id"):
        manager.prepare("", buy())


def test_the_sync_path_needs_a_synchronous_broker() -> None:
    class Slow(MemoryBroker):
        @property
        def capabilities(self):  # type: ignore[no-untyped-def]
            caps = super().capabilities
            return type(caps)(name="slow", synchronous=False)

    slow = Slow(Clock())
    manager = OrderManager(broker=slow, journal=InMemoryOrderJournal(), clock=slow.clock)
    with pytest.raises(RuntimeError, match="not a synchronous broker"):
        manager.submit_sync("bot", buy())


def test_a_limit_order_keeps_its_request_with_our_client_order_id() -> None:
    manager, broker, _ = make_manager()
    request = OrderRequest(
        symbol="AAPL",
        side=OrderSide.SELL,
        qty=Decimal(5),
        type=OrderType.LIMIT,
        limit_price=Decimal("101.25"),
    )
    view = manager.submit_sync("bot", request)
    assert view.request.client_order_id == "bot-0"
    assert broker.submits[0].limit_price == Decimal("101.25")


def test_every_view_shows_the_state_of_its_moment_and_an_unchanged_order_answers_the_same() -> None:
    manager, broker, _ = make_manager()
    changes: list[ManagedOrder] = []
    manager.add_update_listener(changes.append)
    sent = manager.submit_sync("bot", buy())
    assert manager.order("bot-0") is manager.order("bot-0")  # nothing changed in between
    assert manager.order("bot-0") == sent
    broker.fill("bot-0", "4", "100")
    partly = manager.order("bot-0")
    broker.fill("bot-0", "6", "102")
    done = manager.order("bot-0")
    assert partly is not None
    assert done is not None
    assert (sent.status, sent.filled_qty) == (OrderStatus.NEW, Decimal(0))
    assert (partly.status, partly.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal(4))
    assert (done.status, done.filled_qty, done.phase) == (
        OrderStatus.FILLED,
        Decimal(10),
        OrderPhase.DONE,
    )
    assert [c.status for c in changes] == [
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    assert changes[-1] == done
