"""The pre-trade gate: every order is checked here before the order manager sees it.

Rules run in a fixed order and the first that fails refuses the order (docs/risk.md):
halts (kill switch, daily loss), symbol, market hours, price, order size, position,
exposure, open orders, and last the throttle, so a refused order uses no throttle budget.
An order that only *reduces* a position passes the halts and the position and exposure
limits: a halted book can still be flattened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from stockyard.config import RiskSettings
from stockyard.core import Order, OrderRequest, OrderType
from stockyard.obs import get_logger
from stockyard.portfolio import PortfolioView
from stockyard.resilience import MoneyPathError
from stockyard.risk._throttle import Throttle
from stockyard.risk._values import LastPrice, RiskCode, RiskRejection

__all__ = ["RiskEngine"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_log = get_logger("risk")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


class _Facts(NamedTuple):
    """What the rules need to know about one order, worked out once (a tuple: made per
    order, read a few times)."""

    signed: Decimal | None  # signed quantity; None for a notional order without a price
    price: Decimal | None  # reference price: limit, else stop, else last trade
    held: Decimal  # current signed position
    pending: Decimal  # signed remaining quantity of open orders in the symbol
    reducing: bool  # shrinks the position without going through zero


class RiskEngine:
    """Checks orders against :class:`~stockyard.config.RiskSettings`; holds the halts.

    ``now`` is the injected clock, ``market_open(symbol, now)`` says whether a symbol's
    market is open (None: always), ``tradable(symbol)`` whether a symbol is known (None: all).
    """

    def __init__(
        self,
        settings: RiskSettings | None = None,
        *,
        now: Callable[[], datetime],
        market_open: Callable[[str, datetime], bool] | None = None,
        tradable: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings = settings = settings if settings is not None else RiskSettings()
        self._now = now
        self._market_open = market_open
        self._tradable = tradable
        self._zone = ZoneInfo(settings.day_timezone)
        self._throttle = (
            Throttle(settings.max_orders, settings.order_window_s) if settings.max_orders else None
        )
        self._day: date | None = None
        self.start_equity: Decimal | None = None
        self.daily_halt: str | None = None
        self.kill_reason: str | None = None
        self.kill_listeners: list[Callable[[str], None]] = []
        self.rejections: Counter[str] = Counter()
        self._paused: set[str] = set()
        # Per strategy: the account's limits with that bot's own ([[bots]] risk) in place.
        self._limits: dict[str, RiskSettings] = {}

    # -- halts -------------------------------------------------------------------------------

    @property
    def halted(self) -> bool:
        """True while the kill switch or the daily loss halt refuses opening orders."""
        return self.kill_reason is not None or self.daily_halt is not None

    def engage(self, reason: str) -> None:
        """Pull the kill switch: refuse every opening order, then call each kill listener
        (the node cancels all orders and flattens). Engaging twice calls them once."""
        if self.kill_reason is not None:
            return
        self.kill_reason = reason
        _log.critical("kill switch engaged", reason=reason)
        for listener in list(self.kill_listeners):
            try:
                listener(reason)
            except MoneyPathError:
                raise  # judged by the listener's owner (a backtest aborts on it)
            except Exception as exc:  # one failing listener must not stop the others
                _log.error("kill switch listener raised", error=repr(exc), exc_info=exc)

    def release(self) -> None:
        """Release the kill switch."""
        if self.kill_reason is not None:
            _log.warning("kill switch released", reason=self.kill_reason)
        self.kill_reason = None

    def limit_strategy(self, strategy_id: str, **limits: Decimal | None) -> None:
        """Give ``strategy_id``'s orders limits of their own in place of the account's
        (``max_order_qty``, ``max_order_notional``, ``max_position_qty``; None: the
        account's); the account's other limits still apply."""
        given = {k: v for k, v in limits.items() if v is not None}
        if given:
            self._limits[strategy_id] = self.settings.model_copy(update=given)
        else:
            self._limits.pop(strategy_id, None)

    @property
    def paused(self) -> frozenset[str]:
        """The strategies whose opening orders are refused (their reducing orders pass)."""
        return frozenset(self._paused)

    def pause(self, strategy_id: str) -> None:
        """Refuse ``strategy_id``'s opening orders until :meth:`resume`; it still manages
        (reduces and closes) what it holds."""
        self._paused.add(strategy_id)
        _log.warning("strategy paused: opening orders refused", strategy=strategy_id)

    def resume(self, strategy_id: str) -> None:
        """Let ``strategy_id`` open positions again."""
        if strategy_id in self._paused:
            self._paused.discard(strategy_id)
            _log.warning("strategy resumed", strategy=strategy_id)

    def start_day(self, equity: Decimal, *, day: date | None = None) -> None:
        """Start a trading day at ``equity``: the daily loss is measured from it; clears the
        daily halt. Done automatically by the first check of each new day."""
        self._day = day if day is not None else self._now().astimezone(self._zone).date()
        self.start_equity = equity
        self.daily_halt = None

    def reset_daily_halt(self) -> None:
        """Lift the daily loss halt by hand (the start-of-day equity stays)."""
        self.daily_halt = None

    # -- the check ---------------------------------------------------------------------------

    def check(
        self,
        request: OrderRequest,
        *,
        portfolio: PortfolioView,
        prices: Mapping[str, LastPrice],
        open_orders: Sequence[Order] = (),
        strategy_id: str | None = None,
    ) -> RiskRejection | None:
        """None if ``request`` may go to the order manager (and it is counted by the throttle);
        else the rejection, which is also logged (component ``risk``) and counted."""
        now = self._now()
        self._roll_day(now, portfolio)
        last = prices.get(request.symbol)  # read once: both rules below use it
        facts = self._facts(request, portfolio, last, open_orders)
        limits = self._limits.get(strategy_id, self.settings) if strategy_id else self.settings
        rejection = (
            self._halts(request, facts, portfolio)
            or self._pause(request, facts, strategy_id)
            or self._symbol_and_hours(request, now)
            or self._price(request, last, now)
            or self._size(request, facts, limits)
            or self._exposure(request, facts, portfolio, limits)
            or self._open_orders(open_orders)
            or self._rate(now)
        )
        if rejection is None:
            if self._throttle is not None:
                self._throttle.record(now.timestamp())
            return None
        self.rejections[rejection.code.value] += 1
        _log.warning(
            "order refused by risk",
            code=rejection.code.value,
            reason=rejection.reason,
            symbol=request.symbol,
            side=request.side.value,
            qty=None if request.qty is None else str(request.qty),
            strategy=strategy_id,
        )
        return rejection

    # -- rules -------------------------------------------------------------------------------

    def _roll_day(self, now: datetime, portfolio: PortfolioView) -> None:
        day = now.astimezone(self._zone).date()
        if day != self._day:
            self.start_day(portfolio.equity(), day=day)

    def _facts(
        self,
        request: OrderRequest,
        portfolio: PortfolioView,
        last: LastPrice | None,
        open_orders: Sequence[Order],
    ) -> _Facts:
        symbol = request.symbol
        price = request.limit_price or request.stop_price or (last.price if last else None)
        qty = request.qty
        if qty is None and request.notional is not None and price:
            qty = request.notional / price
        signed = None if qty is None else qty * request.side.sign
        held = portfolio.qty(symbol)
        pending = _ZERO
        for order in open_orders:
            if order.symbol == symbol and order.is_open and order.remaining_qty is not None:
                pending += order.remaining_qty * order.side.sign
        reducing = signed is not None and held * signed < 0 and abs(signed) <= abs(held)
        return _Facts(signed, price, held, pending, reducing)

    def _halts(
        self, request: OrderRequest, facts: _Facts, portfolio: PortfolioView
    ) -> RiskRejection | None:
        if self.kill_reason is not None and not facts.reducing:
            return self._no(
                RiskCode.KILL_SWITCH, f"kill switch engaged: {self.kill_reason}", request
            )
        limit = self.settings.daily_loss_limit
        if limit is not None and self.daily_halt is None and self.start_equity is not None:
            equity = portfolio.equity()
            if equity < self.start_equity - limit:
                self.daily_halt = (
                    f"equity {_money(equity)} fell below start-of-day "
                    f"{_money(self.start_equity)} minus daily_loss_limit {_money(limit)}"
                )
                _log.critical("daily loss limit hit: opening orders halted", reason=self.daily_halt)
        if self.daily_halt is not None and not facts.reducing:
            return self._no(RiskCode.DAILY_LOSS, self.daily_halt, request)
        return None

    def _pause(
        self, request: OrderRequest, facts: _Facts, strategy_id: str | None
    ) -> RiskRejection | None:
        if strategy_id is None or strategy_id not in self._paused or facts.reducing:
            return None
        return self._no(RiskCode.BOT_PAUSED, f"strategy {strategy_id!r} is paused", request)

    def _symbol_and_hours(self, request: OrderRequest, now: datetime) -> RiskRejection | None:
        symbol = request.symbol
        if self._tradable is not None and not self._tradable(symbol):
            return self._no(RiskCode.UNKNOWN_SYMBOL, f"unknown symbol {symbol!r}", request)
        when_closed = self.settings.when_closed
        if when_closed == "allow" or self._market_open is None:
            return None
        if not self._market_open(symbol, now):
            return RiskRejection(
                code=RiskCode.MARKET_CLOSED,
                reason=f"the market for {symbol} is closed",
                symbol=symbol,
                deferrable=when_closed == "queue",
            )
        return None

    def _price(
        self, request: OrderRequest, last: LastPrice | None, now: datetime
    ) -> RiskRejection | None:
        max_age = self.settings.max_price_age_s
        fresh = last is not None and (now - last.at).total_seconds() <= max_age
        if request.type is OrderType.MARKET and not fresh:
            return self._no(
                RiskCode.NO_PRICE,
                f"market order needs a last price of {request.symbol} at most {max_age:g}s old",
                request,
            )
        band = self.settings.price_band_pct
        if band is None or last is None or not last.price:
            return None
        for name in ("limit_price", "stop_price"):
            value: Decimal | None = getattr(request, name)
            if value is None:
                continue
            off = abs(value - last.price) / last.price * _HUNDRED
            if off > band:
                return self._no(
                    RiskCode.PRICE_BAND,
                    f"{name} {value} is {off:.2f}% from the last trade {last.price}; "
                    f"price_band_pct is {band}",
                    request,
                )
        return None

    def _size(
        self, request: OrderRequest, facts: _Facts, settings: RiskSettings
    ) -> RiskRejection | None:
        qty = None if facts.signed is None else abs(facts.signed)
        if settings.max_order_qty is not None and qty is not None and qty > settings.max_order_qty:
            return self._no(
                RiskCode.MAX_ORDER_QTY,
                f"order qty {qty} exceeds max_order_qty {settings.max_order_qty}",
                request,
            )
        limit = settings.max_order_notional
        if limit is not None:
            notional = request.notional
            if notional is None and qty is not None and facts.price is not None:
                notional = qty * facts.price
            if notional is not None and notional > limit:
                return self._no(
                    RiskCode.MAX_NOTIONAL,
                    f"order notional {_money(notional)} exceeds max_notional {_money(limit)}",
                    request,
                )
        return None

    def _exposure(
        self,
        request: OrderRequest,
        facts: _Facts,
        portfolio: PortfolioView,
        settings: RiskSettings,
    ) -> RiskRejection | None:
        if facts.signed is None or facts.reducing:
            return None
        before = facts.held + facts.pending
        after = before + facts.signed
        limit = settings.max_position_qty
        if limit is not None and abs(after) > limit and abs(after) > abs(before):
            return self._no(
                RiskCode.MAX_POSITION,
                f"position in {request.symbol} would be {after}; max_position_qty is {limit}",
                request,
            )
        gross_limit = self.settings.max_gross_exposure
        if gross_limit is not None and facts.price is not None:
            gross = portfolio.exposure().gross
            gross_after = gross + (abs(after) - abs(facts.held)) * facts.price
            if gross_after > gross_limit and abs(after) > abs(before):
                return self._no(
                    RiskCode.MAX_GROSS_EXPOSURE,
                    f"gross exposure would be {_money(gross_after)}; "
                    f"max_gross_exposure is {_money(gross_limit)}",
                    request,
                )
        return None

    def _open_orders(self, open_orders: Sequence[Order]) -> RiskRejection | None:
        limit = self.settings.max_open_orders
        if limit is None:
            return None
        count = sum(1 for order in open_orders if order.is_open)
        if count >= limit:
            return RiskRejection(
                code=RiskCode.MAX_OPEN_ORDERS,
                reason=f"{count} orders are open; max_open_orders is {limit}",
            )
        return None

    def _rate(self, now: datetime) -> RiskRejection | None:
        throttle = self._throttle
        if throttle is None or throttle.allows(now.timestamp()):
            return None
        return RiskRejection(
            code=RiskCode.THROTTLE,
            reason=(
                f"{throttle.limit} orders were sent in the last {throttle.window_s:g}s; "
                "max_orders reached"
            ),
        )

    @staticmethod
    def _no(code: RiskCode, reason: str, request: OrderRequest) -> RiskRejection:
        return RiskRejection(code=code, reason=reason, symbol=request.symbol)
