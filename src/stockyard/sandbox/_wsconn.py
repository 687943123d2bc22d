"""What both WebSocket streams share: a send queue per connection, frame limits, decoding,
and the injected disconnects."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping

import msgpack  # type: ignore[import-untyped]  # ships no type hints
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["MAX_FRAME_BYTES", "BadFrameError", "Connection", "decode_frame"]

MAX_FRAME_BYTES = 1 << 20  # one MiB: a subscribe to thousands of symbols fits many times over
_QUEUE_FRAMES = 10_000


class BadFrameError(ValueError):
    """A frame that is not JSON / MessagePack of an object, or is too large."""


def decode_frame(message: Mapping[str, object]) -> dict[str, object]:
    """The object a client sent, from a Starlette ``websocket.receive`` message."""
    raw = message.get("bytes")
    text = message.get("text")
    size = len(raw) if isinstance(raw, bytes) else len(text) if isinstance(text, str) else 0
    if size > MAX_FRAME_BYTES:
        raise BadFrameError(f"frame of {size} bytes is larger than {MAX_FRAME_BYTES}")
    try:
        if isinstance(raw, bytes):
            try:
                data = msgpack.unpackb(raw)
            except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
                data = json.loads(raw)
        elif isinstance(text, str):
            data = json.loads(text)
        else:
            raise BadFrameError("empty frame")
    except (ValueError, TypeError) as exc:
        raise BadFrameError(f"not JSON or MessagePack ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise BadFrameError("a message must be an object")
    return data


class Connection:
    """One client socket: frames go out through a bounded queue and one writer task."""

    def __init__(self, ws: WebSocket, *, binary: bool) -> None:
        self.ws = ws
        self.binary = binary
        self.queue: asyncio.Queue[bytes | str | None] = asyncio.Queue(_QUEUE_FRAMES)
        self.closed = False
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, frame: bytes | str) -> bool:
        """Queue a frame; False (and the socket closed) when the client is too slow."""
        if self.closed:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close()
            return False
        return True

    def close(self) -> None:
        """Ask the writer to close the socket after what is already queued."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)

    async def _write(self) -> None:
        try:
            while (frame := await self.queue.get()) is not None:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_text(frame)
            await self.ws.close(1000)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.closed = True

    async def finish(self) -> None:
        """Stop the writer (after the reader has ended)."""
        self.close()
        if self._writer is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._writer, 2.0)

    async def disconnect_every(self, interval: Callable[[], float | None]) -> None:
        """Injected fault: drop the connection every ``interval()`` seconds."""
        while not self.closed:
            every = interval()
            await asyncio.sleep(every if every else 1.0)
            if every and interval() and not self.closed:
                self.closed = True
                with contextlib.suppress(RuntimeError, OSError):
                    await self.ws.close(1011, "sandbox: injected disconnect")
                return
