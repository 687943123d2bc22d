"""``StockyardClient``: the typed synchronous client of ``/api/v1``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import httpx
import orjson

from stockyard.client._requests import ApiError, Request, calls, default_key, default_url
from stockyard.services import (
    AccountView,
    AuditEntryView,
    BacktestSpec,
    BotsView,
    BotView,
    CloseOutcome,
    CompareSpec,
    Event,
    FillsView,
    JobView,
    KeyView,
    KillState,
    ModelDetailView,
    ModelView,
    MonteCarloSpec,
    NewKeyView,
    OrderChange,
    OrderOutcome,
    OrdersView,
    OrderTicket,
    OrderView,
    PnlView,
    PositionsView,
    ProcessView,
    RunSummary,
    WalkForwardSpec,
)

__all__ = ["StockyardClient", "parse_error", "parse_sse", "unreachable"]

T = TypeVar("T")


def parse_error(response: httpx.Response) -> ApiError:
    """The ``ApiError`` of an error response (``{"code", "message"}``, or its text)."""
    try:
        body = response.json()
        return ApiError(response.status_code, str(body["code"]), str(body["message"]))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", response.text[:500])


def parse_sse(lines: Iterator[str]) -> Iterator[Event]:
    """Events of a ``text/event-stream`` (comments and ``retry`` lines skipped)."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif not line and data:
            yield Event.model_validate(orjson.loads("\n".join(data)))
            data = []


def unreachable(url: str, exc: Exception) -> ApiError:
    return ApiError(
        0, "unreachable", f"no Stockyard system answers at {url} ({exc}); start one: stockyard up"
    )


class StockyardClient:
    """``/api/v1`` over HTTP. ``url`` defaults to ``STOCKYARD_URL`` (else the local hub),
    ``key`` to ``STOCKYARD_API_KEY`` (else the local admin key file). Errors: ``ApiError``."""

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        secret = key if key is not None else default_key()
        headers = {"X-API-Key": secret} if secret else {}
        self._http = httpx.Client(
            base_url=f"{self.url}/api/v1", headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StockyardClient:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, request: Request[T]) -> T:
        """Send one request; its answer parsed, or ``ApiError``."""
        try:
            response = self._http.request(
                request.method, request.path, params=dict(request.params), json=request.body
            )
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        if response.status_code >= 400:
            raise parse_error(response)
        return request.answer.validate_json(response.content)

    # -- trading ---------------------------------------------------------------------------

    def account(self, *, node: str | None = None) -> AccountView:
        return self.send(calls.account(node))

    def positions(self, *, node: str | None = None) -> PositionsView:
        return self.send(calls.positions(node))

    def orders(
        self, *, node: str | None = None, open_only: bool = True, limit: int = 100
    ) -> OrdersView:
        return self.send(calls.orders(node, open_only, limit))

    def order(self, client_order_id: str, *, node: str | None = None) -> OrderView:
        return self.send(calls.order(client_order_id, node))

    def fills(
        self, *, node: str | None = None, since: datetime | None = None, limit: int = 500
    ) -> FillsView:
        return self.send(calls.fills(node, since, limit))

    def pnl(self, *, node: str | None = None, since: datetime | None = None) -> PnlView:
        return self.send(calls.pnl(node, since))

    def bots(self, *, node: str | None = None) -> BotsView:
        return self.send(calls.bots(node))

    def submit(self, ticket: OrderTicket, *, node: str | None = None) -> OrderOutcome:
        return self.send(calls.submit(ticket, node))

    def cancel(self, client_order_id: str, *, node: str | None = None) -> OrderOutcome:
        return self.send(calls.cancel(client_order_id, node))

    def replace(
        self, client_order_id: str, change: OrderChange, *, node: str | None = None
    ) -> OrderOutcome:
        return self.send(calls.replace(client_order_id, change, node))

    def kill(
        self, reason: str = "operator", *, flatten: bool = False, node: str | None = None
    ) -> KillState:
        return self.send(calls.kill(reason, flatten, node))

    def reset(self, *, node: str | None = None) -> KillState:
        return self.send(calls.reset(node))

    def close_position(self, symbol: str, *, node: str | None = None) -> CloseOutcome:
        return self.send(calls.close_position(symbol, node))

    def close_all(self, *, node: str | None = None) -> CloseOutcome:
        return self.send(calls.close_all(node))

    def pause(self, bot_id: str, *, node: str | None = None) -> BotView:
        return self.send(calls.pause(bot_id, node))

    def resume(self, bot_id: str, *, node: str | None = None) -> BotView:
        return self.send(calls.resume(bot_id, node))

    def set_params(
        self, bot_id: str, values: Mapping[str, object], *, node: str | None = None
    ) -> BotView:
        return self.send(calls.set_params(bot_id, values, node))

    # -- research, access, system ----------------------------------------------------------

    def backtest(self, spec: BacktestSpec) -> JobView:
        return self.send(calls.backtest(spec))

    def walkforward(self, spec: WalkForwardSpec) -> JobView:
        return self.send(calls.walkforward(spec))

    def compare(self, spec: CompareSpec) -> JobView:
        return self.send(calls.compare(spec))

    def montecarlo(self, spec: MonteCarloSpec) -> JobView:
        return self.send(calls.montecarlo(spec))

    def jobs(self) -> list[JobView]:
        return self.send(calls.jobs())

    def job(self, job_id: str) -> JobView:
        return self.send(calls.job(job_id))

    def cancel_job(self, job_id: str) -> JobView:
        return self.send(calls.cancel_job(job_id))

    def models(self) -> list[ModelView]:
        """The ML bots' stored models."""
        return self.send(calls.models())

    def model(self, model_id: str) -> ModelDetailView:
        """One model (by id, or a name: its promoted model) with its top importances."""
        return self.send(calls.model(model_id))

    def runs(self) -> list[RunSummary]:
        return self.send(calls.runs())

    def run(self, run_id: str) -> dict[str, object]:
        return self.send(calls.run(run_id))

    def keys(self) -> list[KeyView]:
        return self.send(calls.keys())

    def create_key(
        self, name: str, scope: str = "read", *, rate_exempt: bool = False
    ) -> NewKeyView:
        return self.send(calls.create_key(name, scope, rate_exempt))

    def revoke_key(self, name: str) -> KeyView:
        return self.send(calls.revoke_key(name))

    def audit(
        self, *, limit: int = 100, action: str | None = None, key_name: str | None = None
    ) -> list[AuditEntryView]:
        return self.send(calls.audit(limit, action, key_name))

    def health(self) -> dict[str, object]:
        return self.send(calls.health())

    def processes(self) -> list[ProcessView]:
        """Every supervised process (503 in single-process mode)."""
        return self.send(calls.processes())

    def start_process(self, name: str) -> ProcessView:
        """Start a process and wait for its readiness (admin)."""
        return self.send(calls.process_verb(name, "start"))

    def stop_process(self, name: str) -> ProcessView:
        """Stop a process (admin)."""
        return self.send(calls.process_verb(name, "stop"))

    def restart_process(self, name: str) -> ProcessView:
        """Stop, then start a process and wait for its readiness (admin)."""
        return self.send(calls.process_verb(name, "restart"))

    def start_all(self) -> list[ProcessView]:
        """Start every process in dependency order (admin)."""
        return self.send(calls.processes_verb("start"))

    def stop_all(self) -> list[ProcessView]:
        """Stop every process in reverse dependency order (admin)."""
        return self.send(calls.processes_verb("stop"))

    # -- events ----------------------------------------------------------------------------

    def events(
        self, topics: str | None = None, *, last_event_id: int | None = None
    ) -> Iterator[Event]:
        """Live events as they come (SSE), after ``last_event_id`` when given."""
        params = {"topics": topics} if topics else {}
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        try:
            with self._http.stream(
                "GET", "/events", params=params, headers=headers, timeout=None
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise parse_error(response)
                yield from parse_sse(response.iter_lines())
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
