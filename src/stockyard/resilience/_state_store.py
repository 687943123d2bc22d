"""Where circuit breakers share their OPEN state: the protocol and the in-process store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["BreakerStateStore", "InMemoryBreakerStateStore", "SharedOpen"]


@dataclass(frozen=True, slots=True)
class SharedOpen:
    """A breaker name is open in the shared store for ``remaining_s`` more seconds."""

    remaining_s: float
    owner: str


class BreakerStateStore(Protocol):
    """Shared OPEN state of breakers, keyed by breaker name.

    Only the OPEN state is shared: failure counts and half-open trials stay per process. A store
    holds "open until" with an owner id (the breaker instance that opened it), so a breaker can
    tell its own mark from a peer's.
    """

    @property
    def blocking(self) -> bool:
        """True when calls do I/O; async breakers then run them in a worker thread."""
        ...

    def mark_open(self, name: str, *, owner: str, cooldown_s: float) -> None:
        """Record that ``name`` is open for ``cooldown_s`` seconds, opened by ``owner``."""
        ...

    def read_open(self, name: str) -> SharedOpen | None:
        """The shared OPEN state of ``name``, or None when it is not open."""
        ...

    def clear(self, name: str, *, owner: str) -> None:
        """Remove the OPEN mark of ``name`` if ``owner`` set it (a peer's newer mark stays)."""
        ...


class InMemoryBreakerStateStore:
    """A store shared by the breakers of one process (and the default for tests)."""

    blocking = False

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, tuple[float, str]] = {}

    def mark_open(self, name: str, *, owner: str, cooldown_s: float) -> None:
        """Record that ``name`` is open for ``cooldown_s`` seconds, opened by ``owner``."""
        with self._lock:
            self._open[name] = (self._clock() + cooldown_s, owner)

    def read_open(self, name: str) -> SharedOpen | None:
        """The shared OPEN state of ``name``, or None when it is not open."""
        with self._lock:
            entry = self._open.get(name)
            if entry is None:
                return None
            remaining = entry[0] - self._clock()
            if remaining <= 0:
                del self._open[name]
                return None
            return SharedOpen(remaining_s=remaining, owner=entry[1])

    def clear(self, name: str, *, owner: str) -> None:
        """Remove the OPEN mark of ``name`` if ``owner`` set it."""
        with self._lock:
            entry = self._open.get(name)
            if entry is not None and entry[1] == owner:
                del self._open[name]
