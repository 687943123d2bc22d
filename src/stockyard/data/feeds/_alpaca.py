"""`AlpacaFeed`: Alpaca's market-data WebSockets (or the sandbox's) through alpaca-py.

How alpaca-py is driven. Its ``StockDataStream.run()`` starts a private event loop with
``asyncio.run`` in the calling thread, so the usual recipe is a thread per stream, a hop
back to our loop for every message, and a blocking ``stop()`` that waits up to 5 s for the
next receive. Instead each stream's ``_run_forever()`` coroutine runs as a task on *our*
loop: messages reach the guard and the bus on the loop that owns them (no thread, no hop),
alpaca-py keeps doing what it does well (connect, auth, subscribe, reconnect with backoff),
and stopping is a cancel of a task we own followed by a clean WebSocket close. alpaca-py's
own ``subscribe_*`` methods block on ``run_coroutine_threadsafe(...).result()`` while the
stream runs, which would deadlock on its own loop, so subscription changes at run time go
through the small `_FeedStream` subclass below. Every use of alpaca-py internals is there
(checked against alpaca-py 0.44; the integration tests against the sandbox cover each).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, Literal

from pydantic import SecretStr

from stockyard.bus import MessageBus
from stockyard.config import AlpacaSettings, ConfigError
from stockyard.data._source import HistoricalSource
from stockyard.data.feeds._alpaca_wire import (
    CRYPTO_PATH,
    StreamKind,
    market_from_alpaca,
    stream_base_url,
    stream_kind,
)
from stockyard.data.feeds._base import BaseFeed
from stockyard.obs import get_logger
from stockyard.resilience import ErrorCategory, ErrorRegistry, FatalError, key_label

with warnings.catch_warnings():
    # alpaca-py (0.44) imports websockets.legacy, which websockets >= 14 deprecates on
    # import; nothing we can change, and not about code we call.
    warnings.filterwarnings(
        "ignore", "websockets.legacy is deprecated", DeprecationWarning, "websockets.legacy"
    )
    from alpaca.data.enums import DataFeed
    from alpaca.data.live.crypto import CryptoDataStream
    from alpaca.data.live.stock import StockDataStream
    from alpaca.data.live.websocket import DataStream

__all__ = ["AlpacaFeed", "stream_holders"]

_CHANNELS = ("trades", "quotes", "bars")
_STOP_TIMEOUT_S = 5.0
_AUTH_REFUSED = ("auth failed", "failed to authenticate")  # alpaca-py's ValueError texts
_CONNECTION_LIMIT = "connection limit exceeded"  # Alpaca's 406
_Handler = Callable[[object], Awaitable[None]]
_log = get_logger("data_pipeline")


class _FeedStream(DataStream):
    """alpaca-py's stream with the hooks the feed needs: connection events, subscription
    changes at run time from the stream's own loop, and a clean shutdown."""

    def _attach(
        self,
        *,
        kind: StreamKind,
        handler: _Handler,
        on_connected: Callable[[_FeedStream], None],
        on_failed: Callable[[_FeedStream, BaseException], None],
        backoff_s: float,
    ) -> None:
        self.kind = kind
        self.connects = 0
        self.ready = False  # authenticated: subscription changes may be sent now
        self.acknowledged: frozenset[str] = frozenset()  # the server's last subscription ack
        self.fatal: str | None = None
        self._handler = handler
        self._on_connected = on_connected
        self._on_failed = on_failed
        self._send_lock = asyncio.Lock()
        # Every socket this stream opened and may not have finished closing: alpaca-py closes
        # a socket inside its own task, and cancelling that task on stop leaves the socket's
        # shielded closing handshake running; shutdown waits for it.
        self._sockets: list[Any] = []
        self._reconnect_min_backoff = backoff_s
        self._reconnect_max_backoff = max(30.0, backoff_s)

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self._handlers["trades"])

    async def _connect(self) -> None:
        await super()._connect()
        self._sockets = [ws for ws in self._sockets if not ws.closed]
        self._sockets.append(self._ws)

    async def _start_ws(self) -> None:
        try:
            await super()._start_ws()
        except Exception as exc:
            if isinstance(exc, ValueError) and str(exc) in _AUTH_REFUSED:
                self.fatal = f"the {self.kind} stream refused the credentials ({exc})"
            elif isinstance(exc, ValueError) and "insufficient subscription" in str(exc):
                self.fatal = f"the {self.kind} stream needs a data subscription ({exc})"
            elif isinstance(exc, ValueError) and _CONNECTION_LIMIT in str(exc):
                self.fatal = (
                    f"the {self.kind} stream refused this key a second connection (406 "
                    f"{_CONNECTION_LIMIT}): another process holds its market-data stream; "
                    "Alpaca allows one per key, so run one feed per account and share its "
                    "data over the Redis bus (`stockyard feed`)"
                )
            self._on_failed(self, exc)
            raise
        self.connects += 1
        self.ready = True
        self._on_connected(self)

    async def close(self) -> None:
        self.ready = False
        self.acknowledged = frozenset()
        await super().close()

    async def _dispatch(self, msg: dict[str, object]) -> None:
        if msg.get("T") == "subscription":
            trades = msg.get("trades")
            self.acknowledged = frozenset(trades if isinstance(trades, list) else ())
        await super()._dispatch(msg)

    def add(self, symbols: Iterable[str]) -> None:
        """Register ``symbols`` (sent with the next subscribe message)."""
        for channel in _CHANNELS:
            for symbol in symbols:
                self._handlers[channel][symbol] = self._handler

    def remove(self, symbols: Iterable[str]) -> None:
        for channel in _CHANNELS:
            for symbol in symbols:
                self._handlers[channel].pop(symbol, None)

    async def send_subscribe(self) -> None:
        """Send the whole subscription set; a closed socket is left to the reconnect."""
        async with self._send_lock:
            if self.ready:
                with contextlib.suppress(Exception):  # the reconnect resubscribes all
                    await self._send_subscribe_msg()

    async def send_unsubscribe(self, symbols: list[str]) -> None:
        async with self._send_lock:
            if self.ready:
                with contextlib.suppress(Exception):  # the reconnect subscribes only the rest
                    for channel in _CHANNELS:
                        await self._send_unsubscribe_msg(channel, symbols)

    def run_forever(self) -> Coroutine[object, object, None]:
        return self._run_forever()

    async def drop_connection(self) -> None:
        """Close the socket; alpaca-py reconnects and resubscribes after its backoff."""
        await self.close()

    async def shutdown(self, task: asyncio.Task[None]) -> None:
        """Stop the stream's task and close its socket, waiting for both."""
        await self.stop_ws()  # flags: should the task be between awaits, it ends itself
        task.cancel()
        await asyncio.wait({task}, timeout=_STOP_TIMEOUT_S)
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: alpaca-py logged it already
        with contextlib.suppress(Exception):  # already closed by the server: nothing to do
            await asyncio.wait_for(self.close(), _STOP_TIMEOUT_S)
        closing = [getattr(ws, "close_connection_task", None) for ws in self._sockets]
        self._sockets.clear()
        pending = {t for t in closing if isinstance(t, asyncio.Task) and not t.done()}
        if pending:
            await asyncio.wait(pending, timeout=_STOP_TIMEOUT_S)


class _StockStream(_FeedStream, StockDataStream):
    pass


class _CryptoStream(_FeedStream, CryptoDataStream):
    pass


# Alpaca allows one market-data connection per key and endpoint, and answers a second with
# 406. Within a process the feeds know which feed holds which, so a second feed of the same
# key and endpoint fails at once naming the holder instead of connecting (and knocking out
# nothing: Alpaca refuses the newcomer, but a 406 loop would hammer the endpoint).
_holders_lock = threading.Lock()
_holders: weakref.WeakValueDictionary[tuple[str, str], AlpacaFeed] = weakref.WeakValueDictionary()


def stream_holders() -> dict[tuple[str, str], str]:
    """Which feed of this process holds each market-data stream: ``(key label, endpoint
    URL)`` → the feed's name."""
    with _holders_lock:
        return {claim: feed.name for claim, feed in _holders.items()}


def _secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


class AlpacaFeed(BaseFeed):
    """Live trades, quotes and minute bars from Alpaca's market-data streams (or the local
    sandbox's) to the bus as `Trade`/`Quote`/`Bar` on ``md.{trade,quote,bar}.SYMBOL``.

    ``stream_url`` is the streams' base (``ws://127.0.0.1:8765``,
    ``wss://stream.data.alpaca.markets``): stocks go to ``/v2/{stock_feed}``, crypto
    (``BTC/USD``) to ``/v1beta3/crypto/us``, each on its own connection opened when its
    first symbol is subscribed. Every message passes the `BaseFeed` guard; a dropped
    connection is re-established by alpaca-py (backoff from ``reconnect_backoff_s``) and
    counted in ``reconnects``; ``stale_after`` s of silence forces a reconnect. Rejected
    credentials or a missing data subscription end the feed (``failure`` says why).
    ``add_symbols``/``remove_symbols`` must be called on the loop the feed runs on."""

    def __init__(
        self,
        *,
        bus: MessageBus,
        key_id: SecretStr | str,
        secret_key: SecretStr | str,
        stream_url: str,
        stock_feed: Literal["iex", "sip"] = "iex",
        symbols: Iterable[str] = (),
        name: str = "alpaca",
        backfill: HistoricalSource | None = None,
        stale_after: float | None = None,
        reconnect_backoff_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        errors: ErrorRegistry | None = None,
    ) -> None:
        if not stream_url.startswith(("ws://", "wss://")):
            raise ValueError(f"stream_url must be a ws:// or wss:// URL, got {stream_url!r}")
        if stock_feed not in ("iex", "sip"):
            raise ValueError(f"stock_feed must be 'iex' or 'sip', got {stock_feed!r}")
        if reconnect_backoff_s <= 0:
            raise ValueError(f"reconnect_backoff_s must be > 0, got {reconnect_backoff_s}")
        self._key_id, self._secret_key = _secret(key_id), _secret(secret_key)
        if not self._key_id.get_secret_value() or not self._secret_key.get_secret_value():
            raise ValueError("the feed needs a key id and a secret key")
        base = stream_url.rstrip("/")
        self.urls: dict[StreamKind, str] = {
            "stocks": f"{base}/v2/{stock_feed}",
            "crypto": f"{base}{CRYPTO_PATH}",
        }
        self._stock_feed = DataFeed.SIP if stock_feed == "sip" else DataFeed.IEX
        self._backoff_s = reconnect_backoff_s
        super().__init__(
            bus=bus,
            name=name,
            symbols=_normalised(symbols),
            backfill=backfill,
            stale_after=stale_after,
            clock=clock,
            errors=errors,
        )
        self._streams: dict[StreamKind, tuple[_FeedStream, asyncio.Task[None]]] = {}
        self._chores: set[asyncio.Task[None]] = set()
        self._fatal = asyncio.Event()
        self.failure: str | None = None
        self.connects = 0
        self.reconnects = 0
        self.connect_failures = 0
        self.last_error: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: AlpacaSettings,
        *,
        bus: MessageBus,
        symbols: Iterable[str] = (),
        name: str = "alpaca",
        stale_after: float | None = None,
    ) -> AlpacaFeed:
        """The feed ``alpaca.*`` describes (key, secret, ``stream_url`` or ``base_url``,
        ``feed``); a missing or bad setting raises `ConfigError` naming the key."""
        if settings.key_id is None or settings.secret_key is None:
            raise ConfigError(
                "alpaca.key_id and alpaca.secret_key must be set "
                "(APCA_API_KEY_ID, APCA_API_SECRET_KEY)"
            )
        return cls(
            bus=bus,
            key_id=settings.key_id,
            secret_key=settings.secret_key,
            stream_url=stream_base_url(settings),
            stock_feed=settings.feed,
            symbols=symbols,
            name=name,
            stale_after=stale_after,
        )

    @property
    def connected(self) -> tuple[StreamKind, ...]:
        """The streams connected and authenticated now (``stocks``, ``crypto``)."""
        return tuple(kind for kind, (stream, _) in sorted(self._streams.items()) if stream.ready)

    @property
    def acknowledged(self) -> frozenset[str]:
        """The symbols the venue last confirmed subscribed, over every open stream."""
        out: frozenset[str] = frozenset()
        for stream, _ in self._streams.values():
            out |= stream.acknowledged
        return out

    # -- symbols -----------------------------------------------------------------------

    def add_symbols(self, symbols: Iterable[str]) -> None:
        """Subscribe more symbols (``AAPL``, ``BTC/USD``); the others keep flowing."""
        super().add_symbols(_normalised(symbols))

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        """Unsubscribe symbols; the others keep flowing, an emptied stream is closed."""
        super().remove_symbols(_normalised(symbols))

    def _subscribe(self, symbols: set[str]) -> None:
        for kind, group in _by_kind(symbols).items():
            entry = self._streams.get(kind)
            if entry is None:
                self._open(kind, group)
            else:
                entry[0].add(group)
                self._spawn(entry[0].send_subscribe())

    def _unsubscribe(self, symbols: set[str]) -> None:
        for kind, group in _by_kind(symbols).items():
            entry = self._streams.get(kind)
            if entry is None:
                continue
            stream, task = entry
            stream.remove(group)
            if stream.symbols:
                self._spawn(stream.send_unsubscribe(sorted(group)))
            else:
                del self._streams[kind]
                self._spawn(self._shut(kind, stream, task))

    # -- connections -------------------------------------------------------------------

    def _claim(self, kind: StreamKind) -> bool:
        """Take this key's ``kind`` stream for this feed; False (and the feed failed,
        naming the holder) when another feed of the process holds it."""
        claim = (key_label(self._key_id.get_secret_value()), self.urls[kind])
        with _holders_lock:
            holder = _holders.get(claim)
            if holder is None or holder is self:
                _holders[claim] = self
                return True
        self._fail(
            f"the {kind} stream of key {claim[0]} at {claim[1]} is held by feed "
            f"{holder.name!r} of this process (Alpaca allows one market-data connection "
            "per key): subscribe through that feed, or the bus it publishes to"
        )
        return False

    def _release(self, kind: StreamKind) -> None:
        claim = (key_label(self._key_id.get_secret_value()), self.urls[kind])
        with _holders_lock:
            if _holders.get(claim) is self:
                del _holders[claim]

    def _open(self, kind: StreamKind, symbols: Iterable[str]) -> None:
        if not self._claim(kind):
            return
        key, secret = self._key_id.get_secret_value(), self._secret_key.get_secret_value()
        params = {"ping_interval": 10, "ping_timeout": 180, "max_queue": 1024, "close_timeout": 3}
        stream: _FeedStream
        if kind == "crypto":
            stream = _CryptoStream(
                key, secret, raw_data=True, url_override=self.urls[kind], websocket_params=params
            )
        else:
            stream = _StockStream(
                key,
                secret,
                raw_data=True,
                feed=self._stock_feed,
                url_override=self.urls[kind],
                websocket_params=params,
            )
        stream._attach(
            kind=kind,
            handler=self._receive,
            on_connected=self._connected,
            on_failed=self._connect_failed,
            backoff_s=self._backoff_s,
        )
        stream.add(symbols)
        task = asyncio.create_task(stream.run_forever(), name=f"feed:{self.name}:{kind}")
        task.add_done_callback(lambda t: self._stream_ended(kind, stream, t))
        self._streams[kind] = (stream, task)

    async def _receive(self, raw: object) -> None:
        self.ingest(raw, market_from_alpaca)

    def _connected(self, stream: _FeedStream) -> None:
        self.connects += 1
        if stream.connects > 1:
            self.reconnects += 1
        _log.info("feed_connected", feed=self.name, stream=stream.kind, url=self.urls[stream.kind])

    def _connect_failed(self, stream: _FeedStream, exc: BaseException) -> None:
        self.connect_failures += 1
        self.last_error = f"{stream.kind}: {type(exc).__name__}: {exc}"
        if self.error_registry is not None:
            self.error_registry.record(exc, component="data_pipeline")
        if stream.fatal is not None:
            self._fail(stream.fatal)

    def _stream_ended(
        self, kind: StreamKind, stream: _FeedStream, task: asyncio.Task[None]
    ) -> None:
        entry = self._streams.get(kind)
        if entry is None or entry[0] is not stream:
            return  # shut down by us
        del self._streams[kind]
        self._release(kind)
        error = None if task.cancelled() else task.exception()
        self._fail(stream.fatal or f"the {kind} stream ended ({error!r})")

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            _log.error("feed_failed", feed=self.name, reason=reason)
        self._fatal.set()

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(coro)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def reconnect(self) -> None:
        """Drop every connection (the feed went stale); alpaca-py reconnects them."""
        for stream, _ in list(self._streams.values()):
            await stream.drop_connection()

    async def _run(self) -> None:
        self._fatal.clear()
        self.failure = None
        try:
            if self._symbols:
                self._subscribe(set(self._symbols))
            await self._fatal.wait()
            raise FatalError(
                f"{self.name} feed stopped: {self.failure}", category=ErrorCategory.API
            )
        finally:
            await self._close_all()

    async def _close_all(self) -> None:
        chores = list(self._chores)
        for chore in chores:
            chore.cancel()
        streams = list(self._streams.items())
        self._streams.clear()
        await asyncio.gather(*chores, return_exceptions=True)
        await asyncio.gather(
            *(self._shut(k, s, t) for k, (s, t) in streams), return_exceptions=True
        )

    async def _shut(self, kind: StreamKind, stream: _FeedStream, task: asyncio.Task[None]) -> None:
        """Close a stream, then let another feed of the process take its key's place."""
        try:
            await stream.shutdown(task)
        finally:
            self._release(kind)

    # -- figures -----------------------------------------------------------------------

    def stats(self) -> dict[str, object]:
        """`BaseFeed.stats` plus connections: ``connects``, ``reconnects``,
        ``connect_failures`` (``last_error``), ``failure`` and each open stream's URL and
        whether it is connected."""
        out = super().stats()
        out.update(
            connects=self.connects,
            reconnects=self.reconnects,
            connect_failures=self.connect_failures,
            last_error=self.last_error,
            failure=self.failure,
            streams={
                kind: {"url": self.urls[kind], "connected": stream.ready}
                for kind, (stream, _) in sorted(self._streams.items())
            },
        )
        return out


def _normalised(symbols: Iterable[str]) -> list[str]:
    if isinstance(symbols, str):
        raise TypeError("symbols must be a list of symbols, not one string")
    out = []
    for symbol in symbols:
        text = symbol.strip().upper() if isinstance(symbol, str) else ""
        if not text or text == "*" or any(c.isspace() for c in text):
            raise ValueError(f"not a symbol: {symbol!r}")
        out.append(text)
    return out


def _by_kind(symbols: Iterable[str]) -> dict[StreamKind, list[str]]:
    out: dict[StreamKind, list[str]] = {}
    for symbol in sorted(symbols):
        out.setdefault(stream_kind(symbol), []).append(symbol)
    return out
