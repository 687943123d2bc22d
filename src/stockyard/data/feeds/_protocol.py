"""The `LiveFeed` interface every market-data feed adapter implements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

__all__ = ["LiveFeed"]


@runtime_checkable
class LiveFeed(Protocol):
    """A source of live (or replayed) market data that publishes normalised
    `Bar`/`Quote`/`Trade` values to a bus on ``md.{bar,quote,trade}.SYMBOL``."""

    @property
    def name(self) -> str:
        """Short name for logs and metrics (``replay``, ``alpaca``, ``sandbox``)."""
        ...

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols currently subscribed."""
        ...

    async def start(self) -> None:
        """Connect and begin publishing."""
        ...

    async def stop(self) -> None:
        """Stop publishing and disconnect."""
        ...

    def add_symbols(self, symbols: Iterable[str]) -> None:
        """Subscribe to more symbols without interrupting the others."""
        ...

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        """Unsubscribe from symbols without interrupting the others."""
        ...

    def stats(self) -> dict[str, object]:
        """Counters (published, malformed, duplicate, out of order, stale, gaps)."""
        ...
