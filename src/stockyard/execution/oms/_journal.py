"""``OrderJournal``: where the order manager writes intents, events and fills, durably.

The SQL implementation lives in ``stockyard.store`` (floor 2), which implements this Protocol
structurally from the ``core`` values; ``InMemoryOrderJournal`` serves tests and backtests.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Protocol, runtime_checkable

from stockyard.core import Fill, OrderEvent, OrderIntent
from stockyard.resilience import DuplicateIntentError

__all__ = ["DuplicateIntentError", "InMemoryOrderJournal", "OrderJournal"]


@runtime_checkable
class OrderJournal(Protocol):
    """The order manager's durable record.

    - ``record_intent``: durable when it returns; a ``client_order_id`` already recorded raises
      ``DuplicateIntentError`` and writes nothing. ``first_event`` (the intent's own) is
      written with it, in the same transaction: both or neither.
    - ``record_event``: appended; an intent's *latest* event is the one recorded last.
    - ``record_fill``: ``False`` (and nothing written) when that fill id was already recorded.
    - ``intents``: every intent with its latest event (``None`` before the first), in the
      order recorded; ``open_only`` keeps those whose latest event has no terminal status
      (``status`` is ``None`` or not in ``TERMINAL_STATUSES``).
    - ``fills``: in the order recorded, optionally one strategy's and strictly after ``since``
      (by ``Fill.timestamp``).
    - ``last_sequence``: the highest ``sequence`` of ``strategy_id``'s intents, -1 when none.
    """

    def record_intent(
        self, intent: OrderIntent, *, first_event: OrderEvent | None = None
    ) -> None: ...

    def record_event(self, event: OrderEvent) -> None: ...

    def record_fill(self, fill: Fill, *, strategy_id: str) -> bool: ...

    def intents(
        self, *, open_only: bool = False
    ) -> list[tuple[OrderIntent, OrderEvent | None]]: ...

    def fills(
        self, *, strategy_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]: ...

    def last_sequence(self, strategy_id: str) -> int: ...


class InMemoryOrderJournal:
    """An ``OrderJournal`` in memory (thread-safe); gone when the process is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intents: dict[str, OrderIntent] = {}
        self._latest: dict[str, OrderEvent] = {}
        self._events: list[OrderEvent] = []
        self._fills: list[tuple[str, Fill]] = []
        self._fill_ids: set[str] = set()
        self._sequences: dict[str, int] = {}

    def record_intent(self, intent: OrderIntent, *, first_event: OrderEvent | None = None) -> None:
        with self._lock:
            if intent.client_order_id in self._intents:
                raise DuplicateIntentError(
                    f"an intent for {intent.client_order_id!r} is already recorded",
                    context={"client_order_id": intent.client_order_id},
                )
            self._intents[intent.client_order_id] = intent
            last = self._sequences.get(intent.strategy_id, -1)
            self._sequences[intent.strategy_id] = max(last, intent.sequence)
            if first_event is not None:
                self._events.append(first_event)
                self._latest[first_event.client_order_id] = first_event

    def record_event(self, event: OrderEvent) -> None:
        with self._lock:
            self._events.append(event)
            self._latest[event.client_order_id] = event

    def record_fill(self, fill: Fill, *, strategy_id: str) -> bool:
        with self._lock:
            if fill.id in self._fill_ids:
                return False
            self._fill_ids.add(fill.id)
            self._fills.append((strategy_id, fill))
            return True

    def intents(self, *, open_only: bool = False) -> list[tuple[OrderIntent, OrderEvent | None]]:
        with self._lock:
            rows = [(i, self._latest.get(coid)) for coid, i in self._intents.items()]
        if open_only:
            rows = [r for r in rows if r[1] is None or r[1].status is None or r[1].status.is_open]
        return rows

    def fills(self, *, strategy_id: str | None = None, since: datetime | None = None) -> list[Fill]:
        with self._lock:
            rows = list(self._fills)
        return [
            f
            for sid, f in rows
            if (strategy_id is None or sid == strategy_id)
            and (since is None or f.timestamp > since)
        ]

    def last_sequence(self, strategy_id: str) -> int:
        with self._lock:
            return self._sequences.get(strategy_id, -1)

    def events(self, client_order_id: str | None = None) -> list[OrderEvent]:
        """Every event recorded (one order's when given), oldest first."""
        with self._lock:
            return [e for e in self._events if client_order_id in (None, e.client_order_id)]
