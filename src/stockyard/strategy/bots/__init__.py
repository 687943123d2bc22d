"""The built-in bots: ``sma_cross``, ``mean_reversion``, ``momentum``, ``pairs``."""

from stockyard.strategy.bots._mean_reversion import MeanReversion
from stockyard.strategy.bots._momentum import Momentum
from stockyard.strategy.bots._pairs import Pairs
from stockyard.strategy.bots._sma_cross import SmaCross

__all__ = ["BUILTIN", "MeanReversion", "Momentum", "Pairs", "SmaCross"]

BUILTIN = (SmaCross, MeanReversion, Momentum, Pairs)
