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

if TYPE_CHECKING:
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
    from stockyard.services._hub import (
        ADMIN_KEY_NAME,
        Services,
        admin_key_path,
        build_services,
        ensure_admin_key,
    )
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
    from stockyard.services._system import LogTail, SystemService
    from stockyard.services._trading import TradingService

# Each name is imported from its module on first use (PEP 562): a process loads only the
# services it uses (a node its socket, `stockyard stop` the Process service), not the
# research service's backtester (numba, plotly, optuna) or a node's engine with the rest.
_LAZY = {
    "AccessService": "_access",
    "AuditEntryView": "_access",
    "Auditor": "_access",
    "Caller": "_access",
    "KeyView": "_access",
    "NewKeyView": "_access",
    "mask": "_access",
    "BarView": "_data",
    "BarsView": "_data",
    "CatalogEntryView": "_data",
    "DataService": "_data",
    "FetchSpec": "_data",
    "ServiceError": "_errors",
    "AlertEvents": "_events",
    "Event": "_events",
    "EventHub": "_events",
    "TOPICS": "_events",
    "jsonable": "_events",
    "ADMIN_KEY_NAME": "_hub",
    "Services": "_hub",
    "admin_key_path": "_hub",
    "build_services": "_hub",
    "ensure_admin_key": "_hub",
    "AccountView": "_models",
    "BotModelView": "_models",
    "BotView": "_models",
    "BotsView": "_models",
    "CloseOutcome": "_models",
    "FillView": "_models",
    "FillsView": "_models",
    "HaltRequest": "_models",
    "KillState": "_models",
    "OrderChange": "_models",
    "OrderOutcome": "_models",
    "OrderTicket": "_models",
    "OrderView": "_models",
    "OrdersView": "_models",
    "ParamsChange": "_models",
    "PnlLineView": "_models",
    "PnlView": "_models",
    "PositionView": "_models",
    "PositionsView": "_models",
    "LocalNodeClient": "_node_client",
    "NodeClient": "_node_client",
    "NodeSocketServer": "_node_socket",
    "SocketNodeClient": "_node_socket",
    "node_app": "_node_socket",
    "node_socket_path": "_node_socket",
    "start_node_socket": "_node_socket",
    "ProcessControl": "_processes",
    "ProcessService": "_processes",
    "ProcessView": "_processes",
    "FeatureWeight": "_registry",
    "ModelDetailView": "_registry",
    "ModelService": "_registry",
    "ModelView": "_registry",
    "BacktestSpec": "_research",
    "CompareSpec": "_research",
    "JobState": "_research",
    "JobView": "_research",
    "MonteCarloSpec": "_research",
    "ResearchService": "_research",
    "RunSummary": "_research",
    "WalkForwardSpec": "_research",
    "LogTail": "_system",
    "SystemService": "_system",
    "TradingService": "_trading",
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
