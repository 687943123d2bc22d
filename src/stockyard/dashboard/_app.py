"""The dashboard's routes on the hub app: pages (one per tab), panels (htmx partials),
actions (through the services, CSRF-checked) and sign-in. ``mount_dashboard`` adds them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import plotly  # type: ignore[import-untyped]  # ships no type hints
from fastapi import APIRouter, Cookie, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from stockyard.dashboard._format import FILTERS
from stockyard.dashboard._panels import PANELS, DashboardServices, panel_context
from stockyard.dashboard._session import COOKIE, CSRF_HEADER, Session, SignIn

__all__ = ["PLOTLY_PATH", "STATIC_DIR", "Tab", "mount_dashboard", "page_paths"]

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"
PLOTLY_PATH = "/static/vendor/plotly.min.js"
_PLOTLY_FILE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_THEMES = ("light", "dark", "auto")


@dataclass(frozen=True, slots=True)
class Tab:
    """A page of the dashboard: where, its label, its panels, whether it can be shown."""

    path: str
    label: str
    page: str
    panels: tuple[str, ...]


_TABS: tuple[Tab, ...] = (
    Tab("/", "Overview", "overview", ("health", "alerts")),
    Tab("/system", "System", "system", ("health", "breakers")),
    Tab("/alerts", "Errors & Alerts", "alerts", ("errors", "alerts")),
    Tab("/data", "Data", "data", ("catalog",)),
)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    version = str(int(max(p.stat().st_mtime for p in STATIC_DIR.rglob("*") if p.is_file())))
    env.globals["static"] = lambda name: f"/static/{name}?v={version}"
    return env


class _Dashboard:
    """The state behind the routes: services, sign-in, templates, tabs."""

    def __init__(self, services: DashboardServices, signin: SignIn, events_url: str | None) -> None:
        self.services = services
        self.signin = signin
        self.events_url = events_url
        self.env = _environment()
        self.tabs = tuple(t for t in _TABS if t.page != "data" or services.catalog is not None)

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def theme(self, request: Request) -> str:
        chosen = request.cookies.get("stockyard_theme", "auto")
        return chosen if chosen in _THEMES else "auto"

    async def page(self, request: Request, tab: Tab, session: Session) -> HTMLResponse:
        context = await panel_context(self.services, list(tab.panels))
        body = self.render(
            f"{tab.page}.html",
            title=tab.label,
            page=tab.page,
            current=tab.path,
            tabs=[(t.path, t.label) for t in self.tabs],
            session=session,
            theme=self.theme(request),
            events_url=self.events_url,
            can_ack=session.may("trade"),
            **context,
        )
        return HTMLResponse(body, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}


def _session_of(dash: _Dashboard, cookie: str | None) -> Session | None:
    return dash.signin.session(cookie)


def _set_cookie(response: Response, session: Session, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="strict", secure=secure, path="/"
    )


def _page_route(dash: _Dashboard, tab: Tab) -> Any:
    async def show(
        request: Request, session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> Response:
        session = _session_of(dash, session_id)
        if session is None:
            return RedirectResponse("/signin", status_code=303)
        return await dash.page(request, tab, session)

    show.__name__ = f"dashboard_{tab.page}"
    return show


def _signin_routes(router: APIRouter, dash: _Dashboard) -> None:
    def form(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
        body = dash.render(
            "signin.html",
            theme=dash.theme(request),
            accepts_keys=dash.signin.accepts_keys,
            message=message,
        )
        return HTMLResponse(body, status_code=status, headers=_NO_STORE)

    @router.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request, token: str | None = None) -> Response:
        if token is None:
            return form(request)
        session = dash.signin.redeem(token)
        if session is None:
            return form(request, "This sign-in link was used or has expired.", 401)
        response = RedirectResponse("/", status_code=303)
        _set_cookie(response, session, secure=request.url.scheme == "https")
        return response

    @router.post("/signin", response_class=HTMLResponse)
    async def signin_key(request: Request, key: Annotated[str, Form()] = "") -> Response:
        session = dash.signin.with_key(key.strip())
        if session is None:
            return form(request, "That key is not valid (unknown or revoked).", 401)
        response = RedirectResponse("/", status_code=303)
        _set_cookie(response, session, secure=request.url.scheme == "https")
        return response

    @router.post("/signout")
    async def signout(
        csrf: Annotated[str, Form()] = "",
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> Response:
        session = _session_of(dash, session_id)
        if session is not None and session.csrf_ok(csrf):
            dash.signin.end(session.id)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


def _panel_routes(router: APIRouter, dash: _Dashboard) -> None:
    @router.get("/ui/panel/{name}", response_class=HTMLResponse)
    async def panel(
        name: str, session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> HTMLResponse:
        session = _session_of(dash, session_id)
        if session is None:
            raise HTTPException(401, "sign in first")
        found = PANELS.get(name)
        if found is None:
            raise HTTPException(404, f"no panel {name!r}")
        context = await panel_context(dash.services, [name])
        body = dash.render(found.template, session=session, can_ack=session.may("trade"), **context)
        return HTMLResponse(body, headers=_NO_STORE)

    @router.post("/ui/actions/alerts/{alert_id}/ack", response_class=HTMLResponse)
    async def acknowledge(
        alert_id: str,
        request: Request,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> HTMLResponse:
        session = _checked(dash, session_id, request, needed="trade")
        if dash.services.health.acknowledge(alert_id) is None:
            raise HTTPException(404, f"no alert {alert_id!r}")
        context = await panel_context(dash.services, ["alerts"])
        body = dash.render("partials/alerts.html", session=session, can_ack=True, **context)
        return HTMLResponse(body, headers=_NO_STORE)


def _checked(dash: _Dashboard, session_id: str | None, request: Request, *, needed: str) -> Session:
    """The session behind a state-changing request: signed in, CSRF token sent back,
    scope enough (401, 403 otherwise)."""
    session = _session_of(dash, session_id)
    if session is None:
        raise HTTPException(401, "sign in first")
    if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
        raise HTTPException(403, "missing or wrong CSRF token")
    if not session.may(needed):
        raise HTTPException(403, f"this needs the {needed} scope; you have {session.scope}")
    return session


def mount_dashboard(
    app: FastAPI,
    services: DashboardServices,
    *,
    signin: SignIn | None = None,
    events_url: str | None = None,
) -> SignIn:
    """Serve the dashboard from ``app`` at ``/`` (pages, panels, actions, sign-in) and its
    assets at ``/static`` (plotly's bundle at ``PLOTLY_PATH``, for reports seen from the
    hub). ``events_url`` is the page's one event stream. The ``SignIn`` back, to mint the
    one-time link ``up`` prints."""
    signin = signin or SignIn()
    dash = _Dashboard(services, signin, events_url)
    app.state.dashboard = dash
    router = APIRouter(include_in_schema=False)
    for tab in dash.tabs:
        router.add_api_route(tab.path, _page_route(dash, tab), methods=["GET"])
    _signin_routes(router, dash)
    _panel_routes(router, dash)

    @router.get(PLOTLY_PATH)
    async def plotly_bundle() -> FileResponse:
        return FileResponse(_PLOTLY_FILE, media_type="text/javascript")

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    return signin


def page_paths() -> Sequence[str]:
    """Every tab's path (for tests and the benchmark)."""
    return [t.path for t in _TABS]
