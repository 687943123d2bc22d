"""Immutable domain types, enums, clocks and ids. Imports nothing of ours."""

from stockyard.core._clock import EPOCH, Clock, SimClock, WallClock, ns_to_datetime, to_ns
from stockyard.core._frozen import copier, maker
from stockyard.core._journal import OrderEvent, OrderEventKind, OrderIntent
from stockyard.core._market import Bar, Quote, Trade
from stockyard.core._orders import (
    TERMINAL_STATUSES,
    Account,
    Fill,
    Order,
    OrderClass,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    to_decimal,
)
from stockyard.core._schema import BAR_COLUMNS, BAR_SCHEMA
from stockyard.core._tables import (
    bars_to_table,
    empty_bar_table,
    frame_to_table,
    table_to_bars,
    table_to_frame,
    validate_bar_table,
)
from stockyard.core._timeframe import AssetClass, Timeframe, TimeUnit

__all__ = [
    "BAR_COLUMNS",
    "BAR_SCHEMA",
    "EPOCH",
    "TERMINAL_STATUSES",
    "Account",
    "AssetClass",
    "Bar",
    "Clock",
    "Fill",
    "Order",
    "OrderClass",
    "OrderEvent",
    "OrderEventKind",
    "OrderIntent",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionSide",
    "Quote",
    "SimClock",
    "TimeInForce",
    "TimeUnit",
    "Timeframe",
    "Trade",
    "WallClock",
    "bars_to_table",
    "copier",
    "empty_bar_table",
    "frame_to_table",
    "maker",
    "ns_to_datetime",
    "table_to_bars",
    "table_to_frame",
    "to_decimal",
    "to_ns",
    "validate_bar_table",
]
