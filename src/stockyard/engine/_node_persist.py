"""What the node writes to the state database while it runs and when it stops: each
strategy's state, an equity snapshot, a positions snapshot and the error counts."""

from __future__ import annotations

from dataclasses import dataclass

from stockyard.core import Clock
from stockyard.engine._kernel import Kernel
from stockyard.obs import get_logger
from stockyard.resilience import ErrorRegistry
from stockyard.store import EquitySnapshot, SqlErrorStore, SqlSnapshotStore, SqlStrategyStateStore

__all__ = ["NodeStores", "persist_node"]

_log = get_logger("trading")


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStores:
    """Where a node keeps what outlives it."""

    states: SqlStrategyStateStore
    snapshots: SqlSnapshotStore
    errors: SqlErrorStore


def persist_node(
    stores: NodeStores, *, kernel: Kernel, run_id: str, clock: Clock, errors: ErrorRegistry
) -> None:
    """Save strategy states (a strategy whose state is not JSON is skipped and logged),
    then the equity and positions snapshots, then sync the error counts."""
    runner = kernel.runner
    saved = 0
    for strategy in runner.strategies:
        snapshot = runner.snapshot(strategy.strategy_id)
        if snapshot is None:
            continue
        try:
            stores.states.save(strategy.strategy_id, snapshot.to_json())
            saved += 1
        except ValueError as exc:
            _log.error("strategy state not saved", strategy=strategy.strategy_id, error=str(exc))
    now = clock.now()
    equity = kernel.mark()
    portfolio = kernel.portfolio
    exposure = kernel.view.exposure()
    stores.snapshots.record_equity(
        run_id,
        EquitySnapshot(
            timestamp=now,
            equity=equity,
            cash=portfolio.cash,
            gross_exposure=exposure.gross,
            net_exposure=exposure.net,
            realized_pl=portfolio.realized_pl(),
            unrealized_pl=portfolio.unrealized_pl(),
        ),
    )
    stores.snapshots.record_positions(
        run_id, timestamp=now, positions=list(kernel.view.positions().values())
    )
    stores.errors.sync(errors)
    _log.debug("node state saved", strategies=saved, equity=str(equity))
