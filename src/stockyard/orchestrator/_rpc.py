"""supervisord's XML-RPC interface over its Unix socket, typed."""

from __future__ import annotations

import http.client
import socket
import threading
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

__all__ = [
    "RawProcessInfo",
    "SupervisorRPC",
    "SupervisorRefusedError",
    "SupervisorUnavailableError",
]


class SupervisorUnavailableError(ConnectionError):
    """No supervisord answers on the socket (the system is not up)."""


class SupervisorRefusedError(RuntimeError):
    """supervisord refused a call (``BAD_NAME``, ``ALREADY_STARTED``, ...)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    """HTTP over a Unix socket (what ``supervisor.xmlrpc.SupervisorTransport`` does for
    ``unix://`` URLs), one kept-alive connection."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self._path = path
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        if self._connection[1] is None:
            self._connection = host, _UnixConnection(self._path, self._timeout)
        return cast(http.client.HTTPConnection, self._connection[1])


@dataclass(frozen=True, slots=True)
class RawProcessInfo:
    """``getProcessInfo`` as supervisord returns it."""

    name: str
    state: str
    pid: int
    start: int
    stop: int
    now: int
    exitstatus: int
    spawnerr: str
    description: str
    logfile: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RawProcessInfo:
        """From the XML-RPC struct."""
        return cls(
            name=str(raw["name"]),
            state=str(raw["statename"]),
            pid=int(raw["pid"]),
            start=int(raw["start"]),
            stop=int(raw["stop"]),
            now=int(raw["now"]),
            exitstatus=int(raw["exitstatus"]),
            spawnerr=str(raw["spawnerr"]),
            description=str(raw["description"]),
            logfile=str(raw["stdout_logfile"]),
        )


class SupervisorRPC:
    """The calls of supervisord's ``supervisor.*`` namespace that we use.

    Every method raises ``SupervisorUnavailableError`` when nothing answers on the socket
    and ``SupervisorRefusedError`` when supervisord refuses the call.
    """

    def __init__(self, socket_path: Path, *, timeout: float = 30.0) -> None:
        self.socket_path = socket_path
        self._timeout = timeout
        self._lock = threading.Lock()  # one kept-alive connection: one call at a time
        self._proxy = self._new_proxy()

    def _new_proxy(self) -> xmlrpc.client.ServerProxy:
        transport = _UnixTransport(str(self.socket_path), self._timeout)
        return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=transport)

    def _call(self, method: str, *args: object) -> Any:
        with self._lock:
            return self._call_locked(method, *args)

    def _call_locked(self, method: str, *args: object) -> Any:
        try:
            return getattr(self._proxy.supervisor, method)(*args)
        except xmlrpc.client.Fault as fault:
            raise SupervisorRefusedError(fault.faultCode, fault.faultString) from None
        except (OSError, http.client.HTTPException) as exc:
            self._proxy("close")()
            self._proxy = self._new_proxy()  # the kept-alive connection is gone
            raise SupervisorUnavailableError(
                f"no supervisord answers on {self.socket_path} ({exc}): is `stockyard up` running?"
            ) from None

    def close(self) -> None:
        """Close the kept-alive connection (the next call opens a new one)."""
        with self._lock:
            self._proxy("close")()

    def state(self) -> str:
        """supervisord's own state: ``RUNNING``, ``SHUTDOWN``, ..."""
        return str(self._call("getState")["statename"])

    def pid(self) -> int:
        """supervisord's pid."""
        return int(self._call("getPID"))

    def all_info(self) -> list[RawProcessInfo]:
        """Every process."""
        return [RawProcessInfo.parse(raw) for raw in self._call("getAllProcessInfo")]

    def info(self, name: str) -> RawProcessInfo:
        """One process."""
        return RawProcessInfo.parse(self._call("getProcessInfo", name))

    def start(self, name: str, *, wait: bool = False) -> bool:
        """Start ``name``; with ``wait`` until it is RUNNING by ``startsecs``."""
        return bool(self._call("startProcess", name, wait))

    def stop(self, name: str, *, wait: bool = True) -> bool:
        """Stop ``name`` (its stop signal, then SIGKILL after ``stopwaitsecs``)."""
        return bool(self._call("stopProcess", name, wait))

    def signal(self, name: str, signal_name: str) -> bool:
        """Send a signal (``KILL``, ``HUP``, ...) to ``name``'s process."""
        return bool(self._call("signalProcess", name, signal_name))

    def tail(self, name: str, offset: int, length: int) -> tuple[str, int, bool]:
        """``(text, next offset, overflow)`` of ``name``'s captured output."""
        text, offset_out, overflow = self._call("tailProcessStdoutLog", name, offset, length)
        return str(text), int(offset_out), bool(overflow)

    def read_log(self, name: str, offset: int, length: int) -> str:
        """``length`` bytes (0: to the end) from ``offset`` (negative: from the end)."""
        return str(self._call("readProcessStdoutLog", name, offset, length))

    def shutdown(self) -> bool:
        """Stop every process (reverse priority) and exit supervisord."""
        return bool(self._call("shutdown"))
