"""What a ``TradingNode`` holds only while it runs, built at start as one value.

A node that has not started has no session; a started one has a :class:`NodeSession` whose
members are never ``None``: the run's id, its order journal, the order manager over the
broker, the order route, the kernel (strategies, risk, books) and the kill switch. The
node keeps its last session after it stops (its books stay readable) and builds a new one
on its next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stockyard.core import Clock, Fill, Order
from stockyard.engine._kernel import Kernel
from stockyard.engine._kernel_router import OrderRoute, order_of
from stockyard.engine._node_books import restore_strategy
from stockyard.engine._node_safety import KillSwitch
from stockyard.execution.oms import OrderManager, ReconcileReport
from stockyard.portfolio import Portfolio
from stockyard.resilience import ErrorRegistry, MoneyPathError
from stockyard.risk import RiskEngine
from stockyard.store import SqlOrderJournal, SqlStrategyStateStore
from stockyard.strategy import Strategy, StrategyOrder

__all__ = ["NodeSession", "wire_kernel"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSession:
    """One run of a node: see the module docstring. ``opened`` is the order manager's
    reconciliation on start."""

    run_id: str
    journal: SqlOrderJournal
    manager: OrderManager
    router: OrderRoute
    kernel: Kernel
    kill_switch: KillSwitch
    opened: ReconcileReport


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelHooks:
    """Where the kernel's route delivers order updates and fills, where faults go, and who
    hears of each order sent."""

    on_order: Callable[[Order], None]
    on_fill: Callable[[Fill], None]
    on_fault: Callable[[MoneyPathError], None]
    on_submit: Callable[[StrategyOrder, str], None] | None = None


def wire_kernel(
    *,
    strategies: tuple[Strategy, ...],
    manager: OrderManager,
    journal: SqlOrderJournal,
    portfolio: Portfolio,
    states: SqlStrategyStateStore,
    clock: Clock,
    risk: RiskEngine,
    history_size: int,
    errors: ErrorRegistry,
    hooks: KernelHooks,
) -> tuple[OrderRoute, Kernel, KillSwitch]:
    """The kernel over ``manager`` with every strategy added and restored (state, own
    position, open orders), the open orders tracked, and the kill switch armed."""
    router = OrderRoute(
        manager,
        on_order=hooks.on_order,
        on_fill=hooks.on_fill,
        on_submit=hooks.on_submit,
        errors=errors,
    )
    kernel = Kernel(
        clock=clock,
        orders=router,
        risk=risk,
        portfolio=portfolio,
        history_size=history_size,
        errors=errors,
    )
    kernel.fault_listeners.append(hooks.on_fault)
    for strategy in strategies:
        kernel.add(strategy)
    for strategy in strategies:
        sid = strategy.strategy_id
        held = manager.open_orders(sid)
        restore_strategy(
            kernel.runner, strategy, journal=journal, saved=states.load(sid), open_orders=held
        )
        for managed in held:
            kernel.owners[managed.client_order_id] = sid
    for managed in manager.open_orders():
        kernel.on_order_update(order_of(managed))
    return router, kernel, KillSwitch(kernel=kernel, router=router, risk=risk)
