"""Order management: deterministic client order ids, intents journaled before they are sent,
a state machine over Alpaca's statuses, and reconciliation with the broker."""

from stockyard.execution.oms._coid import make_client_order_id, parse_client_order_id
from stockyard.execution.oms._journal import (
    DuplicateIntentError,
    InMemoryOrderJournal,
    OrderJournal,
)
from stockyard.execution.oms._manager import OrderManager, run_now
from stockyard.execution.oms._states import LEGAL_TRANSITIONS, Verdict, judge
from stockyard.execution.oms._values import (
    EXTERNAL_STRATEGY,
    ManagedOrder,
    OmsConfig,
    OrderPhase,
    ReconcileReport,
)

__all__ = [
    "EXTERNAL_STRATEGY",
    "LEGAL_TRANSITIONS",
    "DuplicateIntentError",
    "InMemoryOrderJournal",
    "ManagedOrder",
    "OmsConfig",
    "OrderJournal",
    "OrderManager",
    "OrderPhase",
    "ReconcileReport",
    "Verdict",
    "judge",
    "make_client_order_id",
    "parse_client_order_id",
    "run_now",
    "run_oms_benchmark",
]
