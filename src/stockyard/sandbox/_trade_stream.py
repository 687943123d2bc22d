"""The trading stream at ``/stream``: ``authenticate`` → ``authorization``, ``listen`` →
``listening``, then ``trade_updates`` whose ``order`` is the REST Order JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from starlette.websockets import WebSocket

from stockyard.sandbox._faults import FaultInjector
from stockyard.sandbox._wsconn import BadFrameError, Connection, decode_frame

__all__ = ["TradeUpdateHub"]


def _frame(stream: str, data: dict[str, object]) -> str:
    return orjson.dumps({"stream": stream, "data": data}).decode()


class _Listener(Connection):
    account_id: str | None = None
    listening: bool = False


class TradeUpdateHub:
    """Trading-stream connections by account; ``publish`` sends one account its updates."""

    def __init__(
        self, *, authenticate: Callable[[str, str], str | None], faults: FaultInjector
    ) -> None:
        self._authenticate = authenticate
        self._faults = faults
        self._listeners: set[_Listener] = set()

    @property
    def connections(self) -> int:
        return len(self._listeners)

    @property
    def listening(self) -> int:
        """Connections listening to ``trade_updates``."""
        return sum(1 for listener in self._listeners if listener.listening)

    def publish(self, account_id: str, message: dict[str, object]) -> None:
        """Send ``message`` (a ``trade_updates`` envelope) to the account's listeners."""
        frame: str | None = None
        for listener in self._listeners:
            if listener.listening and listener.account_id == account_id:
                frame = frame or orjson.dumps(message).decode()
                listener.send(frame)

    def close_all(self) -> None:
        for listener in list(self._listeners):
            listener.close()

    async def serve(self, ws: WebSocket) -> None:
        """Run one trading-stream connection to its end."""
        await ws.accept()
        listener = _Listener(ws, binary=False)
        listener.start()
        disconnector = asyncio.get_running_loop().create_task(
            listener.disconnect_every(lambda: self._faults.config.ws_disconnect_every_s)
        )
        self._listeners.add(listener)
        try:
            while not listener.closed:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    request = decode_frame(message)
                except BadFrameError as exc:
                    listener.send(_frame("error", {"error": f"invalid syntax: {exc}"}))
                    continue
                self._handle(listener, request)
        finally:
            disconnector.cancel()
            self._listeners.discard(listener)
            await listener.finish()

    def _handle(self, listener: _Listener, request: dict[str, object]) -> None:
        action, data = request.get("action"), request.get("data")
        if not isinstance(data, dict):
            listener.send(_frame("error", {"error": "invalid syntax: data must be an object"}))
            return
        if action == "authenticate":
            key, secret = data.get("key_id"), data.get("secret_key")
            account = None
            if isinstance(key, str) and isinstance(secret, str):
                account = self._authenticate(key, secret)
            status = "authorized" if account else "unauthorized"
            listener.send(_frame("authorization", {"status": status, "action": "authenticate"}))
            if account is None:
                listener.close()
            listener.account_id = account
        elif action == "listen":
            if listener.account_id is None:
                listener.send(
                    _frame("authorization", {"status": "unauthorized", "action": "listen"})
                )
                return
            streams = data.get("streams")
            if not (isinstance(streams, list) and all(isinstance(s, str) for s in streams)):
                listener.send(_frame("error", {"error": "invalid syntax: streams must be a list"}))
                return
            listener.listening = "trade_updates" in streams
            chosen = ["trade_updates"] if listener.listening else []
            listener.send(_frame("listening", {"streams": chosen}))
        else:
            listener.send(_frame("error", {"error": f"invalid syntax: unknown action {action!r}"}))
