"""The node's books on start: rebuilt from the order journal, then checked against the broker.

The journal is the node's memory across crashes. On start the portfolio is rebuilt from
every journaled fill, with the opening cash chosen so that cash equals the broker's; each
strategy gets back its own position (from its own journaled fills), its saved state and
its open orders. Then the books are compared with the broker's positions and cash and
every difference is corrected to the broker's figure and logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from stockyard.core import Fill, OrderSide
from stockyard.execution import Broker
from stockyard.execution.oms import ManagedOrder, OrderJournal
from stockyard.obs import get_logger
from stockyard.portfolio import Correction, Portfolio
from stockyard.strategy import (
    OpenOrder,
    Strategy,
    StrategyRunner,
    StrategySnapshot,
)

__all__ = ["NodeReconcile", "missing_fills", "opening_portfolio", "restore_strategy"]

_ZERO = Decimal(0)
_LOOKBACK = timedelta(minutes=5)  # broker and node clocks differ; fills dedupe by id
_log = get_logger("trading")


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeReconcile:
    """One reconciliation of the node with the broker: why it ran, what it corrected."""

    at: datetime
    reason: str
    orders_corrected: int
    resubmitted: tuple[str, ...]
    given_up: tuple[str, ...]
    missing: tuple[str, ...]
    corrections: tuple[Correction, ...]


def _signed(fill: Fill) -> Decimal:
    return fill.qty if fill.side is OrderSide.BUY else -fill.qty


async def missing_fills(journal: OrderJournal, broker: Broker) -> int:
    """Record the fills of orders whose journaled filled quantity exceeds their journaled
    fills (a crash between the two writes); answers how many were recorded.

    The order manager now journals every fill before the state that counts it, so it never
    writes such an order; this recovery remains for journals written by older versions."""
    recorded: dict[str, Decimal] = {}
    for fill in journal.fills():
        recorded[fill.client_order_id] = recorded.get(fill.client_order_id, _ZERO) + fill.qty
    short = {
        intent.client_order_id: intent
        for intent, event in journal.intents()
        if event is not None and event.filled_qty > recorded.get(intent.client_order_id, _ZERO)
    }
    if not short:
        return 0
    since = min(i.created_at for i in short.values()) - _LOOKBACK
    found = 0
    for fill in await broker.fills(since=since):
        intent = short.get(fill.client_order_id)
        if intent is not None and journal.record_fill(fill, strategy_id=intent.strategy_id):
            found += 1
            _log.warning(
                "missed fill recovered from the broker",
                client_order_id=fill.client_order_id,
                fill_id=fill.id,
                qty=str(fill.qty),
                price=str(fill.price),
            )
    return found


def opening_portfolio(fills: Iterable[Fill], *, broker_cash: Decimal) -> Portfolio:
    """A portfolio holding every journaled fill, its cash equal to ``broker_cash``."""
    rows = list(fills)
    spent = sum((_signed(f) * f.price + f.fee for f in rows), _ZERO)
    portfolio = Portfolio(broker_cash + spent)
    for fill in rows:
        portfolio.apply(fill)
    return portfolio


def restore_strategy(
    runner: StrategyRunner,
    strategy: Strategy,
    *,
    journal: OrderJournal,
    saved: dict[str, object] | None,
    open_orders: Iterable[ManagedOrder],
) -> None:
    """Give ``strategy`` (added, not started) its state, own position and open orders."""
    sid = strategy.strategy_id
    positions: dict[str, Decimal] = {}
    for fill in journal.fills(strategy_id=sid):
        positions[fill.symbol] = positions.get(fill.symbol, _ZERO) + _signed(fill)
    seq, state = 0, {}
    if saved and saved.get("strategy_id") == sid:
        snapshot = StrategySnapshot.from_json(saved)  # type: ignore[arg-type]  # JSON we wrote
        seq, state = snapshot.seq, dict(snapshot.state)
    runner.restore(
        StrategySnapshot(
            strategy_id=sid,
            name=strategy.name,
            seq=seq,
            state=state,
            positions={k: v for k, v in positions.items() if v},
        )
    )
    ctx = strategy.context
    for managed in open_orders:
        request = managed.request
        held = OpenOrder(
            client_order_id=managed.client_order_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty if request.qty is not None else _ZERO,
        )
        held.filled = managed.filled_qty
        ctx.open_orders[managed.client_order_id] = held
