"""The market-data WebSocket (``/v2/iex``, ``/v2/sip``, ``/v1beta3/crypto/us``).

Alpaca's protocol: ``connected`` on open, then ``auth``, then ``subscribe`` / ``unsubscribe``
each answered with the whole current subscription set. Frames are MessagePack when the client
asked for it (``Content-Type: application/msgpack``, as alpaca-py does) or wrote binary,
JSON text otherwise. Errors use Alpaca's codes: 400 invalid syntax, 401 not authenticated,
402 auth failed, 403 already authenticated, 404 auth timeout, 405 symbol limit exceeded,
406 connection limit exceeded, 407 slow client, 409 insufficient subscription.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.websockets import WebSocket

from stockyard.sandbox._faults import FaultInjector
from stockyard.sandbox._md_wire import Message, encode_json, encode_msgpack
from stockyard.sandbox._wsconn import BadFrameError, Connection, decode_frame

__all__ = ["MarketDataHub", "StreamLimits"]

_STOCK_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")
_CRYPTO_CHANNELS = ("trades", "quotes", "orderbooks", "bars", "updatedBars", "dailyBars")
_CHANNEL_OF = {"t": "trades", "q": "quotes", "b": "bars", "u": "updatedBars", "d": "dailyBars"}
_CHANNEL_OF |= {"s": "statuses", "l": "lulds", "o": "orderbooks"}


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamLimits:
    """Per-key connection limit (per endpoint: stocks, crypto), per-connection symbol
    limit, auth deadline, SIP access (streams and recent SIP data over REST). Alpaca allows
    one connection; the default here is 32 so in-process systems and tests share a key."""

    connections_per_key: int = 32
    symbols_per_connection: int = 10_000
    auth_timeout_s: float = 10.0
    sip: bool = True


def _error(code: int, msg: str) -> Message:
    return {"T": "error", "code": code, "msg": msg}


class _Client(Connection):
    def __init__(self, ws: WebSocket, *, binary: bool, crypto: bool) -> None:
        super().__init__(ws, binary=binary)
        self.crypto = crypto
        self.key: str | None = None
        self.subs: dict[str, set[str]] = {c: set() for c in _channels(crypto)}
        self.sub_key: tuple[tuple[str, ...], ...] = ()

    def push(self, messages: Sequence[Message]) -> None:
        self.send(encode_msgpack(messages) if self.binary else encode_json(messages))

    def ack(self) -> Message:
        ack: Message = {"T": "subscription"}
        for channel, symbols in self.subs.items():
            ack[channel] = sorted(symbols)
        if not self.crypto:
            ack["corrections"] = sorted(self.subs["trades"])
            ack["cancelErrors"] = sorted(self.subs["trades"])
        self.sub_key = tuple(tuple(sorted(s)) for s in self.subs.values())
        return ack

    def wants(self, message: Message) -> bool:
        symbols = self.subs.get(_CHANNEL_OF.get(str(message["T"]), ""))
        return bool(symbols) and (message["S"] in symbols or "*" in symbols)  # type: ignore[operator]


def _channels(crypto: bool) -> tuple[str, ...]:
    return _CRYPTO_CHANNELS if crypto else _STOCK_CHANNELS


class MarketDataHub:
    """Every market-data connection; ``publish`` fans a batch out to those who want it."""

    def __init__(
        self,
        *,
        authenticate: Callable[[str, str], bool],
        faults: FaultInjector,
        limits: StreamLimits | None = None,
    ) -> None:
        self._authenticate = authenticate
        self._faults = faults
        self._limits = limits or StreamLimits()
        self._clients: set[_Client] = set()
        self.delivered = 0
        # Messages released, per (type, symbol), connected or not; kept only when asked for
        # (``bench soak`` compares them with what a node received).
        self.offered: Counter[tuple[str, str]] | None = None

    @property
    def connections(self) -> int:
        return len(self._clients)

    def publish(self, messages: Sequence[Message]) -> None:
        """Send each connection the messages it subscribed to, as one frame (loop thread)."""
        if self.offered is not None:
            self.offered.update((str(m["T"]), str(m["S"])) for m in messages)
        if not messages or not self._clients:
            return
        lossy = self._faults.config.md_drop_rate or self._faults.config.md_duplicate_rate
        lossy = lossy or self._faults.config.md_reorder_rate
        cache: dict[tuple[object, ...], tuple[bytes | str | None, int]] = {}
        for client in list(self._clients):
            if client.key is None:
                continue
            key = (client.binary, client.crypto, client.sub_key)
            entry = None if lossy else cache.get(key)
            if entry is None:
                chosen = [
                    m for m in messages if ("/" in str(m["S"])) == client.crypto and client.wants(m)
                ]
                if lossy:
                    chosen = self._faults.mangle(chosen)
                frame = (
                    (encode_msgpack(chosen) if client.binary else encode_json(chosen))
                    if chosen
                    else None
                )
                entry = (frame, len(chosen))
                if not lossy:
                    cache[key] = entry
            frame, count = entry
            if frame is not None and client.send(frame):
                self.delivered += count

    def all_subscribed(self) -> bool:
        """Whether every authenticated connection subscribed to something."""
        return all(any(c.subs.values()) for c in self._clients)

    def backlog(self) -> int:
        """The most frames any connection has queued (a slow-client gauge)."""
        return max((c.queue.qsize() for c in self._clients), default=0)

    def close_all(self) -> None:
        for client in list(self._clients):
            client.close()

    async def serve(self, ws: WebSocket, *, crypto: bool, sip: bool = False) -> None:
        """Run one client connection to its end."""
        binary = "msgpack" in ws.headers.get("content-type", "")
        await ws.accept()
        client = _Client(ws, binary=binary, crypto=crypto)
        client.start()
        client.push([{"T": "success", "msg": "connected"}])
        disconnector = asyncio.get_running_loop().create_task(
            client.disconnect_every(lambda: self._faults.config.ws_disconnect_every_s)
        )
        try:
            await self._read(client, sip=sip)
        finally:
            disconnector.cancel()
            self._clients.discard(client)
            await client.finish()

    async def _read(self, client: _Client, *, sip: bool) -> None:
        deadline = asyncio.get_running_loop().time() + self._limits.auth_timeout_s
        while not client.closed:
            timeout = None if client.key else deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(client.ws.receive(), timeout)
            except TimeoutError:
                client.push([_error(404, "auth timeout")])
                client.close()
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                request = decode_frame(message)
            except BadFrameError as exc:
                client.push([_error(400, f"invalid syntax: {exc}")])
                continue
            self._handle(client, request, sip=sip)

    def _handle(self, client: _Client, request: dict[str, object], *, sip: bool) -> None:
        action = request.get("action")
        if action == "auth":
            self._auth(client, request, sip=sip)
        elif action in ("subscribe", "unsubscribe"):
            if client.key is None:
                client.push([_error(401, "not authenticated")])
                return
            self._subscribe(client, request, add=action == "subscribe")
        else:
            client.push([_error(400, "invalid syntax: unknown action")])

    def _auth(self, client: _Client, request: dict[str, object], *, sip: bool) -> None:
        if client.key is not None:
            client.push([_error(403, "already authenticated")])
            return
        key, secret = request.get("key"), request.get("secret")
        if not (
            isinstance(key, str) and isinstance(secret, str) and self._authenticate(key, secret)
        ):
            client.push([_error(402, "auth failed")])
            client.close()
            return
        if sip and not self._limits.sip:
            client.push([_error(409, "insufficient subscription")])
            client.close()
            return
        # Alpaca counts connections per key and endpoint (stocks apart from crypto).
        same_key = sum(1 for c in self._clients if c.key == key and c.crypto == client.crypto)
        if same_key >= self._limits.connections_per_key:
            client.push([_error(406, "connection limit exceeded")])
            client.close()
            return
        client.key = key
        self._clients.add(client)
        client.push([{"T": "success", "msg": "authenticated"}])

    def _subscribe(self, client: _Client, request: dict[str, object], *, add: bool) -> None:
        changes: dict[str, set[str]] = {}
        for channel, value in request.items():
            if channel == "action":
                continue
            if channel not in client.subs:
                client.push([_error(400, f"invalid syntax: unknown channel {channel!r}")])
                return
            if not (isinstance(value, list) and all(isinstance(s, str) and s for s in value)):
                client.push([_error(400, f"invalid syntax: {channel} must be a list of symbols")])
                return
            changes[channel] = {s.upper() for s in value}
        if add:
            total = sum(len(client.subs[c] | changes.get(c, set())) for c in client.subs)
            if total > self._limits.symbols_per_connection:
                client.push([_error(405, "symbol limit exceeded")])
                return
        for channel, symbols in changes.items():
            if add:
                client.subs[channel] |= symbols
            else:
                client.subs[channel] -= symbols
        client.push([client.ack()])
