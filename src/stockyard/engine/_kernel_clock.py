"""The two clocks of the kernel: simulated time (backtest, replay) and wall time (live).

Both satisfy ``stockyard.strategy.Clock``. The simulated clock holds integer nanoseconds
and makes a ``datetime`` only when someone asks (order path, logs), so moving it once per
bar costs one attribute store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["SimClock", "WallClock"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class SimClock:
    """Simulated time: the host sets ``ns`` (UTC nanoseconds since the epoch) as data moves."""

    __slots__ = ("_at", "_at_ns", "ns")

    def __init__(self, start: datetime | int = 0) -> None:
        self.ns = start if isinstance(start, int) else _to_ns(start)
        self._at_ns = -1  # the ns that ``_at`` was made for (the order path asks many times)
        self._at = _EPOCH

    def now(self) -> datetime:
        """The simulated time as an aware UTC datetime (microsecond precision)."""
        ns = self.ns
        if ns != self._at_ns:
            self._at = _EPOCH + timedelta(microseconds=ns // 1000)
            self._at_ns = ns
        return self._at

    def set(self, at: datetime | int) -> None:
        """Move to ``at`` (a datetime or nanoseconds); simulated time may not go back."""
        ns = at if isinstance(at, int) else _to_ns(at)
        if ns < self.ns:
            raise ValueError(f"the simulated clock cannot go back ({ns} < {self.ns})")
        self.ns = ns


class WallClock:
    """Real time, for the live node."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)


def _to_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"the clock needs an aware datetime, got {moment.isoformat()}")
    return (moment - _EPOCH) // _US * 1000
