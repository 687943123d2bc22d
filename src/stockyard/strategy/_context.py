"""One strategy's runtime: its gateway, clock, views, order sequence, orders and positions.

The runner makes one per strategy. Verbs go through :meth:`StrategyContext.submit`, which
turns a bad request into a refusal (the strategy is not crashed for a bad order), numbers
each intent, and keeps the strategy's own open orders and position from its fills.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from stockyard.core import Clock, Fill, Order, OrderRequest, OrderSide
from stockyard.obs import get_logger
from stockyard.portfolio import PortfolioView
from stockyard.strategy._gateway import OrderGateway, StrategyOrder, SubmitResult
from stockyard.strategy._market import MarketView
from stockyard.strategy._timers import Scheduler

__all__ = ["OpenOrder", "StrategyContext"]

_ZERO = Decimal(0)
_log = get_logger("trading")


class OpenOrder:
    """An order of this strategy the broker has not finished with."""

    __slots__ = ("client_order_id", "filled", "qty", "side", "symbol")

    def __init__(self, *, client_order_id: str, symbol: str, side: OrderSide, qty: Decimal) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.filled = _ZERO


class StrategyContext:
    """What a strategy's views and verbs are wired to; owned by the runner."""

    def __init__(
        self,
        *,
        strategy_id: str,
        clock: Clock,
        gateway: OrderGateway,
        portfolio: PortfolioView,
        market: MarketView,
        scheduler: Scheduler,
        on_accepted: Callable[[str, str], None],
    ) -> None:
        self.strategy_id = strategy_id
        self.clock = clock
        self.gateway = gateway
        self.portfolio = portfolio
        self.market = market
        self.scheduler = scheduler
        self.seq = 0
        self.positions: dict[str, Decimal] = {}
        self.open_orders: dict[str, OpenOrder] = {}
        self.refused = 0
        # True while the runner feeds history (warm-up): verbs are refused, nothing is sent.
        self.warming = False
        self.warmup_signals = 0
        self._on_accepted = on_accepted

    def submit(self, build: Callable[[], OrderRequest]) -> SubmitResult:
        """Build the request (a bad one is refused here), number it and hand it to the gateway."""
        if self.warming:
            return self._warming()
        try:
            request = build()
        except (ValueError, TypeError, ArithmeticError) as exc:
            return self.refuse("invalid_order", str(exc))
        self.seq += 1
        intent = StrategyOrder(
            strategy_id=self.strategy_id,
            sequence=self.seq,
            request=request,
            created_at=self.clock.now(),
        )
        result = self.gateway.submit(intent)
        if not result.accepted:
            return self.refuse(result.code or "refused", result.reason or "", request=request)
        if result.client_order_id is not None:
            qty = request.qty if request.qty is not None else _ZERO
            self.open_orders[result.client_order_id] = OpenOrder(
                client_order_id=result.client_order_id,
                symbol=request.symbol,
                side=request.side,
                qty=qty,
            )
            self._on_accepted(result.client_order_id, self.strategy_id)
        return result

    def refuse(
        self, code: str, reason: str, *, request: OrderRequest | None = None
    ) -> SubmitResult:
        """Count and log a refused order and return the refusal."""
        self.refused += 1
        _log.warning(
            "order refused",
            strategy=self.strategy_id,
            code=code,
            reason=reason,
            symbol=None if request is None else request.symbol,
        )
        return SubmitResult.refused(code, reason)

    def cancel(self, client_order_id: str) -> SubmitResult:
        """Ask the gateway to cancel one of this strategy's open orders."""
        if self.warming:
            return self._warming()
        if client_order_id not in self.open_orders:
            return SubmitResult.refused(
                "unknown_order", f"{client_order_id!r} is not an open order of this strategy"
            )
        return self.gateway.cancel(self.strategy_id, client_order_id)

    def _warming(self) -> SubmitResult:
        # Counted, not logged: a warm-up replays history, its signals are no news.
        self.warmup_signals += 1
        return SubmitResult.refused("warming_up", "history is being replayed; nothing is sent")

    def order_update(self, order: Order) -> None:
        """Track the strategy's open orders from the broker's updates."""
        if order.status.is_terminal:
            self.open_orders.pop(order.client_order_id, None)

    def fill(self, fill: Fill) -> None:
        """Move the strategy's own position by ``fill``."""
        signed = fill.qty if fill.side is OrderSide.BUY else -fill.qty
        self.positions[fill.symbol] = self.positions.get(fill.symbol, _ZERO) + signed
        tracked = self.open_orders.get(fill.client_order_id)
        if tracked is not None:
            tracked.filled += fill.qty
            if tracked.qty and tracked.filled >= tracked.qty:
                del self.open_orders[fill.client_order_id]

    def now(self) -> datetime:
        return self.clock.now()
