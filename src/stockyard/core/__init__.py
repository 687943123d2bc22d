"""Immutable domain types, enums, clocks and ids. Imports nothing of ours."""

from stockyard.core._schema import BAR_COLUMNS, BAR_SCHEMA
from stockyard.core._timeframe import AssetClass, Timeframe, TimeUnit

__all__ = ["BAR_COLUMNS", "BAR_SCHEMA", "AssetClass", "TimeUnit", "Timeframe"]
