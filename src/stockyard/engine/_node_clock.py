"""The live node's clock when the venue keeps its own time: the sandbox's replay clock.

On Alpaca (paper or live) the venue's time is wall time and the node uses ``WallClock``.
The sandbox replays a past session at a speed factor, so its "now" is, for example,
10:31 on 4 March 2024 while the wall says today. Risk (price age, market hours), order
timestamps and the order manager's reconciliation windows must all be judged in the
venue's time, or every market order would be refused as stale and reconciliation would
look for fills after a moment the venue has not reached. ``VenueClock`` follows the venue:
it is seeded from the venue's clock at start and moved forward by every timestamp the
venue sends (market data, trade updates). It never goes back.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["VenueClock"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class VenueClock:
    """The newest venue time seen: ``seed`` (the venue's clock) and ``observe`` (events)."""

    __slots__ = ("_now", "_seeded")

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the venue clock needs an aware datetime")
        self._now = start if start is not None else _EPOCH
        self._seeded = start is not None

    @property
    def seeded(self) -> bool:
        """Whether the clock has been told the venue's time at least once."""
        return self._seeded

    def now(self) -> datetime:
        """The newest venue time seen (UTC)."""
        return self._now

    def seed(self, at: datetime) -> None:
        """The venue's own clock said ``at`` (on start); the clock moves there if later."""
        self.observe(at)
        self._seeded = True

    def observe(self, at: datetime) -> None:
        """An event stamped ``at`` came from the venue; move forward to it (never back)."""
        if at > self._now:
            self._now = at.astimezone(UTC) if at.tzinfo is not UTC else at
