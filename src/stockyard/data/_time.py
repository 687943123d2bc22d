"""Small time helpers of the data layer over epoch-nanosecond columns (the conversion of
one moment is ``stockyard.core.to_ns``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from stockyard.core import to_ns

__all__ = ["table_ns", "year_start_ns", "years_of"]


def year_start_ns(year: int) -> int:
    """Epoch nanoseconds of 1 January ``year`` 00:00 UTC."""
    return to_ns(datetime(year, 1, 1, tzinfo=UTC))


def years_of(ns: np.ndarray) -> np.ndarray:
    """UTC calendar year of each epoch-nanosecond value."""
    return ns.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970


def table_ns(table: pa.Table) -> np.ndarray:
    """The ``timestamp`` column of a bar table as int64 epoch nanoseconds."""
    return table.column("timestamp").cast(pa.int64()).to_numpy()
