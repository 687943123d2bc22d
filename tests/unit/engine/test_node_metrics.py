"""The trading collector: one family per metric whatever the number of nodes, each node
named apart, and a stopped node's series gone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry, generate_latest

from stockyard.core import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from stockyard.engine import TRADING_METRIC_NAMES, trading_collector
from stockyard.engine._node_metrics import BooksSnapshot

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def test_two_nodes_of_one_mode_are_named_apart_and_detach_cleanly() -> None:
    registry = CollectorRegistry()
    collector = trading_collector(registry)
    assert trading_collector(registry) is collector  # one per registry
    first, second = collector.attach("sandbox"), collector.attach("sandbox")
    assert (first.name, second.name) == ("sandbox", "sandbox-2")
    first.refresh(BooksSnapshot(equity=100.5, cash=40.25, realized=(("bot", 1.5),)))
    first.after_market(2, 0.003, bar=True)
    text = generate_latest(registry).decode()
    assert 'stockyard_account_equity_dollars{node="sandbox"} 100.5' in text
    assert 'stockyard_bot_realized_pnl_dollars{bot="bot",node="sandbox"} 1.5' in text
    assert 'stockyard_bar_to_order_seconds_count{node="sandbox",on="bar"} 2.0' in text
    assert text.count("# TYPE stockyard_account_cash_dollars gauge") == 1
    collector.detach(first)
    text = generate_latest(registry).decode()
    assert 'node="sandbox"' not in text
    assert 'stockyard_account_cash_dollars{node="sandbox-2"} 0.0' in text


def test_every_exported_family_is_listed() -> None:
    registry = CollectorRegistry()
    collector = trading_collector(registry)
    collector.attach("paper")
    text = generate_latest(registry).decode()
    helped = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    helped = {n for n in helped if not n.endswith("_created")}  # the histogram's own
    assert helped == set(TRADING_METRIC_NAMES)


def test_an_orders_final_state_is_counted_once_and_a_rejection_by_the_broker_too() -> None:
    registry = CollectorRegistry()
    metrics = trading_collector(registry).attach("live")
    rejected = Order(
        id="b-1",
        client_order_id="bot-1",
        symbol="AAPL",
        side=OrderSide.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.DAY,
        status=OrderStatus.REJECTED,
        created_at=T0,
        updated_at=T0,
        qty=Decimal(1),
    )
    working = dataclasses.replace(rejected, client_order_id="bot-2", status=OrderStatus.NEW)
    for order in (working, rejected, rejected):  # the final update may come twice
        metrics.on_order(order, "bot")
    text = generate_latest(registry).decode()
    assert 'stockyard_orders_total{bot="bot",node="live",state="rejected"} 1.0' in text
    assert 'stockyard_order_rejections_total{bot="bot",by="broker",node="live"} 1.0' in text
    assert 'state="new"' not in text  # a working order has no final state yet
