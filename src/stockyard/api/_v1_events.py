"""``/api/v1/events``: live events as Server-Sent Events, and a WebSocket twin.

``?topics=orders,fills`` filters (default: every topic); a reconnecting client sends
``Last-Event-ID`` (SSE) or ``?last_event_id=`` and gets what it missed first, as far back
as the hub's ring of recent events reaches.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, some
# of them aliases local to the function that builds the router.

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from stockyard.api._v1_auth import ERROR_RESPONSES, ApiError, scoped
from stockyard.services import TOPICS, Caller, Event, EventHub, ServiceError
from stockyard.store import KeyScope

__all__ = ["events_router", "parse_topics"]

_TOPICS_DOC = "comma-separated: " + ", ".join(TOPICS)


def parse_topics(text: str | None) -> tuple[str, ...] | None:
    """``"orders,fills"`` → the topics; None or empty: every topic. 422 for an unknown one."""
    if not text:
        return None
    wanted = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in wanted if t not in TOPICS]
    if unknown:
        raise ServiceError(
            "unknown_topic",
            f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(TOPICS)}",
            status=422,
        )
    return wanted or None


def _frame(event: Event) -> bytes:
    body = orjson.dumps(event.model_dump(mode="json"))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.topic.encode(), body)


def events_router(
    hub: EventHub,
    caller: Callable[..., Awaitable[Caller]],
    *,
    heartbeat_s: float = 15.0,
) -> APIRouter:
    """The SSE route and its WebSocket twin over ``hub``."""
    router = APIRouter(tags=["events"])
    Reader = Annotated[Caller, Depends(scoped(caller, KeyScope.READ))]  # noqa: N806 - a type alias

    @router.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            **ERROR_RESPONSES,
            200: {"content": {"text/event-stream": {}}, "description": "the event stream"},
            422: {"model": ApiError, "description": "unknown topic"},
        },
    )
    async def events(
        _who: Reader,
        topics: Annotated[str | None, Query(max_length=500, description=_TOPICS_DOC)] = None,
        last_event_id: Annotated[int | None, Header(ge=0)] = None,
    ) -> StreamingResponse:
        """Live events (SSE): ``id`` is the event's number, ``event`` its topic."""
        wanted = parse_topics(topics)

        async def stream() -> AsyncIterator[bytes]:
            yield b"retry: 2000\n\n"
            async for event in hub.stream(wanted, last_id=last_event_id, heartbeat_s=heartbeat_s):
                yield b": keep-alive\n\n" if event is None else _frame(event)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.websocket("/events/ws")
    async def events_ws(
        socket: WebSocket,
        _who: Reader,
        topics: Annotated[str | None, Query(max_length=500)] = None,
        last_event_id: Annotated[int | None, Query(ge=0)] = None,
    ) -> None:
        """Live events as JSON text messages (the same events as the SSE stream)."""
        wanted = parse_topics(topics)
        await socket.accept()
        try:
            async for event in hub.stream(wanted, last_id=last_event_id, heartbeat_s=heartbeat_s):
                if event is not None:
                    await socket.send_text(event.model_dump_json())
        except WebSocketDisconnect:
            return

    return router
