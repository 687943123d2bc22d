"""Readiness probes: an HTTP answer below 500, a Unix socket accepting, a log line."""

from __future__ import annotations

import http.client
import socket
import urllib.parse
from pathlib import Path

from stockyard.config import ReadinessProbe

__all__ = ["LogMark", "probe_once"]


class LogMark:
    """Where a process's log ended when it was (re)started: the log probe looks after it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.offset = path.stat().st_size
        except FileNotFoundError:
            self.offset = 0

    def contains(self, text: str) -> bool:
        """Whether ``text`` was written after the mark (a rotated log is read from its start)."""
        try:
            with self.path.open("rb") as log:
                size = log.seek(0, 2)
                log.seek(self.offset if size >= self.offset else 0)
                return text.encode() in log.read()
        except FileNotFoundError:
            return False


def _http(url: str, timeout: float) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"readiness http probe needs an http:// URL, got {url!r}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        # Any answer below 500 means it serves (the sandbox answers 401 without keys).
        return connection.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _unix(path: str, timeout: float) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError:
            return False
        return True


def probe_once(probe: ReadinessProbe, mark: LogMark, *, timeout: float = 1.0) -> bool:
    """One try of ``probe``: True when the process answers as ready."""
    if probe.http:
        return _http(probe.http, timeout)
    if probe.unix:
        return _unix(probe.unix, timeout)
    if probe.log:
        return mark.contains(probe.log)
    return True
