"""``HealthServer``: uvicorn in a background thread, for ``stockyard up`` and tests."""

from __future__ import annotations

import signal
import socket
import threading
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from stockyard.api._app import health_app
from stockyard.config import Settings
from stockyard.health import HealthService

__all__ = ["HealthServer"]


class HealthServer:
    """Serves an app on ``host:port`` (port 0 picks a free one) from a background thread.

    ``start()`` returns once the app has started (its lifespan ran the first check cycle);
    ``stop()`` shuts it down gracefully. ``serve()`` runs in the calling thread until Ctrl-C.
    """

    def __init__(
        self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 5555, log_level: str = "warning"
    ) -> None:
        self.app = app
        self.host = host
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app, log_config=None, log_level=log_level, access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthServer:
        """The whole health API of ``settings`` on ``health.host:health.api_port``.

        Raises OSError when the port is taken. The service is ``server.service``.
        """
        health = settings.health
        return cls(health_app(settings), host=health.host, port=health.api_port)

    @property
    def service(self) -> HealthService:
        """The ``HealthService`` behind the app (add checks to its ``registry``)."""
        service: HealthService = self.app.state.health
        return service

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, *, timeout: float = 30.0) -> None:
        """Start serving in a daemon thread; RuntimeError when it has not started in time."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="health-api",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"health API on {self.url} failed to start (see the log)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"health API on {self.url} did not start in {timeout:g} s")
            time.sleep(0.01)

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask the server to finish, wait for it, close the socket."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def serve(self) -> None:
        """Serve until SIGINT or SIGTERM, then shut down gracefully (``health serve``).

        Our own handlers rather than uvicorn's: uvicorn re-raises the signal it caught
        after shutting down, which would turn a clean Ctrl-C into exit status 130.
        """
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not stop.wait(0.5) and self._thread is not None and self._thread.is_alive():
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
