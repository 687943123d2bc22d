"""The MCP server for AI assistants (floor 7), safe by default: every tool calls a service
(the same risk gate and audit log as the REST API), orders go to the sandbox or paper unless
live is allowed for MCP, and every order is under a per-order notional cap.

Two ways to serve it: ``serve_stdio`` (``stockyard mcp``: stdin/stdout, reaching the running
system through ``stockyard.client``) and ``mount_mcp`` (streamable HTTP at ``/mcp`` on the
hub, with an API key). Both build the same tools with ``build_server`` over a ``Backend``:
``LocalBackend`` (the hub's services) or ``HttpBackend`` (``/api/v1``).
"""

from stockyard.mcp._backend import MARKET_TOPICS, Backend, LocalBackend
from stockyard.mcp._catalog import ParamInfo, StrategyInfo, strategy_catalog, strategy_doc
from stockyard.mcp._http import HttpBackend
from stockyard.mcp._hub import MCP_PATH, mount_mcp
from stockyard.mcp._safety import McpPolicy, as_data, check_order
from stockyard.mcp._server import INSTRUCTIONS, build_server, masked_settings
from stockyard.mcp._stdio import NoSystemError, check_system, serve_stdio
from stockyard.mcp._tools_system import JobAnswer
from stockyard.mcp._tools_trading import QuoteView, SnapshotView, TradingMode

__all__ = [
    "INSTRUCTIONS",
    "MARKET_TOPICS",
    "MCP_PATH",
    "Backend",
    "HttpBackend",
    "JobAnswer",
    "LocalBackend",
    "McpPolicy",
    "NoSystemError",
    "ParamInfo",
    "QuoteView",
    "SnapshotView",
    "StrategyInfo",
    "TradingMode",
    "as_data",
    "build_server",
    "check_order",
    "check_system",
    "masked_settings",
    "mount_mcp",
    "serve_stdio",
    "strategy_catalog",
    "strategy_doc",
]
