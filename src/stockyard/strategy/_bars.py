"""Bars as the event path carries them, and the per-symbol history a strategy may read.

``BarRow`` is a named tuple rather than ``core.Bar``: making a frozen, validated dataclass
costs microseconds, a tuple tens of nanoseconds, and the backtester pushes a million bars a
second through this path. Rows are validated where they are made in bulk (the data layer's
table checks) or converted from a validated ``core.Bar`` (:meth:`BarRow.from_bar`).

``BarHistory`` is a read-only window on a ring buffer that only the runner appends to, and
only *before* it hands the same bar to ``on_bar``. A strategy therefore can see the bar it is
being told about and the ones before it, never a later one: look-ahead is impossible by
construction, not by care.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple, overload

from stockyard.core import Bar, ns_to_datetime, to_ns

__all__ = ["BarHistory", "BarRow"]


class BarRow(NamedTuple):
    """One OHLCV bar on the event path; ``ts`` is the bar's open time in UTC nanoseconds."""

    symbol: str
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def timestamp(self) -> datetime:
        """The bar's open time as an aware UTC datetime."""
        return ns_to_datetime(self.ts)

    @classmethod
    def from_bar(cls, bar: Bar) -> BarRow:
        """The row of a validated ``core.Bar``."""
        return cls(
            bar.symbol,
            to_ns(bar.timestamp),
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
        )

    def to_bar(self) -> Bar:
        """This row as a validated ``core.Bar`` (raises ValueError if it is not a valid bar)."""
        return Bar(
            self.symbol,
            self.timestamp,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )


class BarHistory:
    """The last ``capacity`` bars of one symbol delivered so far, oldest first.

    Read-only: indexing, slicing, ``len`` and iteration. ``history[-1]`` is the bar being
    delivered now; there is no later one to read.
    """

    __slots__ = ("_rows", "symbol")

    def __init__(self, symbol: str, rows: deque[BarRow]) -> None:
        self.symbol = symbol
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> BarRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[BarRow]: ...
    def __getitem__(self, index: int | slice) -> BarRow | list[BarRow]:
        if isinstance(index, slice):
            return list(self._rows)[index]
        return self._rows[index]

    def __iter__(self) -> Iterator[BarRow]:
        return iter(self._rows)

    def __repr__(self) -> str:
        return f"BarHistory({self.symbol!r}, {len(self._rows)} bars)"

    @property
    def capacity(self) -> int:
        """How many bars are kept; older ones fall off the front."""
        return self._rows.maxlen or 0

    @property
    def latest(self) -> BarRow | None:
        """The bar delivered last, or None before the first."""
        return self._rows[-1] if self._rows else None

    def last(self, n: int) -> list[BarRow]:
        """The last ``n`` bars (fewer if fewer were delivered), oldest first."""
        if n <= 0:
            return []
        rows = self._rows
        size = len(rows)
        return [rows[i] for i in range(max(0, size - n), size)]

    def closes(self, n: int) -> list[float]:
        """Closes of the last ``n`` bars, oldest first."""
        return [row.close for row in self.last(n)]
