"""`BaseFeed`: what every feed shares (symbols, guard, staleness, gaps, publishing), so an
adapter only connects, subscribes and parses."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from stockyard.bus import MessageBus, md_topic
from stockyard.core import Bar, Quote, Trade
from stockyard.data._source import HistoricalSource
from stockyard.data.feeds._gaps import GapFiller, same_session
from stockyard.data.feeds._guard import FeedGuard
from stockyard.data.feeds._staleness import StalenessMonitor
from stockyard.obs import get_logger
from stockyard.resilience import ErrorRegistry

__all__ = ["BaseFeed"]

_KINDS = {Bar: "bar", Quote: "quote", Trade: "trade"}


class BaseFeed:
    """Subclass it and implement `_run` (receive and call `ingest` or `emit`), and
    optionally `_subscribe` / `_unsubscribe` (called with the symbols that changed while
    running). ``backfill`` turns on gap filling; ``stale_after`` (s) turns on the
    staleness watchdog, which calls `reconnect` (override it; the default logs)."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        name: str,
        symbols: Iterable[str] = (),
        backfill: HistoricalSource | None = None,
        in_session: Callable[[str, datetime, datetime], bool] | None = None,
        stale_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        errors: ErrorRegistry | None = None,
    ) -> None:
        self._bus = bus
        self.error_registry = errors  # where its failures are recorded, when given
        self._name = name
        self._symbols: set[str] = set(symbols)
        self.guard = FeedGuard(feed=name)
        self.gaps = (
            None
            if backfill is None
            else GapFiller(backfill, in_session=in_session or same_session, feed=name)
        )
        self.staleness = (
            None
            if stale_after is None
            else StalenessMonitor(
                timeout_s=stale_after, on_stale=self.reconnect, clock=clock, feed=name
            )
        )
        self._topics: dict[tuple[type, str], str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0
        self.errors = 0
        self.finished = asyncio.Event()

    @property
    def name(self) -> str:
        return self._name

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self._symbols)

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        """Start `_run` (and the staleness watchdog) as tasks on the running loop."""
        if self.running:
            return
        self.finished.clear()
        self._tasks = [asyncio.create_task(self._run_safely(), name=f"feed:{self._name}")]
        if self.staleness is not None:
            self.staleness.touch()
            self._tasks.append(asyncio.create_task(self.staleness.run(), name="feed-stale"))

    async def stop(self) -> None:
        """Cancel the feed's tasks and wait for them."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run_safely(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged and counted; the node decides what to do next
            self.errors += 1
            get_logger("data_pipeline").exception("feed_failed", feed=self._name, error=repr(exc))
            if self.error_registry is not None:
                self.error_registry.record(exc, component="data_pipeline")
        finally:
            self.finished.set()

    def add_symbols(self, symbols: Iterable[str]) -> None:
        """Subscribe more symbols; the others keep flowing."""
        new = set(symbols) - self._symbols
        self._symbols |= new
        if new and self.running:
            self._subscribe(new)

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        """Unsubscribe symbols; their late messages are counted as ``unsubscribed``."""
        gone = set(symbols) & self._symbols
        self._symbols -= gone
        for symbol in gone:
            self.guard.forget(symbol)
            if self.gaps is not None:
                self.gaps.forget(symbol)
        if gone and self.running:
            self._unsubscribe(gone)

    def ingest(self, raw: object, parse: Callable[[object], object]) -> bool:
        """Parse a venue message and `emit` it; a parse failure counts as malformed."""
        try:
            message = parse(raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.guard.malformed(f"{type(exc).__name__}: {exc}")
            return False
        return self.emit(message)

    def emit(self, message: object) -> bool:
        """Guard, back-fill any gap, and publish; True when ``message`` was published."""
        if type(message) not in _KINDS:
            self.guard.malformed(f"not a Bar, Quote or Trade: {type(message).__name__}")
            return False
        market: Bar | Quote | Trade = message  # type: ignore[assignment]  # tested just above
        if market.symbol not in self._symbols:
            self.guard.counts.unsubscribed += 1
            return False
        if not self.guard.check(market):
            return False
        if self.staleness is not None:
            self.staleness.touch()
        if self.gaps is not None and type(market) is Bar:
            for missing in self.gaps.fill(market):
                self._publish(missing)
        self._publish(market)
        return True

    def _publish(self, message: Bar | Quote | Trade) -> None:
        key = (type(message), message.symbol)
        topic = self._topics.get(key)
        if topic is None:
            topic = self._topics[key] = md_topic(_KINDS[key[0]], message.symbol)
        self._bus.publish(topic, message)
        self.published += 1

    def reconnect(self) -> Awaitable[None] | None:
        """Called when the feed goes stale; adapters override it to reconnect."""
        return None

    async def _run(self) -> None:
        """Adapters: receive from the venue until stopped, handing each message to ``ingest``.

        The base class has no venue: it is used directly only to drive ``ingest``.
        """
        raise TypeError(f"{type(self).__name__} has no venue to run: adapters override _run")

    def _subscribe(self, symbols: set[str]) -> None:
        """Adapters: subscribe ``symbols`` on the venue connection."""

    def _unsubscribe(self, symbols: set[str]) -> None:
        """Adapters: unsubscribe ``symbols`` on the venue connection."""

    def stats(self) -> dict[str, object]:
        """Published and dropped counts, staleness and gap figures."""
        out: dict[str, object] = {
            "feed": self._name,
            "symbols": sorted(self._symbols),
            "running": self.running,
            "published": self.published,
            "errors": self.errors,
            **self.guard.counts.as_dict(),
        }
        if self.staleness is not None:
            out["stale"] = self.staleness.stale_count
        if self.gaps is not None:
            out.update(
                gaps=self.gaps.gaps,
                backfilled=self.gaps.backfilled,
                backfill_failures=self.gaps.failures,
            )
        return out
