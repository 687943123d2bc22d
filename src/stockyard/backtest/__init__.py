"""The backtester: results and metrics, Monte Carlo, the vectorised research path, reports.

Sub-packages: ``metrics``, ``montecarlo``, ``vector`` (numba kernels), ``report``.
"""

from stockyard.backtest._cluster import DaskPool, InlinePool, LocalPool, Pool, make_pool
from stockyard.backtest._compare import Comparison, compare, parse_entry
from stockyard.backtest._engine import BacktestConfig, EngineRun, EventEngine
from stockyard.backtest._engine_data import BarData, SymbolBars, load_file, load_source
from stockyard.backtest._engine_results import build_results, round_trips
from stockyard.backtest._engine_run import backtest, results_json
from stockyard.backtest._engine_setup import load_bars, parse_fees, parse_params, parse_slippage
from stockyard.backtest._live_vs import (
    Execution,
    MatchedTrade,
    TradeMatch,
    executions_from_fills,
    executions_from_orders,
    match_executions,
    symbol_pnl,
)
from stockyard.backtest._live_vs_report import live_vs_equity_figure, live_vs_section
from stockyard.backtest._live_vs_run import (
    LiveSession,
    LiveVsBacktest,
    live_vs_backtest,
    load_session,
    session_strategies,
)
from stockyard.backtest._random_walk import random_walk
from stockyard.backtest._results import (
    RESULTS_FORMAT,
    EquityCurve,
    OrderRecord,
    PriceSeries,
    Results,
    Trade,
)
from stockyard.backtest._settings import backtest_config
from stockyard.backtest._stored import (
    export_run,
    load_results,
    store_montecarlo,
    store_results,
    store_walkforward,
)
from stockyard.backtest._walkforward import (
    OBJECTIVES,
    WalkForwardResult,
    Window,
    WindowResult,
    walk_forward,
    windows,
)
from stockyard.backtest.metrics import Metrics, compute_metrics
from stockyard.backtest.montecarlo import MonteCarloMethod, MonteCarloResult, monte_carlo

__all__ = [
    "OBJECTIVES",
    "RESULTS_FORMAT",
    "BacktestConfig",
    "BarData",
    "Comparison",
    "DaskPool",
    "EngineRun",
    "EquityCurve",
    "EventEngine",
    "Execution",
    "InlinePool",
    "LiveSession",
    "LiveVsBacktest",
    "LocalPool",
    "MatchedTrade",
    "Metrics",
    "MonteCarloMethod",
    "MonteCarloResult",
    "OrderRecord",
    "Pool",
    "PriceSeries",
    "Results",
    "SymbolBars",
    "Trade",
    "TradeMatch",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "backtest",
    "backtest_config",
    "build_results",
    "compare",
    "compute_metrics",
    "executions_from_fills",
    "executions_from_orders",
    "export_run",
    "live_vs_backtest",
    "live_vs_equity_figure",
    "live_vs_section",
    "load_bars",
    "load_file",
    "load_results",
    "load_session",
    "load_source",
    "make_pool",
    "match_executions",
    "monte_carlo",
    "parse_entry",
    "parse_fees",
    "parse_params",
    "parse_slippage",
    "random_walk",
    "results_json",
    "round_trips",
    "session_strategies",
    "store_montecarlo",
    "store_results",
    "store_walkforward",
    "symbol_pnl",
    "walk_forward",
    "windows",
]
