"""The dashboard's actions: each checks the session (signed in, CSRF token, scope), calls
one service method as the session's key (the service audits it) and answers the panel it
changed, with the outcome or the refusal in words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Cookie, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from stockyard.dashboard._session import COOKIE, CSRF_HEADER, Session
from stockyard.services import (
    BacktestSpec,
    Caller,
    FetchSpec,
    MonteCarloSpec,
    OrderTicket,
    ServiceError,
    WalkForwardSpec,
)
from stockyard.store import KeyScope

if TYPE_CHECKING:
    from stockyard.dashboard._app import Dashboard

__all__ = ["KILL_WORD", "RESUME_WORD", "action_routes", "caller_of"]

KILL_WORD = "HALT"
RESUME_WORD = "RESUME"
_REASON = "kill switch pulled from the dashboard"


def caller_of(session: Session) -> Caller:
    """The service caller a dashboard session acts as (its key, through the dashboard)."""
    return Caller(
        key_id=session.key_id, name=session.name, scope=KeyScope(session.scope), via="dashboard"
    )


def _checked(dash: Dashboard, session_id: str | None, request: Request, needed: str) -> Session:
    """The session behind a state-changing request: signed in (401), CSRF token sent
    back (403), scope enough (403)."""
    session = dash.session(session_id)
    if session is None:
        raise HTTPException(401, "sign in first")
    if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
        raise HTTPException(403, "missing or wrong CSRF token")
    if not session.may(needed):
        raise HTTPException(403, f"this needs the {needed} scope; you have {session.scope}")
    return session


async def _act(
    dash: Dashboard,
    session: Session,
    panel: str,
    work: Callable[[Caller], Awaitable[object]],
    done: str = "",
) -> HTMLResponse:
    try:
        await work(caller_of(session))
    except ServiceError as exc:
        return await dash.panel(panel, session, {}, message=exc.message)
    return await dash.panel(panel, session, {}, message=done)


Sid = Annotated[str | None, Cookie(alias=COOKIE)]
_LaunchSpec = BacktestSpec | WalkForwardSpec | MonteCarloSpec
_LAUNCHERS = frozenset({"backtest", "walkforward", "montecarlo"})
_VERBS = ("start", "stop", "restart")


async def _process(dash: Dashboard, session: Session, name: str, verb: str) -> HTMLResponse:
    """Start, stop or restart one process (``all``: start or stop every one) through the
    process service, audited as the session's key (admin)."""
    processes = dash.services.processes
    if not processes.supervised:
        raise HTTPException(404, "this hub runs no process supervisor")
    if verb not in _VERBS or (name == "all" and verb == "restart"):
        raise HTTPException(404, f"no process action {verb!r} for {name!r}")

    def work(caller: Caller) -> Awaitable[object]:
        if name == "all":
            act_all = processes.start_all if verb == "start" else processes.stop_all
            return act_all(caller=caller)
        act: Callable[..., Awaitable[object]] = getattr(processes, verb)
        return act(name, caller=caller)

    return await _act(dash, session, "processes", work)


def _typed(text: str, like: object) -> object:
    """A form's text as the type of the parameter's current value (ValueError if not)."""
    if isinstance(like, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() in ("true", "1", "yes")
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    return text


async def _params(
    dash: Dashboard, session: Session, bot_id: str, form: dict[str, str]
) -> HTMLResponse:
    """Change a bot's changeable parameters through the trading service (all or nothing)."""
    bots = {b.bot_id: b for b in (await dash.services.trading.bots()).bots}
    bot = bots.get(bot_id)
    if bot is None:
        raise HTTPException(404, f"no bot {bot_id!r}")
    changed: dict[str, object] = {}
    try:
        for name, text in form.items():
            if name in bot.changeable and text != str(bot.params.get(name)):
                changed[name] = _typed(text, bot.params.get(name))
    except ValueError as exc:
        return await dash.bot_params(session, f"Not changed: {exc}", accepted=False)
    if not changed:
        return await dash.bot_params(session, "Nothing to change.", accepted=False)
    try:
        await dash.services.trading.set_params(bot_id, changed, caller=caller_of(session))
    except ServiceError as exc:
        return await dash.bot_params(session, f"Refused: {exc.message}", accepted=False)
    shown = ", ".join(f"{k}={v}" for k, v in changed.items())
    return await dash.bot_params(session, f"{bot_id}: {shown}", accepted=True)


def _spec_of(kind: str, form: dict[str, str]) -> _LaunchSpec:
    """The job spec a launch form describes (``ValidationError`` when it does not)."""
    fields: dict[str, object] = dict(form)
    if "symbols" in fields:
        fields["symbols"] = [
            s.strip().upper() for s in str(fields["symbols"]).split(",") if s.strip()
        ]
    if kind == "walkforward":
        space = str(fields.pop("space", ""))
        fields["space"] = dict(
            part.strip().split("=", 1) for part in space.split(",") if "=" in part
        )
        return WalkForwardSpec.model_validate(fields)
    if kind == "montecarlo":
        return MonteCarloSpec.model_validate(fields)
    return BacktestSpec.model_validate(fields)


async def _launch(dash: Dashboard, session: Session, form: dict[str, str]) -> HTMLResponse:
    """Start a backtest, walk-forward or Monte Carlo job through the research service."""
    research = dash.services.research

    def answer(message: str, *, accepted: bool) -> HTMLResponse:
        body = dash.render(
            "partials/launch.html",
            session=session,
            message=message,
            accepted=accepted,
            runs=list(reversed(research.runs())),
        )
        headers = {"Cache-Control": "no-store"}
        if accepted:  # the runs panel shows the job at once (its events may come first)
            headers["HX-Trigger"] = "job-launched"
        return HTMLResponse(body, headers=headers)

    kind = form.pop("kind", "backtest")
    if kind not in _LAUNCHERS:
        return answer(f"Not launched: no job kind {kind!r}", accepted=False)
    try:
        spec = _spec_of(kind, form)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return answer(f"Not launched: {problems}", accepted=False)
    try:
        launch = getattr(research, kind)
        job = await launch(spec, caller=caller_of(session))
    except ServiceError as exc:
        return answer(f"Refused: {exc.message}", accepted=False)
    if isinstance(spec, MonteCarloSpec):
        what = f"{spec.method} Monte Carlo of run {spec.run_id}"
    else:
        what = f"{spec.strategy} on {', '.join(spec.symbols)}"
        what = f"walk-forward of {what}" if kind == "walkforward" else what
    return answer(f"Job {job.id} launched: {what}", accepted=True)


async def _fetch(dash: Dashboard, session: Session, form: dict[str, str]) -> HTMLResponse:
    """Start a fetch job through the data service (trade)."""

    def answer(message: str, *, accepted: bool) -> HTMLResponse:
        body = dash.render(
            "partials/fetch.html", session=session, message=message, accepted=accepted
        )
        headers = {"Cache-Control": "no-store"}
        if accepted:
            headers["HX-Trigger"] = "job-launched"
        return HTMLResponse(body, headers=headers)

    symbols = [s.strip().upper() for s in form.pop("symbols", "").split(",") if s.strip()]
    try:
        spec = FetchSpec.model_validate({**form, "symbols": symbols})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return answer(f"Not fetched: {problems}", accepted=False)
    try:
        job = await dash.services.data.fetch_job(spec, caller=caller_of(session))
    except ServiceError as exc:
        return answer(f"Refused: {exc.message}", accepted=False)
    said = f"Job {job.id} fetching {', '.join(spec.symbols)} ({spec.timeframe}, {spec.source})"
    return answer(f"{said}, {spec.start} to {spec.end}", accepted=True)


async def _place(dash: Dashboard, session: Session, form: dict[str, str]) -> HTMLResponse:
    """Send the order ticket's order through the trading service (risk, then the node)."""
    symbol = form.get("symbol", "")
    if form.get("type") != "limit":
        form.pop("limit_price", None)
    try:
        ticket = OrderTicket.model_validate(form)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await dash.ticket(session, symbol, f"Not sent: {problems}", accepted=False)
    try:
        outcome = await dash.services.trading.submit(ticket, caller=caller_of(session))
    except ServiceError as exc:
        return await dash.ticket(session, symbol, f"Refused: {exc.message}", accepted=False)
    if not outcome.accepted:
        reason = outcome.reason or outcome.code or "refused"
        return await dash.ticket(session, symbol, f"Refused: {reason}", accepted=False)
    done = f"Sent {ticket.side.value} {ticket.qty} {ticket.symbol}: {outcome.client_order_id}"
    return await dash.ticket(session, symbol, done, accepted=True)


def _kill_and_form_routes(router: APIRouter, dash: Dashboard) -> None:
    """The kill switch, its release, the order ticket and the backtest launcher."""
    trading = dash.services.trading

    @router.post("/ui/actions/kill", response_class=HTMLResponse)
    async def kill(
        request: Request,
        confirm: Annotated[str, Form()] = "",
        flatten: Annotated[str, Form()] = "",
        session_id: Sid = None,
    ) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        if confirm.strip() != KILL_WORD:
            return await dash.panel(
                "kill", session, {}, message=f"Type {KILL_WORD} to confirm; nothing was done."
            )
        return await _act(
            dash,
            session,
            "kill",
            lambda c: trading.halt(
                "kill switch from the dashboard", flatten=bool(flatten), caller=c
            ),
        )

    @router.post("/ui/actions/orders", response_class=HTMLResponse)
    async def place(request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        form = {k: str(v).strip() for k, v in (await request.form()).items() if str(v).strip()}
        return await _place(dash, session, form)

    @router.post("/ui/actions/backtests", response_class=HTMLResponse)
    async def launch(request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        form = {k: str(v).strip() for k, v in (await request.form()).items() if str(v).strip()}
        return await _launch(dash, session, form)

    @router.post("/ui/actions/data/fetch", response_class=HTMLResponse)
    async def fetch(request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        form = {k: str(v).strip() for k, v in (await request.form()).items() if str(v).strip()}
        return await _fetch(dash, session, form)

    @router.post("/ui/actions/resume", response_class=HTMLResponse)
    async def resume(
        request: Request, confirm: Annotated[str, Form()] = "", session_id: Sid = None
    ) -> HTMLResponse:
        session = _checked(dash, session_id, request, "admin")
        if confirm.strip() != RESUME_WORD:
            return await dash.panel(
                "kill", session, {}, message=f"Type {RESUME_WORD} to confirm; nothing was done."
            )
        return await _act(dash, session, "kill", lambda c: trading.reset(caller=c))


def _trading_routes(router: APIRouter, dash: Dashboard) -> None:
    """Close a position, cancel an order, change or pause/resume a bot."""
    trading = dash.services.trading

    @router.post("/ui/actions/positions/{symbol:path}/close", response_class=HTMLResponse)
    async def close_position(symbol: str, request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        return await _act(
            dash, session, "positions", lambda c: trading.close_position(symbol, caller=c)
        )

    @router.post("/ui/actions/orders/{client_order_id}/cancel", response_class=HTMLResponse)
    async def cancel(
        client_order_id: str, request: Request, session_id: Sid = None
    ) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        return await _act(
            dash, session, "orders", lambda c: trading.cancel(client_order_id, caller=c)
        )

    @router.post("/ui/actions/bots/{bot_id}/params", response_class=HTMLResponse)
    async def params(bot_id: str, request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        return await _params(dash, session, bot_id, form)

    @router.post("/ui/actions/bots/{bot_id}/{verb}", response_class=HTMLResponse)
    async def bot(bot_id: str, verb: str, request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        if verb not in ("pause", "resume"):
            raise HTTPException(404, f"no bot action {verb!r}")
        act = trading.pause if verb == "pause" else trading.resume
        return await _act(dash, session, "bots", lambda c: act(bot_id, caller=c))


def _system_routes(router: APIRouter, dash: Dashboard) -> None:
    """Acknowledge an alert, drive a process, reset a breaker."""
    system = dash.services.system

    @router.post("/ui/actions/alerts/{alert_id}/ack", response_class=HTMLResponse)
    async def acknowledge(alert_id: str, request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "trade")
        return await _act(dash, session, "alerts", lambda c: system.acknowledge(alert_id, caller=c))

    @router.post("/ui/actions/processes/{name}/{verb}", response_class=HTMLResponse)
    async def process(
        name: str, verb: str, request: Request, session_id: Sid = None
    ) -> HTMLResponse:
        session = _checked(dash, session_id, request, "admin")
        return await _process(dash, session, name, verb)

    @router.post("/ui/actions/breakers/{name}/reset", response_class=HTMLResponse)
    async def reset_breaker(name: str, request: Request, session_id: Sid = None) -> HTMLResponse:
        session = _checked(dash, session_id, request, "admin")
        return await _act(dash, session, "breakers", lambda c: system.reset_breaker(name, caller=c))


def action_routes(router: APIRouter, dash: Dashboard) -> None:
    """Add the action routes (POST, htmx) to ``router``."""
    _kill_and_form_routes(router, dash)
    _trading_routes(router, dash)
    _system_routes(router, dash)
