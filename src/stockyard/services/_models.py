"""The typed inputs and outputs of the trading services (pydantic: one schema for Python
callers, the REST API's OpenAPI, the node's socket and the MCP tools).

Money and quantities are ``Decimal`` (JSON strings on the wire); times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stockyard.core import OrderSide, OrderType, TimeInForce

__all__ = [
    "AccountView",
    "BotModelView",
    "BotView",
    "BotsView",
    "CloseOutcome",
    "EquityPointView",
    "EquityView",
    "FillView",
    "FillsView",
    "HaltRequest",
    "KillState",
    "NodeStatusView",
    "OrderChange",
    "OrderOutcome",
    "OrderTicket",
    "OrderView",
    "OrdersView",
    "ParamsChange",
    "PnlLineView",
    "PnlView",
    "PositionView",
    "PositionsView",
]

Amount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=24, decimal_places=10)]
Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9./]+$")]
ParamScalar = bool | int | float | str


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KillState(_Frozen):
    """The kill switch: engaged or not, and why; the daily-loss halt."""

    halted: bool
    reason: str | None = None
    daily_halt: str | None = None


class AccountView(_Frozen):
    """The node's books: cash, equity, P&L, exposure, the kill switch."""

    node: str
    mode: str
    run_id: str | None
    cash: Decimal
    equity: Decimal
    realized_pl: Decimal
    unrealized_pl: Decimal
    long_exposure: Decimal
    short_exposure: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    open_orders: int
    kill: KillState


class PositionView(_Frozen):
    """A holding; ``qty`` is signed (negative is short)."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    current_price: Decimal | None
    market_value: Decimal | None
    unrealized_pl: Decimal


class PositionsView(_Frozen):
    node: str
    positions: list[PositionView]


class OrderView(_Frozen):
    """An order as the order manager (or, for past orders, the journal) knows it."""

    client_order_id: str
    bot: str
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str | None
    phase: str | None
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    created_at: datetime
    updated_at: datetime | None
    detail: str | None = None


class OrdersView(_Frozen):
    node: str
    orders: list[OrderView]


class FillView(_Frozen):
    id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    fee: Decimal
    timestamp: datetime


class FillsView(_Frozen):
    node: str
    fills: list[FillView]


class PnlLineView(_Frozen):
    name: str
    realized: Decimal
    unrealized: Decimal
    fees: Decimal


class PnlView(_Frozen):
    """P&L per bot (each bot's fills on a book of its own) and per symbol (the node's book)."""

    node: str
    since: datetime | None
    by_bot: list[PnlLineView]
    by_symbol: list[PnlLineView]


class EquityPointView(_Frozen):
    """The account's equity at one moment of the node's clock (a snapshot the node saved,
    or the last point: its books marked now)."""

    time: datetime
    equity: Decimal
    cash: Decimal
    run_id: str | None


class EquityView(_Frozen):
    """The node's equity curve across its runs (the runs of its mode with its bots):
    the snapshots it saved every ``snapshot_every_s`` since ``since``, then now."""

    node: str
    since: datetime | None
    points: list[EquityPointView]


class NodeStatusView(_Frozen):
    """A node's counters as it runs: market-data messages and fills since its start,
    orders sent this run, open orders, its feed lag (seconds since its last
    market-data message; None before the first) and its bar-to-order latency (p50 and p99,
    ms, over the last ``bar_to_order_samples`` bars that made orders, up to 1,000; None
    before the first); ``time``: its clock's now (the venue's replay clock on the sandbox)."""

    node: str
    time: datetime
    mode: str
    run_id: str | None
    running: bool
    bars: int
    ticks: int
    fills: int
    orders_sent: int
    open_orders: int
    feed_lag_s: float | None
    bar_to_order_p50_ms: float | None = None
    bar_to_order_p99_ms: float | None = None
    bar_to_order_samples: int = 0


class BotModelView(_Frozen):
    """A machine-learned bot's model as it runs: its state, age, top feature importances
    and each feature's drift (PSI of recent bars against its training rows)."""

    model_id: str | None
    state: str
    ok: bool
    message: str
    age_days: float | None
    importance: dict[str, float]
    drift: dict[str, float]


class BotView(_Frozen):
    bot_id: str
    strategy: str
    symbols: list[str]
    status: str
    paused: bool
    params: dict[str, ParamScalar]
    changeable: list[str]
    positions: dict[str, Decimal]
    model: BotModelView | None = None


class BotsView(_Frozen):
    node: str
    bots: list[BotView]


class OrderTicket(_Frozen):
    """An order placed by hand. ``client_order_id`` is the caller's idempotency key: the
    same key twice places one order."""

    symbol: Symbol
    side: OrderSide
    qty: Amount | None = None
    notional: Amount | None = None
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: Amount | None = None
    stop_price: Amount | None = None
    client_order_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> OrderTicket:
        if (self.qty is None) == (self.notional is None):
            raise ValueError("give exactly one of qty or notional")
        return self


class OrderChange(_Frozen):
    """What to change of an open order (at least one field)."""

    qty: Amount | None = None
    limit_price: Amount | None = None
    stop_price: Amount | None = None

    @model_validator(mode="after")
    def _something(self) -> OrderChange:
        if self.qty is None and self.limit_price is None and self.stop_price is None:
            raise ValueError("give qty, limit_price or stop_price")
        return self


class OrderOutcome(_Frozen):
    """The answer to submit, cancel or replace: accepted (with the order's id) or refused."""

    accepted: bool
    client_order_id: str | None
    code: str | None = None
    reason: str | None = None


class CloseOutcome(_Frozen):
    orders: list[OrderOutcome]


class HaltRequest(_Frozen):
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "operator"
    flatten: bool = False


class ParamsChange(_Frozen):
    values: dict[str, ParamScalar] = Field(min_length=1)


Side = Literal["buy", "sell"]
