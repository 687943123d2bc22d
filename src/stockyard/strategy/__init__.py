"""The Strategy API: parameters, hooks, verbs, the runner, built-in bots and the registry.

Floor 3. Imports the floors below and ``stockyard.portfolio`` (read-only views) only.
"""

from stockyard.strategy._bars import BarHistory, BarRow
from stockyard.strategy._base import JSONValue, Number, Strategy, StrategyError
from stockyard.strategy._context import OpenOrder, StrategyContext
from stockyard.strategy._gateway import OrderGateway, StrategyOrder, SubmitResult, TimerEvent
from stockyard.strategy._market import MarketView, PriceBook
from stockyard.strategy._params import Param, ParameterError, ParamValue, param
from stockyard.strategy._registry import (
    available_strategies,
    create_strategy,
    register_strategy,
    strategy_class,
)
from stockyard.strategy._runner import StrategyRunner
from stockyard.strategy._snapshot import StrategyFailure, StrategySnapshot, StrategyStatus
from stockyard.strategy.bots import MeanReversion, Momentum, Pairs, SmaCross

__all__ = [
    "BarHistory",
    "BarRow",
    "JSONValue",
    "MarketView",
    "MeanReversion",
    "Momentum",
    "Number",
    "OpenOrder",
    "OrderGateway",
    "Pairs",
    "Param",
    "ParamValue",
    "ParameterError",
    "PriceBook",
    "SmaCross",
    "Strategy",
    "StrategyContext",
    "StrategyError",
    "StrategyFailure",
    "StrategyOrder",
    "StrategyRunner",
    "StrategySnapshot",
    "StrategyStatus",
    "SubmitResult",
    "TimerEvent",
    "available_strategies",
    "create_strategy",
    "param",
    "register_strategy",
    "strategy_class",
]
