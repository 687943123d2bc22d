"""``SandboxServer``: the sandbox on a port, in a background thread, as an asyncio task, or
in the foreground (the CLI). Port 0 picks a free port; ``base_url`` says which."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TypeVar

import uvicorn

from stockyard.sandbox._app import create_app
from stockyard.sandbox._config import SandboxConfig
from stockyard.sandbox._service import Sandbox
from stockyard.sandbox._wsconn import MAX_FRAME_BYTES

_new_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
try:  # uvloop (uvicorn[standard]) is faster; the stdlib loop works the same without it
    import uvloop

    _new_loop = uvloop.new_event_loop
except ImportError:  # pragma: no cover - depends on the install
    pass

__all__ = ["SandboxServer"]

T = TypeVar("T")


class SandboxServer:
    """One sandbox behind uvicorn on ``config.host:config.port`` (127.0.0.1 by default).

    ``start()`` runs it in a daemon thread and returns once it accepts connections;
    ``await serve()`` runs it on the current loop; ``run()`` in the foreground until
    Ctrl-C. ``stop()`` ends it and saves the state.
    """

    def __init__(self, config: SandboxConfig, *, log_level: str = "warning") -> None:
        self.config = config
        self.sandbox = Sandbox(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((config.host, config.port))
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.sandbox),
                log_config=None,  # our logging (files, redaction) handles uvicorn's records
                log_level=log_level,
                access_log=False,
                lifespan="on",
                ws="websockets-sansio",
                ws_max_size=4 * MAX_FRAME_BYTES,
                ws_per_message_deflate=False,
                http="httptools",
                timeout_graceful_shutdown=3,
            )
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``url_override`` for alpaca-py's REST clients."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def stream_url(self) -> str:
        """``ws://127.0.0.1:PORT``: add ``/v2/iex``, ``/v1beta3/crypto/us`` or ``/stream``."""
        return f"ws://{self.config.host}:{self.port}"

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    async def serve(self) -> None:
        """Run on the current event loop until ``stop()``."""
        self._loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._socket])

    def submit(self, coro: Coroutine[object, object, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the server's loop from another thread (tests, benchmarks)."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the sandbox server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def disconnect_streams(self) -> None:
        """Close every stream connection (thread-safe); clients may reconnect."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.sandbox.md_hub.close_all)
            self._loop.call_soon_threadsafe(self.sandbox.trade_hub.close_all)

    def run(self) -> None:
        """Run in the foreground until Ctrl-C or SIGTERM (uvicorn handles the signals)."""
        loop = _new_loop()
        try:
            loop.run_until_complete(self.serve())
        finally:
            loop.close()

    def start(self, *, timeout: float = 30.0) -> SandboxServer:
        """Run in a daemon thread; return once it is accepting connections."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already started")
        self._thread = threading.Thread(target=self._run_quietly, name="sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server stopped while starting; see the log")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox did not start within {timeout} s")
            time.sleep(0.01)
        return self

    def _run_quietly(self) -> None:
        # uvicorn installs signal handlers only on the main thread, so none here.
        self.run()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop serving, close the streams, save the state; idempotent."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
