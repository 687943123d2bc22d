"""A node on an event loop of its own, in a daemon thread: for hosts whose main thread is
busy with something else (``stockyard up`` waits for Ctrl-C there)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from stockyard.bus import close_bus, start_bus
from stockyard.engine._node import TradingNode
from stockyard.obs import get_logger

__all__ = ["NodeThread"]

_log = get_logger("trading")


class NodeThread:
    """``start()`` returns once the node has started (or raises why it could not);
    ``stop()`` stops it gracefully and waits. ``loop`` is the node's event loop."""

    def __init__(self, node: TradingNode) -> None:
        self.node = node
        self.loop: asyncio.AbstractEventLoop | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="trading-node", daemon=True)

    def start(self, *, timeout: float = 60.0) -> NodeThread:
        self._thread.start()
        self._started.result(timeout)
        return self

    def stop(self, *, timeout: float = 30.0) -> None:
        loop, stop = self.loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # reported to start() when it has not returned yet
            if not self._started.done():
                self._started.set_exception(exc)
            else:
                _log.error("trading node failed", error=repr(exc), exc_info=exc)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await start_bus(self.node.bus)  # a Redis bus connects on the node's loop
        try:
            await self.node.start()
            self._started.set_result(None)
            try:
                await self.node.run_until(self._stop)
            finally:
                await self.node.stop()
        finally:
            await close_bus(self.node.bus)
