"""The application's use cases (floor 6): every face (CLI, REST API, dashboard, MCP) calls
these; none holds logic of its own (DESIGN.md §8).

``TradingService`` (books, orders, kill switch, bots of every node, through ``NodeClient``:
in-process or over a node's Unix socket), ``SystemService`` (health, errors, breakers,
alerts, logs), ``ResearchService`` (backtest, walk-forward and Monte Carlo jobs, stored
runs), ``DataService`` (catalog, bars, fetch), ``ModelService`` (the ML model registry),
``AccessService`` (API keys, the audit log), ``ProcessService`` (the supervised
processes: list, start, stop, restart) and ``EventHub`` (live events).
``build_services`` wires them from the settings.
"""

import importlib
from typing import TYPE_CHECKING

from stockyard.services._access import (
    AccessService,
    AuditEntryView,
    Auditor,
    Caller,
    KeyView,
    NewKeyView,
    mask,
)
from stockyard.services._data import BarsView, BarView, CatalogEntryView, DataService, FetchSpec
from stockyard.services._errors import ServiceError
from stockyard.services._events import TOPICS, AlertEvents, Event, EventHub, jsonable
from stockyard.services._models import (
    AccountView,
    BotModelView,
    BotsView,
    BotView,
    CloseOutcome,
    FillsView,
    FillView,
    HaltRequest,
    KillState,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    ParamsChange,
    PnlLineView,
    PnlView,
    PositionsView,
    PositionView,
)
from stockyard.services._node_client import LocalNodeClient, NodeClient
from stockyard.services._node_socket import (
    NodeSocketServer,
    SocketNodeClient,
    node_app,
    node_socket_path,
    start_node_socket,
)
from stockyard.services._processes import ProcessControl, ProcessService, ProcessView
from stockyard.services._registry import (
    FeatureWeight,
    ModelDetailView,
    ModelService,
    ModelView,
)
from stockyard.services._system import LogTail, SystemService
from stockyard.services._trading import TradingService

if TYPE_CHECKING:
    from stockyard.services._hub import (
        ADMIN_KEY_NAME,
        Services,
        admin_key_path,
        build_services,
        ensure_admin_key,
    )
    from stockyard.services._research import (
        BacktestSpec,
        CompareSpec,
        JobState,
        JobView,
        MonteCarloSpec,
        ResearchService,
        RunSummary,
        WalkForwardSpec,
    )

# The research service (and build_services, which wires it) loads the backtester with numba,
# plotly and optuna: imported on first use (PEP 562), so a node process, which serves only
# its socket, starts without them.
_LAZY = {
    **dict.fromkeys(
        ("ADMIN_KEY_NAME", "Services", "admin_key_path", "build_services", "ensure_admin_key"),
        "_hub",
    ),
    **dict.fromkeys(
        (
            "BacktestSpec",
            "CompareSpec",
            "JobState",
            "JobView",
            "MonteCarloSpec",
            "ResearchService",
            "RunSummary",
            "WalkForwardSpec",
        ),
        "_research",
    ),
}

__all__ = [
    "ADMIN_KEY_NAME",
    "TOPICS",
    "AccessService",
    "AccountView",
    "AlertEvents",
    "AuditEntryView",
    "Auditor",
    "BacktestSpec",
    "BarView",
    "BarsView",
    "BotModelView",
    "BotView",
    "BotsView",
    "Caller",
    "CatalogEntryView",
    "CloseOutcome",
    "CompareSpec",
    "DataService",
    "Event",
    "EventHub",
    "FeatureWeight",
    "FetchSpec",
    "FillView",
    "FillsView",
    "HaltRequest",
    "JobState",
    "JobView",
    "KeyView",
    "KillState",
    "LocalNodeClient",
    "LogTail",
    "ModelDetailView",
    "ModelService",
    "ModelView",
    "MonteCarloSpec",
    "NewKeyView",
    "NodeClient",
    "NodeSocketServer",
    "OrderChange",
    "OrderOutcome",
    "OrderTicket",
    "OrderView",
    "OrdersView",
    "ParamsChange",
    "PnlLineView",
    "PnlView",
    "PositionView",
    "PositionsView",
    "ProcessControl",
    "ProcessService",
    "ProcessView",
    "ResearchService",
    "RunSummary",
    "ServiceError",
    "Services",
    "SocketNodeClient",
    "SystemService",
    "TradingService",
    "WalkForwardSpec",
    "admin_key_path",
    "build_services",
    "ensure_admin_key",
    "jsonable",
    "mask",
    "node_app",
    "node_socket_path",
    "start_node_socket",
]


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` (see ``_LAZY``)."""
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
