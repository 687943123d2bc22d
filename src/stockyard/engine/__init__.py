"""The trading kernel shared by the live node and the backtester (DESIGN.md §3).

Floor 4. One object graph — ``StrategyRunner`` → ``RiskEngine`` → order manager → broker,
with the ``Portfolio`` booked from fills — driven by an injected clock and a market-data
input. Only the clock, the feed and the broker differ between live trading and a backtest.
"""

from stockyard.engine._bots import (
    apply_bot_risk,
    bot_strategy,
    bots_from_settings,
    live_timeframe_check,
)
from stockyard.engine._kernel import Kernel, OrderRouter
from stockyard.engine._kernel_prices import LastPrices, MarkedView, PriceBook
from stockyard.engine._kernel_router import (
    LoopDriver,
    OrderRoute,
    RouteDriver,
    SyncDriver,
    order_of,
)
from stockyard.engine._node import NodeConfig, TradingNode
from stockyard.engine._node_books import NodeReconcile
from stockyard.engine._node_build import (
    ALPACA_LIVE_URL,
    ALPACA_PAPER_URL,
    BrokerKind,
    build_node,
    venue_settings,
)
from stockyard.engine._node_clock import VenueClock
from stockyard.engine._node_health import NodeHealth, node_breakers, register_node_checks
from stockyard.engine._node_metrics import (
    TRADING_METRIC_NAMES,
    NodeMetrics,
    TradingCollector,
    trading_collector,
)
from stockyard.engine._node_notify import TradeNotifier, trade_notifier
from stockyard.engine._node_safety import KILL_SWITCH_ID, KillSwitch
from stockyard.engine._node_session import NodeSession
from stockyard.engine._node_thread import NodeThread
from stockyard.engine._node_warmup import fetch_warmup, warmup_need
from stockyard.engine._settings import node_config, oms_config

__all__ = [
    "ALPACA_LIVE_URL",
    "ALPACA_PAPER_URL",
    "KILL_SWITCH_ID",
    "TRADING_METRIC_NAMES",
    "BrokerKind",
    "Kernel",
    "KillSwitch",
    "LastPrices",
    "LoopDriver",
    "MarkedView",
    "NodeConfig",
    "NodeHealth",
    "NodeMetrics",
    "NodeReconcile",
    "NodeSession",
    "NodeThread",
    "OrderRoute",
    "OrderRouter",
    "PriceBook",
    "RouteDriver",
    "SimClock",
    "SyncDriver",
    "TradeNotifier",
    "TradingCollector",
    "TradingNode",
    "VenueClock",
    "apply_bot_risk",
    "bot_strategy",
    "bots_from_settings",
    "build_node",
    "fetch_warmup",
    "live_timeframe_check",
    "node_breakers",
    "node_config",
    "oms_config",
    "order_of",
    "register_node_checks",
    "trade_notifier",
    "trading_collector",
    "venue_settings",
    "warmup_need",
]
