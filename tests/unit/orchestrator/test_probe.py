"""Readiness probes: an HTTP answer below 500, a Unix socket accepting, a line in the log."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stockyard.config import ReadinessProbe
from stockyard.orchestrator import LogMark, probe_once


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        codes = {"/ok": 200, "/locked": 401, "/broken": 503}
        self.send_response(codes.get(self.path, 404))
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_http_answer_below_500_is_ready_and_5xx_or_nothing_is_not(
    http_url: str, tmp_path: Path
) -> None:
    mark = LogMark(tmp_path / "x.log")
    assert probe_once(ReadinessProbe(http=f"{http_url}/ok"), mark)
    assert probe_once(ReadinessProbe(http=f"{http_url}/locked"), mark)
    assert not probe_once(ReadinessProbe(http=f"{http_url}/broken"), mark)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not probe_once(ReadinessProbe(http=f"http://127.0.0.1:{port}/"), mark)


def test_a_unix_socket_is_ready_once_it_accepts(tmp_path: Path) -> None:
    path = tmp_path / "node.sock"
    probe = ReadinessProbe(unix=str(path))
    mark = LogMark(tmp_path / "x.log")
    assert not probe_once(probe, mark)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        assert probe_once(probe, mark)


def test_the_log_probe_sees_only_what_was_written_after_the_mark(tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    log.write_text("node ready: an earlier run\n")
    mark = LogMark(log)
    probe = ReadinessProbe(log="node ready")
    assert not probe_once(probe, mark)
    with log.open("a") as out:
        out.write("starting\nnode ready: account sandbox\n")
    assert probe_once(probe, mark)
    log.write_text("node ready\n")  # rotated: shorter than the mark, read from its start
    assert probe_once(probe, mark)
