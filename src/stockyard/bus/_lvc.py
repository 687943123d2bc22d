"""The latest-value cache: last trade, quote and bar per symbol, fed from the bus."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry

from stockyard.bus._metrics import MetricSource, attach_source
from stockyard.bus._protocol import MessageBus, Subscription
from stockyard.core import Bar, Quote, Trade

__all__ = ["LatestValueCache"]

T = TypeVar("T")


class LatestValueCache:
    """Last `Trade`, `Quote` and `Bar` per symbol, each valid for ``ttl`` seconds after it
    arrived (by the injected ``clock``). Reads are two dict lookups; a stale or absent value
    reads as None and counts as a miss."""

    def __init__(
        self,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "lvc",
        registry: CollectorRegistry | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0, got {ttl}")
        self._ttl = ttl
        self._clock = clock
        self._trades: dict[str, tuple[Trade, float]] = {}
        self._quotes: dict[str, tuple[Quote, float]] = {}
        self._bars: dict[str, tuple[Bar, float]] = {}
        self.hits = 0
        self.misses = 0
        self.updates = 0
        self.metrics = MetricSource(
            kind="lvc", name=name, gauges=self._gauges, extra_counters=self._counters
        )
        attach_source(self.metrics, registry)

    def attach(self, bus: MessageBus, pattern: str = "md.>") -> Subscription:
        """Subscribe to market data on ``bus``; cancel the returned subscription to detach."""
        return bus.subscribe(pattern, self.on_message)

    def on_message(self, topic: str, message: object) -> None:
        """Store ``message`` if it is a Trade, Quote or Bar (other messages are ignored)."""
        # exact type tests: cheaper than isinstance, and they narrow for mypy
        if type(message) is Quote:
            self._quotes[message.symbol] = (message, self._clock())
        elif type(message) is Trade:
            self._trades[message.symbol] = (message, self._clock())
        elif type(message) is Bar:
            self._bars[message.symbol] = (message, self._clock())
        else:
            return
        self.updates += 1

    def _get(self, store: dict[str, tuple[T, float]], symbol: str) -> T | None:
        entry = store.get(symbol)
        if entry is None or self._clock() - entry[1] > self._ttl:
            self.misses += 1
            return None
        self.hits += 1
        return entry[0]

    def last_trade(self, symbol: str) -> Trade | None:
        """The last trade of ``symbol`` if it arrived within the TTL."""
        return self._get(self._trades, symbol)

    def last_quote(self, symbol: str) -> Quote | None:
        """The last quote of ``symbol`` if it arrived within the TTL."""
        return self._get(self._quotes, symbol)

    def last_bar(self, symbol: str) -> Bar | None:
        """The last bar of ``symbol`` if it arrived within the TTL."""
        return self._get(self._bars, symbol)

    def symbols(self) -> list[str]:
        """Every symbol seen (fresh or not), sorted."""
        return sorted(set(self._trades) | set(self._quotes) | set(self._bars))

    @property
    def hit_rate(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None

    def _gauges(self) -> dict[str, float]:
        return {"symbols": float(len(self.symbols())), "hit_rate": self.hit_rate or 0.0}

    def _counters(self) -> dict[str, float]:
        return {"hits": self.hits, "misses": self.misses, "updates": self.updates}

    def stats(self) -> dict[str, object]:
        """Hits, misses, hit rate, updates and symbol count (JSON-serialisable)."""
        rate = self.hit_rate
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": None if rate is None else round(rate, 4),
            "updates": self.updates,
            "symbols": len(self.symbols()),
            "ttl_s": self._ttl,
        }
