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

from stockyard.services._access import (
    AccessService,
    AuditEntryView,
    Auditor,
    Caller,
    KeyView,
    NewKeyView,
    mask,
)
from stockyard.services._data import (
    BarsView,
    BarView,
    CatalogEntryView,
    DataService,
    FetchSpec,
    GapsView,
    GapView,
)
from stockyard.services._errors import ServiceError
from stockyard.services._events import TOPICS, AlertEvents, Event, EventHub, TopicRate, jsonable
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
    EquityPointView,
    EquityView,
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
from stockyard.services._processes import (
    ProcessControl,
    ProcessService,
    ProcessView,
    ResourceSample,
)
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
    RunCompareView,
    RunSummary,
    WalkForwardSpec,
)
from stockyard.services._system import LogTail, SystemService
from stockyard.services._trading import EQUITY_SPANS, TradingService

__all__ = [
    "ADMIN_KEY_NAME",
    "EQUITY_SPANS",
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
    "EquityPointView",
    "EquityView",
    "Event",
    "EventHub",
    "FeatureWeight",
    "FetchSpec",
    "FillView",
    "FillsView",
    "GapView",
    "GapsView",
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
    "ResourceSample",
    "RunCompareView",
    "RunSummary",
    "ServiceError",
    "Services",
    "SocketNodeClient",
    "SystemService",
    "TopicRate",
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
