"""Time: the ``Clock`` every component reads, its two kinds, and the one conversion between
aware datetimes and integer UTC nanoseconds since the epoch (the event path's time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["EPOCH", "Clock", "SimClock", "WallClock", "ns_to_datetime", "to_ns"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_ns(moment: datetime, *, name: str = "time") -> int:
    """Nanoseconds since the epoch of an aware datetime, exactly (a ``pandas.Timestamp``
    keeps its nanoseconds); a naive one is a ValueError naming ``name``."""
    if type(moment) is datetime and moment.tzinfo is UTC:  # the common case, kept fast
        return (moment - EPOCH) // _US * 1000
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    value = getattr(moment, "value", None)  # pandas.Timestamp keeps nanoseconds
    if isinstance(value, int):
        return value
    return (moment - EPOCH) // _US * 1000


def ns_to_datetime(ns: int) -> datetime:
    """The aware UTC datetime of ``ns`` nanoseconds since the epoch (microsecond precision:
    a ``datetime`` holds no finer)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


class Clock(Protocol):
    """The injected time source: wall time live, simulated time in a backtest."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class WallClock:
    """Real time, for the live parts."""

    __slots__ = ()

    def now(self) -> datetime:
        """The wall time, aware UTC."""
        return datetime.now(UTC)


class SimClock:
    """Simulated time: the host sets ``ns`` (UTC nanoseconds since the epoch) as data moves.

    It holds integer nanoseconds and makes a ``datetime`` only when someone asks (order
    path, logs), so moving it once per bar costs one attribute store.
    """

    __slots__ = ("_at", "_at_ns", "ns")

    def __init__(self, start: datetime | int = 0) -> None:
        self.ns = start if isinstance(start, int) else to_ns(start, name="the clock's start")
        self._at_ns = -1  # the ns that ``_at`` was made for (the order path asks many times)
        self._at = EPOCH

    def now(self) -> datetime:
        """The simulated time as an aware UTC datetime (microsecond precision)."""
        ns = self.ns
        if ns != self._at_ns:
            self._at = EPOCH + timedelta(microseconds=ns // 1000)
            self._at_ns = ns
        return self._at

    def set(self, at: datetime | int) -> None:
        """Move to ``at`` (a datetime or nanoseconds); simulated time may not go back."""
        ns = at if isinstance(at, int) else to_ns(at, name="the clock's time")
        if ns < self.ns:
            raise ValueError(f"the simulated clock cannot go back ({ns} < {self.ns})")
        self.ns = ns
