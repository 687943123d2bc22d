"""The one interface every historical bar source implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import pyarrow as pa

from stockyard.core import Timeframe

__all__ = ["BarTables", "HistoricalSource"]

# symbol -> table in ``stockyard.core.BAR_SCHEMA``, sorted by timestamp, no duplicate
# timestamps. A symbol the source has nothing for in the range is absent from the mapping.
BarTables = Mapping[str, pa.Table]


@runtime_checkable
class HistoricalSource(Protocol):
    """A place bars come from: synthetic, local Parquet, S3/MinIO, Alpaca, a chain of them."""

    @property
    def name(self) -> str:
        """Short name for logs and provenance (``synthetic``, ``local``, ``s3``, ``alpaca``)."""
        ...

    def get_bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        start: datetime,
        end: datetime,
    ) -> BarTables:
        """Bars with ``start <= timestamp < end`` (timezone-aware datetimes, UTC)."""
        ...
