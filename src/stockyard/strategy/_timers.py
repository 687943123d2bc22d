"""Strategy timers on the injected clock: one-shot or repeating, fired by ``advance(now)``.

The host (node or backtester) owns time; it calls ``StrategyRunner.advance(now)`` whenever
its clock moves (and may skip the call while ``now < next_due_ns``). A repeating timer that
fell behind (the clock jumped over a weekend) fires once and is re-armed at its next due time
after ``now``: missed ticks are not replayed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

__all__ = ["Due", "Scheduler"]

NEVER = 2**63 - 1


@dataclass(order=True, slots=True)
class _Entry:
    due_ns: int
    order: int
    owner: str = field(compare=False)
    name: str = field(compare=False)
    every_ns: int = field(compare=False)
    generation: int = field(compare=False)


@dataclass(frozen=True, slots=True)
class Due:
    """A timer that has come due."""

    owner: str
    name: str
    due_ns: int


class Scheduler:
    """Timers of every strategy of one runner, in due order (ties: order of scheduling)."""

    __slots__ = ("_counter", "_heap", "_live", "due_ns")

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._live: dict[tuple[str, str], int] = {}  # (owner, name) -> generation
        self._counter = 0
        # When the next timer is due (``NEVER`` when none is), kept current by every
        # change: a host's clock loop reads it once per bar as a plain attribute.
        self.due_ns = NEVER

    @property
    def next_due_ns(self) -> int:
        """When the next timer is due (ns since the epoch); a huge number when none is."""
        return self.due_ns

    def _settle(self) -> int:
        heap = self._heap
        while heap and self._live.get((heap[0].owner, heap[0].name)) != heap[0].generation:
            heapq.heappop(heap)  # cancelled or replaced: drop lazily
        due = self.due_ns = heap[0].due_ns if heap else NEVER
        return due

    def schedule(self, owner: str, name: str, *, due_ns: int, every_ns: int = 0) -> None:
        """Arm (or re-arm, replacing) timer ``name`` of ``owner``."""
        if every_ns < 0:
            raise ValueError(f"a timer's period must be positive, got {every_ns} ns")
        self._counter += 1
        self._live[(owner, name)] = self._counter
        heapq.heappush(
            self._heap, _Entry(due_ns, self._counter, owner, name, every_ns, self._counter)
        )
        self._settle()

    def cancel(self, owner: str, name: str | None = None) -> None:
        """Disarm one timer of ``owner``, or all of them."""
        if name is not None:
            self._live.pop((owner, name), None)
        else:
            for key in [k for k in self._live if k[0] == owner]:
                del self._live[key]
        self._settle()

    def pop_due(self, now_ns: int) -> list[Due]:
        """Every timer due at or before ``now_ns``, in order; repeating ones are re-armed."""
        fired: list[Due] = []
        while self._settle() <= now_ns:
            entry = heapq.heappop(self._heap)
            fired.append(Due(entry.owner, entry.name, entry.due_ns))
            if entry.every_ns:
                behind = (now_ns - entry.due_ns) // entry.every_ns + 1
                entry.due_ns += behind * entry.every_ns
                heapq.heappush(self._heap, entry)
            else:
                del self._live[(entry.owner, entry.name)]
        return fired
