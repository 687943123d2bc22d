"""A node's own control API over a Unix socket, and ``SocketNodeClient`` that speaks it.

Each node process serves ``NodeClient``'s calls as HTTP on ``STOCKYARD_HOME/run/node-NAME
.sock`` (a socket path holds at most 107 bytes: a deep home falls back to a short runtime
directory, see :func:`node_socket_path`). The hub reaches the node through a
``SocketNodeClient``; inside the node the routes call a ``LocalNodeClient``.

Start it from the node's event loop, after ``await node.start()``::

    server = await start_node_socket(node, name="main", home=settings.home)
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import orjson
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import generate_latest
from pydantic import BaseModel

from stockyard import __version__
from stockyard.bus import RedisBus
from stockyard.engine import NodeHealth, TradingNode
from stockyard.health import SourceReport, checks_from_ietf
from stockyard.obs import metrics_registry
from stockyard.orchestrator import node_socket_path
from stockyard.resilience import ErrorRegistry
from stockyard.services._errors import ServiceError
from stockyard.services._events import Event, EventHub
from stockyard.services._models import (
    AccountView,
    BotsView,
    BotView,
    CloseOutcome,
    EquityView,
    FillsView,
    HaltRequest,
    KillState,
    NodeStatusView,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    ParamsChange,
    PnlView,
    PositionsView,
)
from stockyard.services._node_client import LocalNodeClient, NodeClient

__all__ = [
    "NodeSocketServer",
    "SocketNodeClient",
    "SocketNodeHealth",
    "node_app",
    "node_socket_path",
    "start_node_socket",
]

M = TypeVar("M", bound=BaseModel)


def _event_route(app: FastAPI, hub: EventHub) -> None:
    """``GET /events``: the hub's events as SSE, resumed from ``Last-Event-ID``."""

    @app.get("/events")
    async def stream(last_event_id: int | None = Header(default=None)) -> StreamingResponse:
        # A client ahead of this node saw an earlier run of it (the node restarted and
        # numbers its events from 1 again): it gets all of this run's.
        if hub.closed:  # the node is stopping: the hub's relay retries later, not at once
            raise HTTPException(503, "the node is stopping")
        start = last_event_id
        if start is not None and start > hub.last_id:
            start = 0

        async def frames() -> AsyncIterator[bytes]:
            async for event in hub.stream(last_id=start):
                if event is None:
                    yield b": keep-alive\n\n"
                else:
                    body = event.model_dump_json().encode()
                    yield b"id: %d\ndata: %s\n\n" % (event.id, body)

        return StreamingResponse(frames(), media_type="text/event-stream")


def _read_routes(app: FastAPI, client: NodeClient) -> None:
    """The node's reads."""

    @app.get("/account")
    async def account() -> AccountView:
        return await client.account()

    @app.get("/positions")
    async def positions() -> PositionsView:
        return await client.positions()

    @app.get("/orders")
    async def orders(
        open_only: bool = True, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
    ) -> OrdersView:
        return await client.orders(open_only=open_only, limit=limit)

    @app.get("/orders/{client_order_id}")
    async def order(client_order_id: str) -> OrderView:
        return await client.order(client_order_id)

    @app.get("/fills")
    async def fills(
        since: datetime | None = None, limit: Annotated[int, Query(ge=1, le=100_000)] = 500
    ) -> FillsView:
        return await client.fills(since=since, limit=limit)

    @app.get("/pnl")
    async def pnl(since: datetime | None = None) -> PnlView:
        return await client.pnl(since=since)

    @app.get("/bots")
    async def bots() -> BotsView:
        return await client.bots()

    @app.get("/status")
    async def status() -> NodeStatusView:
        return await client.status()

    @app.get("/equity")
    async def equity(since: datetime | None = None) -> EquityView:
        return await client.equity(since=since)


def _control_routes(app: FastAPI, client: NodeClient) -> None:
    """The node's control verbs."""

    @app.post("/orders")
    async def submit(ticket: OrderTicket) -> OrderOutcome:
        return await client.submit(ticket)

    @app.post("/orders/{client_order_id}/cancel")
    async def cancel(client_order_id: str) -> OrderOutcome:
        return await client.cancel(client_order_id)

    @app.post("/orders/{client_order_id}/replace")
    async def replace(client_order_id: str, change: OrderChange) -> OrderOutcome:
        return await client.replace(client_order_id, change)

    @app.post("/halt")
    async def halt(body: HaltRequest) -> KillState:
        return await client.halt(body.reason, flatten=body.flatten)

    @app.post("/reset")
    async def reset() -> KillState:
        return await client.reset()

    @app.post("/positions/{symbol}/close")
    async def close_position(symbol: str) -> CloseOutcome:
        return await client.close_position(symbol)

    @app.post("/positions/close")
    async def close_all() -> CloseOutcome:
        return await client.close_all()

    @app.post("/bots/{bot_id}/pause")
    async def pause(bot_id: str) -> BotView:
        return await client.pause(bot_id)

    @app.post("/bots/{bot_id}/resume")
    async def resume(bot_id: str) -> BotView:
        return await client.resume(bot_id)

    @app.post("/bots/{bot_id}/params")
    async def set_params(bot_id: str, body: ParamsChange) -> BotView:
        return await client.set_params(bot_id, dict(body.values))


def _health_routes(app: FastAPI, health: NodeHealth, errors: ErrorRegistry) -> None:
    """``GET /health``: the node's checks run now, with its process's errors, its breakers
    and its metrics, in one answer (what the hub merges each cycle)."""

    @app.get("/health")
    async def report() -> Response:
        done = await health.run()
        body = {
            "process": health.name,
            "checks": done.to_ietf(version=__version__, service_id=health.name)["checks"],
            "errors": errors.snapshot(),
            "breakers": health.breaker_states(),
            "metrics": generate_latest(metrics_registry()).decode(),
        }
        return Response(orjson.dumps(body), media_type="application/json")

    @app.post("/breakers/{name}/reset")
    async def reset_breaker(name: str) -> Response:
        state = await health.reset_breaker(name)
        if state is None:
            body = {"code": "unknown_breaker", "message": f"no breaker {name!r}"}
            return Response(orjson.dumps(body), 404, media_type="application/json")
        return Response(orjson.dumps(state), media_type="application/json")


def node_app(
    client: NodeClient,
    events: EventHub | None = None,
    *,
    health: NodeHealth | None = None,
    errors: ErrorRegistry | None = None,
) -> FastAPI:
    """The node's control routes over ``client`` (errors as ``{"code", "message"}``), its
    events (``GET /events``, SSE, ``Last-Event-ID``) when ``events`` is given, and its health
    (``GET /health``) when ``health`` is."""
    app = FastAPI(title="Stockyard node", docs_url=None, redoc_url=None)
    if events is not None:
        _event_route(app, events)
    if health is not None:
        _health_routes(app, health, errors if errors is not None else health.node.errors)

    @app.exception_handler(ServiceError)
    async def refused(_request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    _read_routes(app, client)
    _control_routes(app, client)
    return app


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the node's process owns its signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class NodeSocketServer:
    """The node's control API on a Unix socket (mode 0600), served on the running loop."""

    def __init__(
        self,
        client: NodeClient,
        path: Path,
        *,
        events: EventHub | None = None,
        health: NodeHealth | None = None,
    ) -> None:
        self.path = path
        self.events = events
        config = uvicorn.Config(
            node_app(client, events, health=health),
            uds=str(path),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # stop() ends the event streams a hub holds open; a request still running when
            # the node stops gets 2 s to finish.
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, within_s: float = 10.0) -> None:
        """Bind the socket and serve in a task of the running loop."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.unlink(missing_ok=True)  # a socket left by a killed process
        self._task = asyncio.ensure_future(self._server.serve())
        deadline = asyncio.get_running_loop().time() + within_s
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"node socket {self.path} stopped at start")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"node socket {self.path} did not start in {within_s:g} s")
            await asyncio.sleep(0.01)
        self.path.chmod(0o600)

    async def stop(self) -> None:
        """Stop serving and remove the socket."""
        self._server.should_exit = True
        if self.events is not None:
            self.events.detach()
            # End the event streams a hub holds open, so the server stops at once rather
            # than after its graceful-shutdown timeout.
            self.events.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.path.unlink(missing_ok=True)


async def start_node_socket(
    node: TradingNode,
    *,
    name: str,
    home: Path,
    path: Path | None = None,
    health: NodeHealth | None = None,
) -> NodeSocketServer:
    """Serve ``node``'s control API, its events (orders, fills, market data from its bus)
    and, given ``health``, its health on its socket (call from the node's event loop after
    ``await node.start()``); ``await server.stop()`` before the node stops."""
    events = EventHub()
    bus = node.bus
    # This node's own events: a Redis bus's local side (other processes' are theirs).
    events.attach(bus.local if isinstance(bus, RedisBus) else bus)
    server = NodeSocketServer(
        LocalNodeClient(node, name=name),
        path or node_socket_path(home, name),
        events=events,
        health=health,
    )
    await server.start()
    return server


def _seg(value: str) -> str:
    """``value`` as one path segment (percent-encoded: an id may hold any character)."""
    return urllib.parse.quote(value, safe="")


class SocketNodeClient:
    """``NodeClient`` over HTTP on a node's Unix socket."""

    def __init__(self, path: Path, *, name: str = "main", timeout: float = 10.0) -> None:
        self.name = name
        self.path = path
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(path)),
            base_url="http://node",
            timeout=timeout,
        )

    async def _send(
        self, method: str, url: str, model: type[M], *, json: Any = None, params: Any = None
    ) -> M:
        try:
            response = await self._http.request(method, url, json=json, params=params)
        except httpx.TransportError as exc:
            raise ServiceError(
                "node_unreachable", f"node {self.name!r} at {self.path}: {exc!r}", status=503
            ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = str(body["code"]), str(body["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "node_error", response.text[:500]
            raise ServiceError(code, message, status=response.status_code)
        return model.model_validate_json(response.content)

    async def account(self) -> AccountView:
        return await self._send("GET", "/account", AccountView)

    async def positions(self) -> PositionsView:
        return await self._send("GET", "/positions", PositionsView)

    async def orders(self, *, open_only: bool = True, limit: int = 100) -> OrdersView:
        params = {"open_only": str(open_only).lower(), "limit": limit}
        return await self._send("GET", "/orders", OrdersView, params=params)

    async def order(self, client_order_id: str) -> OrderView:
        return await self._send("GET", f"/orders/{_seg(client_order_id)}", OrderView)

    async def fills(self, *, since: datetime | None = None, limit: int = 500) -> FillsView:
        params: dict[str, object] = {"limit": limit}
        if since is not None:
            params["since"] = since.isoformat()
        return await self._send("GET", "/fills", FillsView, params=params)

    async def pnl(self, *, since: datetime | None = None) -> PnlView:
        params = {} if since is None else {"since": since.isoformat()}
        return await self._send("GET", "/pnl", PnlView, params=params)

    async def bots(self) -> BotsView:
        return await self._send("GET", "/bots", BotsView)

    async def status(self) -> NodeStatusView:
        return await self._send("GET", "/status", NodeStatusView)

    async def equity(self, *, since: datetime | None = None) -> EquityView:
        params = {} if since is None else {"since": since.isoformat()}
        return await self._send("GET", "/equity", EquityView, params=params)

    async def submit(self, ticket: OrderTicket) -> OrderOutcome:
        body = ticket.model_dump(mode="json", exclude_none=True)
        return await self._send("POST", "/orders", OrderOutcome, json=body)

    async def cancel(self, client_order_id: str) -> OrderOutcome:
        return await self._send("POST", f"/orders/{_seg(client_order_id)}/cancel", OrderOutcome)

    async def replace(self, client_order_id: str, change: OrderChange) -> OrderOutcome:
        body = change.model_dump(mode="json", exclude_none=True)
        url = f"/orders/{_seg(client_order_id)}/replace"
        return await self._send("POST", url, OrderOutcome, json=body)

    async def halt(self, reason: str, *, flatten: bool) -> KillState:
        body = {"reason": reason, "flatten": flatten}
        return await self._send("POST", "/halt", KillState, json=body)

    async def reset(self) -> KillState:
        return await self._send("POST", "/reset", KillState)

    async def close_position(self, symbol: str) -> CloseOutcome:
        return await self._send("POST", f"/positions/{_seg(symbol)}/close", CloseOutcome)

    async def close_all(self) -> CloseOutcome:
        return await self._send("POST", "/positions/close", CloseOutcome)

    async def pause(self, bot_id: str) -> BotView:
        return await self._send("POST", f"/bots/{_seg(bot_id)}/pause", BotView)

    async def resume(self, bot_id: str) -> BotView:
        return await self._send("POST", f"/bots/{_seg(bot_id)}/resume", BotView)

    async def set_params(self, bot_id: str, values: dict[str, object]) -> BotView:
        body = {"values": values}
        return await self._send("POST", f"/bots/{_seg(bot_id)}/params", BotView, json=body)

    async def events(self, *, last_event_id: int | None = None) -> AsyncIterator[Event]:
        """The node's events as they come (after ``last_event_id`` when given)."""
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        try:
            async with self._http.stream("GET", "/events", headers=headers, timeout=None) as got:
                if got.status_code >= 400:
                    raise ServiceError("node_error", f"events: HTTP {got.status_code}", status=503)
                async for line in got.aiter_lines():
                    if line.startswith("data:"):
                        yield Event.model_validate_json(line[5:])
        except httpx.TransportError as exc:
            raise ServiceError(
                "node_unreachable", f"node {self.name!r} at {self.path}: {exc!r}", status=503
            ) from None

    async def relay(self, hub: EventHub) -> None:
        """Publish the node's events on ``hub`` until cancelled: those the node still keeps,
        then each as it comes, reconnecting from the last one seen when the stream breaks
        (the hub numbers them anew)."""
        last = 0
        while True:
            try:
                async for event in self.events(last_event_id=last):
                    last = event.id
                    hub.publish(event.topic, event.data, event.subject)
            except ServiceError:
                await asyncio.sleep(1.0)  # the node restarts: try again

    async def health(self) -> dict[str, Any]:
        """The node's ``GET /health``: its checks run now, errors, breakers and metrics."""
        try:
            response = await self._http.get("/health")
        except httpx.TransportError as exc:
            raise ServiceError(
                "node_unreachable", f"node {self.name!r} at {self.path}: {exc!r}", status=503
            ) from None
        if response.status_code != 200:
            raise ServiceError("node_error", f"health: HTTP {response.status_code}", status=503)
        body: dict[str, Any] = response.json()
        return body

    async def reset_breaker(self, name: str) -> dict[str, Any] | None:
        """Close one of the node's breakers; None when it has none of that name."""
        try:
            response = await self._http.post(f"/breakers/{_seg(name)}/reset")
        except httpx.TransportError as exc:
            raise ServiceError(
                "node_unreachable", f"node {self.name!r} at {self.path}: {exc!r}", status=503
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:  # not reset: never reported (or audited) as done
            raise ServiceError(
                "node_error",
                f"node {self.name!r} did not reset breaker {name!r}: HTTP {response.status_code}",
                status=503,
            )
        state: dict[str, Any] = response.json()
        return state

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()


class SocketNodeHealth:
    """A node process's health, as a ``HealthSource`` of the hub: its checks, its
    process's errors, breakers and metrics, fetched over its socket each cycle."""

    def __init__(self, client: SocketNodeClient) -> None:
        self.client = client
        self.name = f"node@{client.name}"

    async def collect(self) -> SourceReport:
        body = await self.client.health()
        checks = body.get("checks")
        errors = body.get("errors")
        breakers = body.get("breakers")
        metrics = body.get("metrics")
        return SourceReport(
            checks=checks_from_ietf(checks if isinstance(checks, dict) else {}, at=_now()),
            errors=errors if isinstance(errors, dict) else None,
            breakers=breakers if isinstance(breakers, dict) else {},
            metrics=metrics if isinstance(metrics, str) else None,
        )

    async def reset_breaker(self, name: str) -> dict[str, Any] | None:
        return await self.client.reset_breaker(name)


def _now() -> datetime:
    return datetime.now(UTC)
