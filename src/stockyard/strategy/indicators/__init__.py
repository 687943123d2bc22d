"""Streaming indicators for the event path: O(1) per update, floats in, NaN until warm."""

from stockyard.strategy.indicators._atr import ATR, RollingOLS
from stockyard.strategy.indicators._rolling import (
    MovingAveragePair,
    RollingMax,
    RollingMean,
    RollingMin,
    RollingStd,
)

__all__ = [
    "ATR",
    "MovingAveragePair",
    "RollingMax",
    "RollingMean",
    "RollingMin",
    "RollingOLS",
    "RollingStd",
]
