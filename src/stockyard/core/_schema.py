"""The one columnar schema for bulk bars (Arrow tables, pandas frames)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["BAR_COLUMNS", "BAR_SCHEMA"]

BAR_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trade_count",
    "vwap",
)

# Timestamps are bar *open* times in UTC, nanosecond precision. Prices are float64: this is
# the research and storage path; money that reaches a broker is converted to Decimal there.
_FIELDS: list[pa.Field[Any]] = [
    pa.field("timestamp", pa.timestamp("ns", tz="UTC"), nullable=False),
    pa.field("open", pa.float64(), nullable=False),
    pa.field("high", pa.float64(), nullable=False),
    pa.field("low", pa.float64(), nullable=False),
    pa.field("close", pa.float64(), nullable=False),
    pa.field("volume", pa.float64(), nullable=False),
    pa.field("trade_count", pa.int64(), nullable=True),
    pa.field("vwap", pa.float64(), nullable=True),
]
BAR_SCHEMA: pa.Schema = pa.schema(_FIELDS)
