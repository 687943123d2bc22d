"""Conversions between ``BAR_SCHEMA`` tables, lists of ``Bar`` and pandas frames."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from stockyard.core._market import Bar
from stockyard.core._schema import BAR_COLUMNS, BAR_SCHEMA
from stockyard.core._timeframe import Timeframe

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "bars_to_table",
    "empty_bar_table",
    "frame_to_table",
    "table_to_bars",
    "table_to_frame",
    "validate_bar_table",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")


def empty_bar_table() -> pa.Table:
    """A table with no rows in ``BAR_SCHEMA``."""
    return BAR_SCHEMA.empty_table()


def bars_to_table(bars: Iterable[Bar]) -> pa.Table:
    """Build a ``BAR_SCHEMA`` table from bars (kept in the order given)."""
    rows = list(bars)
    columns = {
        "timestamp": pa.array([b.timestamp for b in rows], BAR_SCHEMA.field("timestamp").type),
        "open": pa.array([b.open for b in rows], pa.float64()),
        "high": pa.array([b.high for b in rows], pa.float64()),
        "low": pa.array([b.low for b in rows], pa.float64()),
        "close": pa.array([b.close for b in rows], pa.float64()),
        "volume": pa.array([b.volume for b in rows], pa.float64()),
        "trade_count": pa.array([b.trade_count for b in rows], pa.int64()),
        "vwap": pa.array([b.vwap for b in rows], pa.float64()),
    }
    return pa.Table.from_pydict(columns, schema=BAR_SCHEMA)


def table_to_bars(table: pa.Table, *, symbol: str, timeframe: Timeframe) -> list[Bar]:
    """Turn each row of a ``BAR_SCHEMA`` table into a validated ``Bar``."""
    table = table.select(list(BAR_COLUMNS)).cast(BAR_SCHEMA)
    ns = table.column("timestamp").cast(pa.int64()).to_numpy().tolist()
    columns = [table.column(name).to_pylist() for name in BAR_COLUMNS[1:]]
    bars: list[Bar] = []
    for t, o, h, lo, c, v, n, w in zip(ns, *columns, strict=True):
        # Microsecond precision: Python datetimes cannot hold nanoseconds.
        stamp = _EPOCH + timedelta(microseconds=t // 1000)
        bars.append(Bar(symbol, stamp, o, h, lo, c, v, n, w, timeframe))
    return bars


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """A pandas frame indexed by UTC ``timestamp`` with the other bar columns."""
    frame = table.select(list(BAR_COLUMNS)).to_pandas()
    return frame.set_index("timestamp")


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """Inverse of ``table_to_frame``; ``timestamp`` may be the index or a column."""
    if "timestamp" not in frame.columns:
        frame = frame.reset_index()
        if "timestamp" not in frame.columns:
            frame = frame.rename(columns={frame.columns[0]: "timestamp"})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return validate_bar_table(table)


def validate_bar_table(table: pa.Table) -> pa.Table:
    """Check a table is a valid bar table; return it in ``BAR_SCHEMA`` column order.

    Raises ``ValueError`` naming the column and first offending row when a required column
    is missing or null, a price is NaN, infinite or negative, ``low <= open, close <= high``
    fails, volume is negative, or timestamps are not strictly increasing.
    """
    missing = [name for name in _REQUIRED if name not in table.column_names]
    if missing:
        raise ValueError(f"bar table is missing column(s): {', '.join(missing)}")
    for name in ("trade_count", "vwap"):
        if name not in table.column_names:
            field = BAR_SCHEMA.field(name)
            table = table.append_column(name, pa.nulls(table.num_rows, field.type))
    table = table.select(list(BAR_COLUMNS))
    ts_type = table.schema.field("timestamp").type
    if not pa.types.is_timestamp(ts_type) or ts_type.tz is None:
        raise ValueError(f"timestamp must be a timezone-aware timestamp column, got {ts_type}")
    try:
        table = table.cast(BAR_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"bar table does not fit BAR_SCHEMA: {exc}") from exc
    _check_values(table)
    return table


def _check_values(table: pa.Table) -> None:
    for name in _REQUIRED:
        if table.column(name).null_count:
            raise ValueError(f"{name} has null values")
    values = {n: table.column(n).to_numpy() for n in ("open", "high", "low", "close", "volume")}
    for name, array in values.items():
        bad = ~((array >= 0) & np.isfinite(array))
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{name} must be finite and >= 0; row {row} has {array[row]!r}")
    for name in ("open", "close"):
        bad = (values[name] < values["low"]) | (values[name] > values["high"])
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{name} must lie within [low, high]; row {row} does not")
    counts = table.column("trade_count").fill_null(pa.scalar(0, pa.int64())).to_numpy()
    if (counts < 0).any():
        raise ValueError(f"trade_count must be >= 0; row {int(np.argmax(counts < 0))} is not")
    vwap = table.column("vwap").fill_null(pa.scalar(0.0, pa.float64())).to_numpy()
    bad_vwap = ~((vwap >= 0) & np.isfinite(vwap))
    if bad_vwap.any():
        raise ValueError(f"vwap must be finite and >= 0; row {int(np.argmax(bad_vwap))} is not")
    ns = table.column("timestamp").cast(pa.int64()).to_numpy()
    if ns.size > 1:
        steps = np.diff(ns)
        if (steps <= 0).any():
            row = int(np.argmax(steps <= 0)) + 1
            raise ValueError(f"timestamps must be strictly increasing; row {row} is not")
