"""Small time helpers shared by the data layer: aware datetimes <-> UTC nanoseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

__all__ = ["from_ns", "table_ns", "to_ns", "year_start_ns", "years_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_ns(moment: datetime, *, name: str = "time") -> int:
    """Nanoseconds since the epoch for an aware datetime; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    value = getattr(moment, "value", None)  # pandas.Timestamp keeps nanoseconds
    if isinstance(value, int):
        return value
    return ((moment - _EPOCH) // _US) * 1000


def from_ns(ns: int) -> datetime:
    """An aware UTC datetime (microsecond precision) for epoch nanoseconds."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def year_start_ns(year: int) -> int:
    """Epoch nanoseconds of 1 January ``year`` 00:00 UTC."""
    return to_ns(datetime(year, 1, 1, tzinfo=UTC))


def years_of(ns: np.ndarray) -> np.ndarray:
    """UTC calendar year of each epoch-nanosecond value."""
    return ns.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970


def table_ns(table: pa.Table) -> np.ndarray:
    """The ``timestamp`` column of a bar table as int64 epoch nanoseconds."""
    return table.column("timestamp").cast(pa.int64()).to_numpy()
