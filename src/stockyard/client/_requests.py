"""Every ``/api/v1`` call as a request value (method, path, query, body, answer model): the
sync and the async client send the same ones."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from stockyard.services import (
    AccountView,
    AuditEntryView,
    BacktestSpec,
    BotsView,
    BotView,
    CloseOutcome,
    CompareSpec,
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
    admin_key_path,
)

__all__ = ["ApiError", "Request", "calls", "default_key", "default_url"]

T = TypeVar("T")
DEFAULT_PORT = 5555


class ApiError(Exception):
    """An error answer of the API (``status``, ``code``, ``message``), or ``unreachable``
    (status 0) when no system answers at the URL."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if status == 0 else f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Request(Generic[T]):
    """One call: ``answer`` parses the response body."""

    method: str
    path: str
    answer: TypeAdapter[T]
    params: Mapping[str, str | int] = field(default_factory=dict)
    body: object = None


def default_url(environ: Mapping[str, str] | None = None) -> str:
    """``STOCKYARD_URL``, else the local hub on ``HEALTH_API_PORT`` (default 5555)."""
    env = os.environ if environ is None else environ
    if env.get("STOCKYARD_URL"):
        return env["STOCKYARD_URL"].rstrip("/")
    port = env.get("HEALTH_API_PORT") or env.get("STOCKYARD_HEALTH__API_PORT") or DEFAULT_PORT
    return f"http://127.0.0.1:{port}"


def default_key(environ: Mapping[str, str] | None = None) -> str | None:
    """``STOCKYARD_API_KEY``, else the local admin key file ``STOCKYARD_HOME/run/admin.key``."""
    env = os.environ if environ is None else environ
    if env.get("STOCKYARD_API_KEY"):
        return env["STOCKYARD_API_KEY"].strip()
    home = Path(env.get("STOCKYARD_HOME") or "~/.stockyard").expanduser()
    path = admin_key_path(home)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


_adapters: dict[object, TypeAdapter[object]] = {}


def _of(kind: type[T]) -> TypeAdapter[T]:
    found = _adapters.get(kind)
    if found is None:
        found = _adapters[kind] = TypeAdapter(kind)
    return found  # type: ignore[return-value]  # keyed by the very type


def _json(model: BaseModel) -> object:
    return model.model_dump(mode="json", exclude_none=True)


def _node(node: str | None, **more: str | int) -> dict[str, str | int]:
    params: dict[str, str | int] = dict(more)
    if node is not None:
        params["node"] = node
    return params


def _p(text: str) -> str:
    return quote(text, safe="")


class _Calls:
    """Request builders, one per route (used by both clients)."""

    @staticmethod
    def account(node: str | None) -> Request[AccountView]:
        return Request("GET", "/account", _of(AccountView), _node(node))

    @staticmethod
    def positions(node: str | None) -> Request[PositionsView]:
        return Request("GET", "/positions", _of(PositionsView), _node(node))

    @staticmethod
    def orders(node: str | None, open_only: bool, limit: int) -> Request[OrdersView]:
        params = _node(node, open=str(open_only).lower(), limit=limit)
        return Request("GET", "/orders", _of(OrdersView), params)

    @staticmethod
    def order(client_order_id: str, node: str | None) -> Request[OrderView]:
        return Request("GET", f"/orders/{_p(client_order_id)}", _of(OrderView), _node(node))

    @staticmethod
    def fills(node: str | None, since: datetime | None, limit: int) -> Request[FillsView]:
        params = _node(node, limit=limit)
        if since is not None:
            params["since"] = since.isoformat()
        return Request("GET", "/fills", _of(FillsView), params)

    @staticmethod
    def pnl(node: str | None, since: datetime | None) -> Request[PnlView]:
        params = _node(node)
        if since is not None:
            params["since"] = since.isoformat()
        return Request("GET", "/pnl", _of(PnlView), params)

    @staticmethod
    def bots(node: str | None) -> Request[BotsView]:
        return Request("GET", "/bots", _of(BotsView), _node(node))

    @staticmethod
    def submit(ticket: OrderTicket, node: str | None) -> Request[OrderOutcome]:
        return Request("POST", "/orders", _of(OrderOutcome), _node(node), _json(ticket))

    @staticmethod
    def cancel(client_order_id: str, node: str | None) -> Request[OrderOutcome]:
        path = f"/orders/{_p(client_order_id)}"
        return Request("DELETE", path, _of(OrderOutcome), _node(node))

    @staticmethod
    def replace(cid: str, change: OrderChange, node: str | None) -> Request[OrderOutcome]:
        path = f"/orders/{_p(cid)}"
        return Request("PATCH", path, _of(OrderOutcome), _node(node), _json(change))

    @staticmethod
    def kill(reason: str, flatten: bool, node: str | None) -> Request[KillState]:
        body = {"reason": reason, "flatten": flatten}
        return Request("POST", "/kill", _of(KillState), _node(node), body)

    @staticmethod
    def reset(node: str | None) -> Request[KillState]:
        return Request("POST", "/kill/reset", _of(KillState), _node(node))

    @staticmethod
    def close_position(symbol: str, node: str | None) -> Request[CloseOutcome]:
        return Request("DELETE", f"/positions/{_p(symbol)}", _of(CloseOutcome), _node(node))

    @staticmethod
    def close_all(node: str | None) -> Request[CloseOutcome]:
        return Request("DELETE", "/positions", _of(CloseOutcome), _node(node))

    @staticmethod
    def pause(bot_id: str, node: str | None) -> Request[BotView]:
        return Request("POST", f"/bots/{_p(bot_id)}/pause", _of(BotView), _node(node))

    @staticmethod
    def resume(bot_id: str, node: str | None) -> Request[BotView]:
        return Request("POST", f"/bots/{_p(bot_id)}/resume", _of(BotView), _node(node))

    @staticmethod
    def set_params(bot_id: str, values: Mapping[str, object], node: str | None) -> Request[BotView]:
        path = f"/bots/{_p(bot_id)}/params"
        return Request("PATCH", path, _of(BotView), _node(node), {"values": dict(values)})

    @staticmethod
    def backtest(spec: BacktestSpec) -> Request[JobView]:
        return Request("POST", "/research/backtests", _of(JobView), {}, _json(spec))

    @staticmethod
    def walkforward(spec: WalkForwardSpec) -> Request[JobView]:
        return Request("POST", "/research/walkforwards", _of(JobView), {}, _json(spec))

    @staticmethod
    def compare(spec: CompareSpec) -> Request[JobView]:
        return Request("POST", "/research/comparisons", _of(JobView), {}, _json(spec))

    @staticmethod
    def montecarlo(spec: MonteCarloSpec) -> Request[JobView]:
        return Request("POST", "/research/montecarlo", _of(JobView), {}, _json(spec))

    @staticmethod
    def jobs() -> Request[list[JobView]]:
        return Request("GET", "/jobs", _of(list[JobView]))

    @staticmethod
    def job(job_id: str) -> Request[JobView]:
        return Request("GET", f"/jobs/{_p(job_id)}", _of(JobView))

    @staticmethod
    def cancel_job(job_id: str) -> Request[JobView]:
        return Request("POST", f"/jobs/{_p(job_id)}/cancel", _of(JobView))

    @staticmethod
    def models() -> Request[list[ModelView]]:
        return Request("GET", "/models", _of(list[ModelView]))

    @staticmethod
    def model(model_id: str) -> Request[ModelDetailView]:
        return Request("GET", f"/models/{_p(model_id)}", _of(ModelDetailView))

    @staticmethod
    def runs() -> Request[list[RunSummary]]:
        return Request("GET", "/runs", _of(list[RunSummary]))

    @staticmethod
    def run(run_id: str) -> Request[dict[str, object]]:
        return Request("GET", f"/runs/{_p(run_id)}", _of(dict[str, object]))

    @staticmethod
    def keys() -> Request[list[KeyView]]:
        return Request("GET", "/keys", _of(list[KeyView]))

    @staticmethod
    def create_key(name: str, scope: str, rate_exempt: bool) -> Request[NewKeyView]:
        body = {"name": name, "scope": scope, "rate_exempt": rate_exempt}
        return Request("POST", "/keys", _of(NewKeyView), {}, body)

    @staticmethod
    def revoke_key(name: str) -> Request[KeyView]:
        return Request("DELETE", f"/keys/{_p(name)}", _of(KeyView))

    @staticmethod
    def audit(
        limit: int, action: str | None, key_name: str | None
    ) -> Request[list[AuditEntryView]]:
        params: dict[str, str | int] = {"limit": limit}
        if action is not None:
            params["action"] = action
        if key_name is not None:
            params["key_name"] = key_name
        return Request("GET", "/audit", _of(list[AuditEntryView]), params)

    @staticmethod
    def health() -> Request[dict[str, object]]:
        return Request("GET", "/system/health", _of(dict[str, object]))

    @staticmethod
    def processes() -> Request[list[ProcessView]]:
        return Request("GET", "/processes", _of(list[ProcessView]))

    @staticmethod
    def process_verb(name: str, verb: str) -> Request[ProcessView]:
        return Request("POST", f"/processes/{_p(name)}/{verb}", _of(ProcessView))

    @staticmethod
    def processes_verb(verb: str) -> Request[list[ProcessView]]:
        return Request("POST", f"/processes/{verb}-all", _of(list[ProcessView]))


calls = _Calls()
