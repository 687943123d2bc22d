"""The node's kill switch: cancel every open order, flatten every strategy, then flatten
what no strategy owns — every closing order through risk and the order manager.

``RiskEngine.engage`` refuses opening orders from then on and calls its kill listeners in
order: this one's ``cancel`` first, the kernel's (each strategy's ``close_all``), then
this one's ``flatten_rest``. Risk lets reducing orders through a halt.
"""

from __future__ import annotations

from decimal import Decimal

from stockyard.core import AssetClass, OrderRequest, OrderSide, OrderType, TimeInForce
from stockyard.engine._kernel import Kernel
from stockyard.engine._kernel_router import OrderRoute
from stockyard.obs import get_logger
from stockyard.resilience import MoneyPathError
from stockyard.risk import RiskEngine
from stockyard.strategy import StrategyOrder

__all__ = ["KILL_SWITCH_ID", "KillSwitch"]

KILL_SWITCH_ID = "kill_switch"
"""The strategy id of the orders that flatten positions no strategy owns."""

_ZERO = Decimal(0)
_log = get_logger("trading")


class KillSwitch:
    """Hooks itself around the kernel's kill listener on ``risk``."""

    def __init__(self, *, kernel: Kernel, router: OrderRoute, risk: RiskEngine) -> None:
        self._kernel = kernel
        self._router = router
        self._sequence = 0
        self.canceled = 0
        self.flattening: list[str] = []
        risk.kill_listeners.insert(0, self.cancel)
        risk.kill_listeners.append(self.flatten_rest)

    def cancel(self, reason: str) -> None:
        """Ask to cancel every open order the order manager holds."""
        self.canceled = self._router.cancel_all()
        _log.critical(
            "kill switch: canceling every open order", orders=self.canceled, reason=reason
        )

    def flatten_rest(self, reason: str) -> None:
        """Close what the strategies do not hold themselves (adopted or outside orders)."""
        kernel = self._kernel
        owned: dict[str, Decimal] = {}
        for strategy in kernel.runner.strategies:
            for symbol, qty in strategy.context.positions.items():
                owned[symbol] = owned.get(symbol, _ZERO) + qty
        for symbol, position in sorted(kernel.portfolio.positions().items()):
            rest = position.qty - owned.get(symbol, _ZERO)
            if not rest:
                continue
            crypto = AssetClass.of_symbol(symbol) is AssetClass.CRYPTO
            self._sequence += 1
            result = kernel.submit(
                StrategyOrder(
                    strategy_id=KILL_SWITCH_ID,
                    sequence=self._sequence,
                    request=OrderRequest(
                        symbol=symbol,
                        side=OrderSide.SELL if rest > 0 else OrderSide.BUY,
                        qty=abs(rest),
                        type=OrderType.MARKET,
                        time_in_force=TimeInForce.GTC if crypto else TimeInForce.DAY,
                    ),
                    created_at=kernel.clock.now(),
                )
            )
            _log.critical(
                "kill switch: flattening a position no strategy owns",
                symbol=symbol,
                qty=str(rest),
                accepted=result.accepted,
                reason=result.reason or reason,
            )
            if result.client_order_id is not None:
                self.flattening.append(result.client_order_id)
            if not result.accepted:
                kernel.fault(
                    MoneyPathError(
                        f"kill switch ({reason}): flattening {rest} {symbol} no strategy owns "
                        f"was refused: {result.code}: {result.reason}",
                        context={"symbol": symbol, "kill_reason": reason},
                    )
                )
