"""The dashboard's routes on the hub app: pages (one per tab), panels (htmx partials), the
page's one event stream, and sign-in. ``mount_dashboard`` adds them; the actions are in
``_actions``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
import plotly  # type: ignore[import-untyped]  # ships no type hints
from fastapi import APIRouter, Cookie, FastAPI, Form, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from stockyard.backtest import Results
from stockyard.backtest.report import build_report, report_title
from stockyard.dashboard._actions import action_routes
from stockyard.dashboard._format import FILTERS
from stockyard.dashboard._panels import PANELS, Sources, panel_context
from stockyard.dashboard._session import COOKIE, Session, SignIn
from stockyard.services import TOPICS, ProcessControl, ServiceError, Services

__all__ = ["PLOTLY_PATH", "STATIC_DIR", "Dashboard", "Tab", "mount_dashboard", "page_paths"]

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"
PLOTLY_PATH = "/static/vendor/plotly.min.js"
_PLOTLY_FILE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_THEMES = ("light", "dark", "auto")
_NO_STORE = {"Cache-Control": "no-store"}
_PAGE_TOPICS = "bars,fills,orders,positions,pnl,alerts,health,jobs,processes"


@dataclass(frozen=True, slots=True)
class Tab:
    """A page of the dashboard: where, its label, its template, its panels."""

    path: str
    label: str
    page: str
    panels: tuple[str, ...]
    needs_node: bool = False


_TABS: tuple[Tab, ...] = (
    Tab("/", "Overview", "overview", ("health", "alerts")),
    Tab(
        "/trading",
        "Trading",
        "trading",
        ("account", "positions", "orders", "fills", "pnl"),
        needs_node=True,
    ),
    Tab("/system", "System", "system", ("health", "breakers", "rates")),
    Tab("/bots", "Bots", "bots", ("bots",), needs_node=True),
    Tab("/alerts", "Errors & Alerts", "alerts", ("errors", "alerts")),
    Tab("/backtests", "Backtests", "backtests", ("runs", "compare")),
    Tab("/data", "Data", "data", ("catalog",)),
)


def page_paths() -> Sequence[str]:
    """Every tab's path (for tests and the benchmark)."""
    return [t.path for t in _TABS]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    version = str(int(max(p.stat().st_mtime for p in STATIC_DIR.rglob("*") if p.is_file())))
    env.globals["static"] = lambda name: f"/static/{name}?v={version}"
    return env


class Dashboard:
    """The state behind the routes: services, sign-in, templates, the tabs shown."""

    def __init__(
        self, services: Services, signin: SignIn, supervisor: ProcessControl | None = None
    ) -> None:
        if supervisor is not None and not services.processes.supervised:
            services.processes.attach(supervisor)
        services.processes.start_sampling(services.events.publish)  # sparklines
        self.services = services
        self.sources = Sources(services)
        self.signin = signin
        self.env = _environment()

    @property
    def has_supervisor(self) -> bool:
        """Whether the processes run under a supervisor (the System tab shows them)."""
        return self.services.processes.supervised

    @property
    def has_node(self) -> bool:
        """Whether a trading node is reachable (the books' tabs and panels need one)."""
        return bool(self.services.trading.nodes)

    def tabs(self) -> list[Tab]:
        """The tabs this hub can fill."""
        return [t for t in _TABS if self.has_node or not t.needs_node]

    def render(self, name: str, **context: Any) -> str:
        """``name`` rendered with ``context``."""
        return self.env.get_template(name).render(**context)

    def session(self, cookie: str | None) -> Session | None:
        """The signed-in session of a cookie value, if any."""
        return self.signin.session(cookie)

    def theme(self, request: Request) -> str:
        """The theme asked for by the browser's cookie (auto follows the system's)."""
        chosen = request.cookies.get("stockyard_theme", "auto")
        return chosen if chosen in _THEMES else "auto"

    async def panel(
        self, name: str, session: Session, query: dict[str, str], message: str = ""
    ) -> HTMLResponse:
        """One panel's partial (after an action, with its ``message``)."""
        found = PANELS.get(name)
        if (
            found is None
            or (found.needs_node and not self.has_node)
            or (found.needs_supervisor and not self.has_supervisor)
        ):
            raise HTTPException(404, f"no panel {name!r}")
        context = await panel_context(self.sources, session, [name], query)
        body = self.render(found.template, message=message, **context)
        return HTMLResponse(body, headers=_NO_STORE)

    async def ticket(
        self, session: Session, symbol: str, message: str, *, accepted: bool
    ) -> HTMLResponse:
        """The order ticket after a try, with its outcome in words."""
        chart = await self._chart(symbol)
        body = self.render(
            "partials/ticket.html",
            session=session,
            message=message,
            accepted=accepted,
            symbols=chart["symbols"],
            symbol=chart["symbol"],
        )
        return HTMLResponse(body, headers=_NO_STORE)

    async def bot_params(self, session: Session, message: str, *, accepted: bool) -> HTMLResponse:
        """The parameter forms after a change, with its outcome in words."""
        bots = (await self.services.trading.bots()).bots
        body = self.render(
            "partials/bot_params.html",
            session=session,
            bots=bots,
            message=message,
            accepted=accepted,
        )
        return HTMLResponse(body, headers=_NO_STORE)

    async def page(self, request: Request, tab: Tab, session: Session) -> HTMLResponse:
        """A whole tab."""
        query = dict(request.query_params)
        panels = list(tab.panels)
        if tab.page == "overview" and self.has_node:
            panels = ["equity", "account", "positions", *panels]
        if tab.page == "system" and self.has_supervisor:
            panels = ["processes", *panels]
        context = await panel_context(self.sources, session, panels, query)
        if tab.page == "trading":
            context.update(await self._chart(query.get("symbol")))
        body = self.render(
            f"{tab.page}.html",
            title=tab.label,
            page=tab.page,
            current=tab.path,
            tabs=[(t.path, t.label) for t in self.tabs()],
            theme=self.theme(request),
            events_url=f"/ui/events?topics={_PAGE_TOPICS}",
            has_node=self.has_node,
            has_supervisor=self.has_supervisor,
            message="",
            **context,
        )
        return HTMLResponse(body, headers=_NO_STORE)

    async def _chart(self, wanted: str | None) -> dict[str, Any]:
        """The chart's symbols and its seed: the bars the event ring still holds, the
        fills and the open orders of the symbol shown."""
        bots = (await self.services.trading.bots()).bots
        symbols = sorted({s for b in bots for s in b.symbols})
        symbol = wanted if wanted in symbols else (symbols[0] if symbols else "")
        ring = self.services.events.since(0, ["bars"])
        bars = [e.data for e in ring if e.data.get("symbol") == symbol]
        fills = (await self.services.trading.fills(limit=500)).fills
        orders = (await self.services.trading.orders(open_only=True)).orders
        seed = {
            "bars": bars,
            "fills": [f.model_dump(mode="json") for f in fills if f.symbol == symbol],
            "orders": [o.model_dump(mode="json") for o in orders if o.symbol == symbol],
        }
        return {"symbol": symbol, "symbols": symbols, "seed": seed}


def _set_cookie(response: Response, session: Session, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="strict", secure=secure, path="/"
    )


def _page_route(dash: Dashboard, tab: Tab) -> Any:
    async def show(
        request: Request, session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> Response:
        session = dash.session(session_id)
        if session is None:
            return RedirectResponse("/signin", status_code=303)
        if tab.needs_node and not dash.has_node:
            raise HTTPException(404, "no trading node is connected to this hub")
        return await dash.page(request, tab, session)

    show.__name__ = f"dashboard_{tab.page}"
    return show


def _signin_routes(router: APIRouter, dash: Dashboard) -> None:
    def form(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
        body = dash.render(
            "signin.html",
            theme=dash.theme(request),
            accepts_keys=dash.signin.accepts_keys,
            message=message,
        )
        return HTMLResponse(body, status_code=status, headers=_NO_STORE)

    def signed_in(request: Request, session: Session) -> Response:
        response = RedirectResponse("/", status_code=303)
        _set_cookie(response, session, secure=request.url.scheme == "https")
        return response

    @router.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request, token: str | None = None) -> Response:
        if token is None:
            return form(request)
        session = dash.signin.redeem(token)
        if session is None:
            return form(request, "This sign-in link was used or has expired.", 401)
        return signed_in(request, session)

    @router.post("/signin", response_class=HTMLResponse)
    async def signin_key(request: Request, key: Annotated[str, Form()] = "") -> Response:
        session = dash.signin.with_key(key.strip())
        if session is None:
            return form(request, "That key is not valid (unknown or revoked).", 401)
        return signed_in(request, session)

    @router.post("/signout")
    async def signout(
        csrf: Annotated[str, Form()] = "",
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> Response:
        session = dash.session(session_id)
        if session is not None and session.csrf_ok(csrf):
            dash.signin.end(session.id)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


def _read_routes(router: APIRouter, dash: Dashboard) -> None:
    def reader(session_id: str | None) -> Session:
        session = dash.session(session_id)
        if session is None:
            raise HTTPException(401, "sign in first")
        return session

    @router.get("/ui/panel/{name}", response_class=HTMLResponse)
    async def panel(
        name: str,
        request: Request,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> HTMLResponse:
        params = request.query_params  # a repeated field (checkboxes) arrives comma-joined
        query = {k: ",".join(params.getlist(k)) for k in params}
        return await dash.panel(name, reader(session_id), query)

    @router.get("/ui/events")
    async def events(
        request: Request,
        topics: str = "",
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> StreamingResponse:
        reader(session_id)
        wanted = [t for t in topics.split(",") if t] or list(TOPICS)
        unknown = sorted(set(wanted) - set(TOPICS))
        if unknown:
            raise HTTPException(400, f"unknown topics: {', '.join(unknown)}")
        last = request.headers.get("last-event-id")
        last_id = int(last) if last and last.isdigit() else None
        return StreamingResponse(
            _sse(dash.services, wanted, last_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/backtests/{run_id}/report", response_class=HTMLResponse)
    async def report(
        run_id: str, session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> HTMLResponse:
        reader(session_id)
        try:
            results = Results.from_dict(dash.services.research.run(run_id))
        except ServiceError as exc:
            raise HTTPException(exc.status, exc.message) from None
        document = build_report(
            title=f"{report_title(results)} [{run_id}]", results=results, plotly_src=PLOTLY_PATH
        )
        return HTMLResponse(document, headers=_NO_STORE)


async def _sse(services: Services, topics: list[str], last_id: int | None) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    async for event in services.events.stream(topics, last_id=last_id):
        if event is None:
            yield b": keep-alive\n\n"
            continue
        body = orjson.dumps(event.model_dump(mode="json"))
        yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.topic.encode(), body)


def mount_dashboard(
    app: FastAPI,
    services: Services,
    *,
    signin: SignIn | None = None,
    supervisor: ProcessControl | None = None,
) -> SignIn:
    """Serve the dashboard from ``app`` at ``/`` (pages, panels, actions, sign-in, the
    page's event stream at ``/ui/events``) and its assets at ``/static`` (plotly's bundle
    at ``PLOTLY_PATH``, for reports seen from the hub). API keys sign in through
    ``services.access``; when ``services.processes`` has a supervisor (or one is given
    here: the service drives it from then on) the System tab shows and drives the
    processes through that service. The ``SignIn`` back, to mint the one-time link ``up`` prints."""

    def verify(key: str) -> tuple[str | None, str, str] | None:
        found = services.access.verify(key)
        return None if found is None else (found.key_id, found.name, found.scope.value)

    signin = signin or SignIn(verify=verify)
    dash = Dashboard(services, signin, supervisor)
    app.state.dashboard = dash
    router = APIRouter(include_in_schema=False)
    for tab in _TABS:
        router.add_api_route(tab.path, _page_route(dash, tab), methods=["GET"])
    _signin_routes(router, dash)
    _read_routes(router, dash)
    action_routes(router, dash)

    @router.get(PLOTLY_PATH)
    async def plotly_bundle() -> FileResponse:
        return FileResponse(_PLOTLY_FILE, media_type="text/javascript")

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    return signin
