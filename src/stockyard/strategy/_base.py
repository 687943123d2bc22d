"""The Strategy class: declared parameters, hooks to override, views to read, verbs to act.

A strategy is plain Python run by a :class:`~stockyard.strategy.StrategyRunner`. It never
holds a broker: its verbs hand orders to the runner's gateway and return a
:class:`SubmitResult` (a bad or refused order is a result, never an exception).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar, TypeAlias

from stockyard.core import (
    Fill,
    Order,
    OrderRequest,
    OrderSide,
    OrderType,
    Quote,
    TimeInForce,
    Trade,
    to_decimal,
    to_ns,
)
from stockyard.portfolio import PortfolioView
from stockyard.resilience import StockyardError
from stockyard.strategy._bars import BarHistory, BarRow
from stockyard.strategy._context import StrategyContext
from stockyard.strategy._gateway import SubmitResult, TimerEvent
from stockyard.strategy._market import MarketView
from stockyard.strategy._params import Param, ParamValue, collect_params, unknown_parameter

__all__ = ["JSONValue", "Number", "Strategy", "StrategyError"]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
Number: TypeAlias = Decimal | int | float | str
_ZERO = Decimal(0)


class StrategyError(StockyardError):
    """A strategy was used wrongly (not attached to a runner, bad state, ...)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Strategy:
    """Base class of every trading strategy.

    Declare parameters as class attributes made with :func:`param`; override the hooks you
    need; act with the verbs. ``state`` is a JSON-serialisable dict that the persistence
    layer saves and restores across restarts (see :meth:`save_state`).
    """

    name: ClassVar[str] = "strategy"
    __params__: ClassVar[Mapping[str, Param]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls):
            cls.name = _snake(cls.__name__)
        own = collect_params(cls, getattr(cls, "__annotations__", {}))
        cls.__params__ = {**cls.__params__, **own}

    def __init__(
        self,
        *,
        symbols: Sequence[str] = (),
        strategy_id: str | None = None,
        **params: object,
    ) -> None:
        declared = type(self).__params__
        for key in params:
            if key not in declared:
                raise unknown_parameter(key, declared, self.name)
        for key, spec in declared.items():
            setattr(self, key, spec.coerce(params.get(key, spec.default), self.name))
        if isinstance(symbols, str):
            symbols = [s.strip() for s in symbols.split(",") if s.strip()]
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.strategy_id: str = strategy_id or self.name
        self.state: dict[str, JSONValue] = {}
        self._ctx: StrategyContext | None = None
        self.validate()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({self.strategy_id!r}, {shown})"

    # -- parameters ------------------------------------------------------------------------

    @classmethod
    def params(cls) -> Mapping[str, Param]:
        """The declared parameters, by name."""
        return dict(cls.__params__)

    @property
    def parameters(self) -> dict[str, ParamValue]:
        """This instance's parameter values."""
        values: dict[str, ParamValue] = {k: getattr(self, k) for k in type(self).__params__}
        return values

    def validate(self) -> None:
        """Check parameters against each other; raise ``ParameterError``. Override it."""

    @property
    def warmup_bars(self) -> int:
        """Bars of each symbol this strategy needs before its indicators are full (0: none).
        A live node feeds it that many recent bars through ``on_bar`` on start, its orders
        refused, so that its first decision is made on the first live bar. Override it."""
        return 0

    # -- hooks (override what you need) -----------------------------------------------------

    def on_start(self) -> None:
        """Called once before the first event."""

    def on_bar(self, bar: BarRow) -> None:
        """A bar of one of ``symbols`` was delivered; it is already ``history(bar.symbol)[-1]``."""

    def on_quote(self, quote: Quote) -> None:
        """A quote of one of ``symbols``."""

    def on_trade(self, trade: Trade) -> None:
        """A trade print of one of ``symbols``."""

    def on_order_update(self, order: Order) -> None:
        """One of this strategy's orders changed state."""

    def on_fill(self, fill: Fill) -> None:
        """One of this strategy's orders was (partly) filled; ``position`` already counts it."""

    def on_timer(self, timer: TimerEvent) -> None:
        """A timer set with :meth:`schedule` came due."""

    def on_stop(self) -> None:
        """Called once when the runner stops."""

    # -- state -----------------------------------------------------------------------------

    def save_state(self) -> dict[str, JSONValue]:
        """What to persist; the default is ``self.state``. Must be JSON-serialisable."""
        return self.state

    def load_state(self, state: Mapping[str, JSONValue]) -> None:
        """Restore what :meth:`save_state` returned; the default replaces ``self.state``."""
        self.state = dict(state)

    # -- views -----------------------------------------------------------------------------

    @property
    def context(self) -> StrategyContext:
        """The runtime this strategy is attached to (raises before ``runner.add``)."""
        if self._ctx is None:
            raise StrategyError(f"strategy {self.strategy_id!r} is not attached to a runner")
        return self._ctx

    @property
    def now(self) -> datetime:
        """The injected clock's time."""
        return self.context.clock.now()

    @property
    def portfolio(self) -> PortfolioView:
        """The account's portfolio, read-only (every strategy's positions together)."""
        return self.context.portfolio

    @property
    def market(self) -> MarketView:
        """Market data delivered so far, read-only."""
        return self.context.market

    def history(self, symbol: str) -> BarHistory:
        """Bars of ``symbol`` delivered so far; ``[-1]`` is the newest."""
        return self.context.market.history(symbol)

    def position(self, symbol: str) -> Decimal:
        """This strategy's own signed position in ``symbol``, from its fills."""
        return self.context.positions.get(symbol, _ZERO)

    def open_orders(self, symbol: str | None = None) -> list[str]:
        """Client order ids of this strategy's open orders (of ``symbol``, if given)."""
        orders = self.context.open_orders.values()
        return [o.client_order_id for o in orders if symbol is None or o.symbol == symbol]

    # -- verbs -----------------------------------------------------------------------------

    def buy(
        self,
        symbol: str,
        qty: Number,
        *,
        limit: Number | None = None,
        stop: Number | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> SubmitResult:
        """Buy ``qty`` of ``symbol``: market, or limit/stop/stop-limit if prices are given."""
        return self._order(OrderSide.BUY, symbol, qty, limit=limit, stop=stop, tif=time_in_force)

    def sell(
        self,
        symbol: str,
        qty: Number,
        *,
        limit: Number | None = None,
        stop: Number | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> SubmitResult:
        """Sell ``qty`` of ``symbol`` (to close a long or open a short)."""
        return self._order(OrderSide.SELL, symbol, qty, limit=limit, stop=stop, tif=time_in_force)

    def submit(self, request: OrderRequest) -> SubmitResult:
        """Send a request built by hand (brackets, trailing stops, notional orders)."""
        return self.context.submit(lambda: request)

    def cancel(self, client_order_id: str) -> SubmitResult:
        """Ask to cancel one of this strategy's open orders."""
        return self.context.cancel(client_order_id)

    def close_position(self, symbol: str) -> SubmitResult | None:
        """Cancel this strategy's open orders in ``symbol`` and flatten its position there.

        Returns the closing order's result, or None when the strategy holds nothing.
        """
        for client_order_id in self.open_orders(symbol):
            self.context.cancel(client_order_id)
        held = self.position(symbol)
        if held > 0:
            return self.sell(symbol, held)
        if held < 0:
            return self.buy(symbol, -held)
        return None

    def close_all(self) -> list[SubmitResult]:
        """:meth:`close_position` for every symbol this strategy holds or has orders in."""
        ctx = self.context
        symbols = {s for s, q in ctx.positions.items() if q} | {
            o.symbol for o in ctx.open_orders.values()
        }
        results = [self.close_position(s) for s in sorted(symbols)]
        return [r for r in results if r is not None]

    def schedule(
        self, name: str, *, every: timedelta | None = None, at: datetime | None = None
    ) -> None:
        """Call :meth:`on_timer` at ``at`` (default: now + every), then every ``every``."""
        if every is None and at is None:
            raise StrategyError("schedule needs every=, at=, or both")
        period = 0 if every is None else every // timedelta(microseconds=1) * 1000
        if every is not None and period <= 0:
            raise StrategyError(f"a timer's period must be positive, got {every}")
        due = to_ns(at) if at is not None else to_ns(self.now) + period
        self.context.scheduler.schedule(self.strategy_id, name, due_ns=due, every_ns=period)

    def cancel_timer(self, name: str) -> None:
        """Disarm timer ``name`` (nothing happens if it is not armed)."""
        self.context.scheduler.cancel(self.strategy_id, name)

    def _order(
        self,
        side: OrderSide,
        symbol: str,
        qty: Number,
        *,
        limit: Number | None,
        stop: Number | None,
        tif: TimeInForce,
    ) -> SubmitResult:
        def build() -> OrderRequest:
            if limit is not None and stop is not None:
                kind = OrderType.STOP_LIMIT
            elif limit is not None:
                kind = OrderType.LIMIT
            elif stop is not None:
                kind = OrderType.STOP
            else:
                kind = OrderType.MARKET
            return OrderRequest(
                symbol=symbol,
                side=side,
                qty=to_decimal(qty, "qty"),
                type=kind,
                time_in_force=tif,
                limit_price=None if limit is None else to_decimal(limit, "limit_price"),
                stop_price=None if stop is None else to_decimal(stop, "stop_price"),
            )

        return self.context.submit(build)
