"""Real servers on loopback for the data adapters: a fake Alpaca market-data API, and moto's
S3 server. Both speak the real wire protocols, so alpaca-py and pyarrow's S3 client run
unmodified against them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto.server import ThreadedMotoServer

from stockyard.config import S3Settings

KEY_ID = "test-key-id"
SECRET_KEY = "test-secret-key"

_STOCK_PATH = "/v2/stocks/bars"
_CRYPTO_PATH = "/v1beta3/crypto/us/bars"


@dataclass
class FakeAlpacaData:
    """State of the fake Alpaca data API: its bars, page size, and what it was asked."""

    page_size: int = 50
    # (timeframe, symbol) -> bars as Alpaca sends them, sorted by "t"
    bars: dict[tuple[str, str], list[dict[str, object]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # answered (status, body) before any real answer, one per request
    failures: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    url: str = ""
    key_id: str = KEY_ID
    secret_key: str = SECRET_KEY
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_bars(
        self,
        symbol: str,
        timeframe: str,
        *,
        start: datetime,
        count: int,
        step: timedelta,
        price: float = 100.0,
    ) -> list[dict[str, object]]:
        """Add ``count`` bars every ``step`` from ``start``; return them as served."""
        rows = []
        for i in range(count):
            at = start + i * step
            base = price + (i % 17) * 0.25
            rows.append(
                {
                    "t": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "o": base,
                    "h": base + 1.0,
                    "l": base - 1.0,
                    "c": base + 0.5,
                    "v": 1000 + i if "/" not in symbol else 0.125 * (i + 1),
                    "n": 10 + i,
                    "vw": base + 0.25,
                }
            )
        key = (timeframe, symbol)
        self.bars[key] = sorted([*self.bars.get(key, []), *rows], key=lambda r: str(r["t"]))
        return rows

    def bar_requests(self) -> list[dict[str, str]]:
        return [params for path, params in self.requests if path.endswith("/bars")]


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on recorded requests instead."""

    def _send(self, status: int, body: dict[str, object]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with state.lock:
            state.requests.append((parts.path, params))
            failure = state.failures.pop(0) if state.failures else None
        if (
            self.headers.get("APCA-API-KEY-ID") != state.key_id
            or self.headers.get("APCA-API-SECRET-KEY") != state.secret_key
        ):
            self._send(401, {"code": 40110000, "message": "request is not authorized"})
            return
        if failure is not None:
            self._send(*failure)
            return
        if parts.path not in (_STOCK_PATH, _CRYPTO_PATH):
            self._send(404, {"code": 40410000, "message": "endpoint not found"})
            return
        if parts.path == _STOCK_PATH and params.get("feed", "iex") not in ("iex", "sip"):
            self._send(422, {"code": 42210000, "message": "invalid feed"})
            return
        self._send(200, self._page(state, params))

    def _page(self, state: FakeAlpacaData, params: dict[str, str]) -> dict[str, object]:
        symbols = params.get("symbols", "").split(",")
        timeframe = params.get("timeframe", "")
        start = _parse_time(params["start"]) if "start" in params else None
        end = _parse_time(params["end"]) if "end" in params else None  # inclusive, as Alpaca
        matching: list[tuple[str, dict[str, object]]] = []
        for symbol in sorted(symbols):  # Alpaca pages symbol by symbol, each in time order
            for row in state.bars.get((timeframe, symbol), []):
                at = _parse_time(str(row["t"]))
                if (start is None or at >= start) and (end is None or at <= end):
                    matching.append((symbol, row))
        offset = int(base64.b64decode(params["page_token"])) if params.get("page_token") else 0
        size = min(int(params.get("limit") or 10_000), state.page_size)
        page = matching[offset : offset + size]
        grouped: dict[str, list[dict[str, object]]] = {}
        for symbol, row in page:
            grouped.setdefault(symbol, []).append(row)
        more = offset + size < len(matching)
        token = base64.b64encode(str(offset + size).encode()).decode() if more else None
        return {"bars": grouped, "next_page_token": token}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeAlpacaData) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@pytest.fixture
def alpaca_server() -> Iterator[FakeAlpacaData]:
    """A fake Alpaca market-data API on 127.0.0.1; ``.url`` is its base URL."""
    state = FakeAlpacaData()
    server = _Server(state)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-alpaca", daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- S3 (moto) -----------------------------------------------------------------------------

S3_ACCESS_KEY = "moto-access"
S3_SECRET_KEY = "moto-secret"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's standalone S3 server on loopback, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


_bucket_counter = iter(range(1_000_000))


@pytest.fixture
def s3_settings(moto_url: str) -> S3Settings:
    """A fresh, empty bucket on the moto server, as ``data.s3`` settings."""
    bucket = f"stockyard-test-{next(_bucket_counter)}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    return S3Settings(
        endpoint_url=moto_url,
        bucket=bucket,
        prefix="market",
        region="us-east-1",
        access_key_id=S3_ACCESS_KEY,
        secret_access_key=S3_SECRET_KEY,
    )
