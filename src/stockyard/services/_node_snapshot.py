"""``ReadSnapshot``: the positions and account of a node of this process, built on the
node's event loop and read from any thread without handing the read over to that loop.

A hot read (``GET /api/v1/positions`` at thousands per second) served by hopping onto the
node's loop waits for two cross-thread wake-ups and two hand-overs of the GIL per request
(each up to the interpreter's 5 ms switch interval while the other thread is busy): that
was the tail of ``bench api``. Here, while reads come, the node's loop rebuilds the
snapshot every ``refresh_s`` on a timer of its own (no wake-up from the reading thread),
and a read takes the latest one when it is at most ``max_age_s`` old; an older one is never
served (that read waits for a new one, built on the node's loop). So a read reflects the
node's state as of at most ``max_age_s`` before it was answered: whatever the node
processed earlier than that is in it. A tick builds only when a read came since the last
build, and the timer stops after ``idle_s`` without a read, so a slow poller (a dashboard
once a second) costs one build per read, not a rebuild every ``refresh_s``.

Building is done on the node's loop only (the node is not thread-safe); the snapshot is an
immutable value, swapped in by one reference assignment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from stockyard.obs import get_logger
from stockyard.services._models import AccountView, PositionsView

__all__ = ["IDLE_S", "MAX_AGE_S", "REFRESH_S", "ReadSnapshot", "Snapshot"]

MAX_AGE_S = 0.010
"""A snapshot older than this (seconds) is never served: the bound on a read's staleness."""

REFRESH_S = 0.002
"""While reads come, the node's loop rebuilds the snapshot this often (seconds)."""

IDLE_S = 0.05
"""The rebuilding stops after this long (seconds) without a read."""

_log = get_logger("services")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the hot reads answer, as of ``at`` (``time.monotonic()`` on the node's loop,
    taken before reading the node: the state is at least that recent)."""

    at: float
    positions: PositionsView
    account: AccountView


class ReadSnapshot:
    """The latest ``Snapshot`` of a node whose loop is ``loop``; ``build`` reads the node
    (called on ``loop`` only)."""

    def __init__(
        self,
        build: Callable[[float], Snapshot],
        loop: asyncio.AbstractEventLoop,
        *,
        max_age_s: float = MAX_AGE_S,
        refresh_s: float = REFRESH_S,
        idle_s: float = IDLE_S,
    ) -> None:
        if not 0 < refresh_s < max_age_s:
            raise ValueError("need 0 < refresh_s < max_age_s")
        self._build = build
        self._loop = loop
        self.max_age_s = max_age_s
        self.refresh_s = refresh_s
        self.idle_s = idle_s
        self._latest: Snapshot | None = None
        self._ticking = False
        self._last_read = 0.0
        self._built_at = 0.0
        self.served = 0
        self.built = 0

    @property
    def ticking(self) -> bool:
        """Whether the node's loop is rebuilding the snapshot on its timer."""
        return self._ticking

    def fresh(self) -> Snapshot | None:
        """The latest snapshot when at most ``max_age_s`` old, else None (from any thread;
        starts the node loop's rebuilding when it is not running)."""
        now = self._last_read = time.monotonic()
        latest = self._latest  # what there was when asked (the tick started below may build)
        if not self._ticking:
            self._ticking = True
            try:
                self._loop.call_soon_threadsafe(self._tick)
            except RuntimeError:  # the node's loop is closed: nothing newer will come
                self._ticking = False
                return None
        if latest is None or now - latest.at > self.max_age_s:
            return None
        self.served += 1
        return latest

    def refresh(self) -> Snapshot:
        """Build a new snapshot now; on the node's loop only. Errors propagate."""
        made = self._build(self._stamp())
        self._latest = made
        self.built += 1
        return made

    def current(self) -> Snapshot:
        """On the node's loop: the latest snapshot while it is at most ``max_age_s`` old,
        else a new one (reads that waited together share one build)."""
        latest = self._latest
        if latest is not None and time.monotonic() - latest.at <= self.max_age_s:
            return latest
        return self.refresh()

    def _stamp(self) -> float:
        self._built_at = time.monotonic()
        return self._built_at

    def invalidate(self) -> None:
        """Forget the snapshot (on the node's loop, after a control verb changed the node):
        the next read waits for a new one, so a caller reads what it just did."""
        self._latest = None

    def _tick(self) -> None:
        """On the node's loop: rebuild when a read came since the last build, and look
        again in ``refresh_s`` while reads come."""
        if self._last_read >= self._built_at:
            try:
                self.refresh()
            except Exception as exc:  # e.g. the node not started: the read that waits says so
                self._latest = None
                _log.debug("read snapshot not built", error=repr(exc))
        if time.monotonic() - self._last_read > self.idle_s:
            self._ticking = False
            return
        self._loop.call_later(self.refresh_s, self._tick)
