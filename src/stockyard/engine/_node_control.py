"""Control of a running ``TradingNode`` from outside its strategies (the services call this).

Everything here works on the node's public surface: its kernel (risk, portfolio, strategies),
order manager, journal and kill switch. Orders placed by hand go through the same gate as a
strategy's (``Kernel.submit``: risk, then the order manager, intent persisted before the
send) under the strategy id ``manual``; ``submit`` is idempotent by the caller's key.

Not thread-safe, as the node is not: call it on the node's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stockyard.core import (
    AssetClass,
    Fill,
    OrderEvent,
    OrderIntent,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from stockyard.engine._kernel import Kernel
from stockyard.engine._kernel_prices import LastPrices
from stockyard.engine._node import TradingNode
from stockyard.execution.oms import ManagedOrder, OrderManager
from stockyard.obs import get_logger
from stockyard.portfolio import Portfolio
from stockyard.strategy import ParameterError, ParamValue, Strategy, StrategyOrder, SubmitResult
from stockyard.strategy.ml import MlDirection

__all__ = [
    "KEYS_KEPT",
    "MANUAL_ID",
    "BotModel",
    "BotState",
    "NodeControl",
    "NodeControlError",
    "PnlLine",
]

MANUAL_ID = "manual"
"""The strategy id of orders placed by hand (API, CLI, dashboard, MCP)."""

KEYS_KEPT = 10_000
"""How many callers' order keys (``client_order_id`` of a ticket) a node remembers."""

_KEYS_STATE = "manual:order-keys"  # where they are kept in the node's state store


def _text(value: object) -> str | None:
    return None if value is None else str(value)


_ZERO = Decimal(0)
_log = get_logger("trading")


class NodeControlError(ValueError):
    """A control request the node cannot do; ``code`` names why (``unknown_bot``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class BotModel:
    """A machine-learned bot's model as it runs: state (``ModelStatus``), the newest active
    model's top importances, and each feature's drift (PSI) since its training."""

    model_id: str | None
    state: str
    ok: bool
    message: str
    age_days: float | None
    importance: tuple[tuple[str, float], ...]
    drift: dict[str, float]


_TOP_FEATURES = 5


def bot_model(strategy: Strategy) -> BotModel | None:
    """The model state of an ML bot (``ml_direction``, ``ml_ensemble``); None for others."""
    if not isinstance(strategy, MlDirection):
        return None
    status = strategy.model_status()
    models = strategy.active_models() if status.model_id is not None else []
    importance: tuple[tuple[str, float], ...] = ()
    if models:
        newest = max(models, key=lambda m: m.trained_at_ns).result.importance
        ranked = sorted(newest.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP_FEATURES]
        importance = tuple((k, float(v)) for k, v in ranked)
    return BotModel(
        model_id=status.model_id,
        state=status.state,
        ok=status.ok,
        message=status.message,
        age_days=status.age_days,
        importance=importance,
        drift={k: float(v) for k, v in strategy.feature_drift().items()},
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BotState:
    """A strategy of the node as an operator sees it."""

    bot_id: str
    strategy: str
    symbols: tuple[str, ...]
    status: str
    paused: bool
    params: dict[str, ParamValue]
    changeable: tuple[str, ...]
    positions: dict[str, Decimal]
    model: BotModel | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PnlLine:
    """Realized and unrealized P&L of one bot or symbol."""

    name: str
    realized: Decimal
    unrealized: Decimal
    fees: Decimal


class NodeControl:
    """Reads and control verbs over one started node; see the module docstring."""

    def __init__(self, node: TradingNode) -> None:
        self.node = node
        self._sequence = 0
        self._by_key: dict[str, SubmitResult] | None = None  # read from the store on first use

    # -- parts (the node builds them at start) -------------------------------------------

    @property
    def kernel(self) -> Kernel:
        kernel = self.node.kernel
        if kernel is None:
            raise NodeControlError("not_started", "the trading node has not started")
        return kernel

    @property
    def manager(self) -> OrderManager:
        manager = self.node.manager
        if manager is None:
            raise NodeControlError("not_started", "the trading node has not started")
        return manager

    # -- reads -----------------------------------------------------------------------------

    def open_orders(self) -> list[ManagedOrder]:
        """Orders still working, oldest first."""
        return sorted(self.manager.open_orders(), key=lambda m: m.created_at)

    def order(self, client_order_id: str) -> ManagedOrder:
        """One order the order manager knows; ``unknown_order`` otherwise."""
        managed = self.manager.order(client_order_id)
        if managed is None:
            raise NodeControlError("unknown_order", f"no order {client_order_id!r}")
        return managed

    def order_history(self, *, limit: int = 100) -> list[tuple[OrderIntent, OrderEvent | None]]:
        """The newest ``limit`` orders of the journal (every run), newest first, each with
        its latest recorded event."""
        journal = self.node.journal
        if journal is None:
            return []
        return journal.intents()[::-1][:limit]

    def fills(self, *, since: datetime | None = None) -> list[Fill]:
        """Fills recorded in the journal (every run), oldest first."""
        journal = self.node.journal
        return [] if journal is None else journal.fills(since=since)

    def pnl_by_symbol(self) -> list[PnlLine]:
        """The node's books per symbol traded, marked at the last prices (nothing booked)."""
        kernel = self.kernel
        books = kernel.portfolio
        view = kernel.view
        symbols = sorted({*books.positions(), *(f.symbol for f in self.fills())})
        out = []
        for symbol in symbols:
            held = view.position(symbol)
            price = held.current_price
            unrealized = _ZERO if price is None else (price - held.avg_entry_price) * held.qty
            out.append(
                PnlLine(
                    name=symbol,
                    realized=books.realized_pl(symbol),
                    unrealized=unrealized,
                    fees=_ZERO,
                )
            )
        return out

    def pnl_by_bot(self, *, since: datetime | None = None) -> list[PnlLine]:
        """Each bot's fills (since ``since``) booked on a book of its own, marked at the
        node's last prices."""
        journal = self.node.journal
        kernel = self.kernel
        out: list[PnlLine] = []
        names = [s.strategy_id for s in kernel.runner.strategies] + [MANUAL_ID]
        for name in names:
            fills = [] if journal is None else journal.fills(strategy_id=name, since=since)
            book = Portfolio(cash=_ZERO)
            for fill in fills:
                book.apply(fill)
            prices = {s: p for s in book.positions() if (p := kernel.latest_price(s))}
            if prices:
                book.mark(kernel.clock.now(), prices)
            if fills or name != MANUAL_ID:
                out.append(
                    PnlLine(
                        name=name,
                        realized=book.realized_pl(),
                        unrealized=book.unrealized_pl(),
                        fees=book.fees,
                    )
                )
        return out

    def bots(self) -> list[BotState]:
        """Every strategy of the node."""
        kernel = self.kernel
        paused = kernel.risk.paused
        return [
            BotState(
                bot_id=s.strategy_id,
                strategy=type(s).name,
                symbols=s.symbols,
                status=kernel.runner.status(s.strategy_id).value,
                paused=s.strategy_id in paused,
                params=s.parameters,
                changeable=tuple(k for k, p in type(s).params().items() if p.changeable),
                positions={k: v for k, v in s.context.positions.items() if v},
                model=bot_model(s),
            )
            for s in kernel.runner.strategies
        ]

    # -- orders ----------------------------------------------------------------------------

    def submit(self, request: OrderRequest, *, key: str | None = None) -> SubmitResult:
        """Risk, then the order manager, as a strategy's order. The same ``key`` twice
        answers the first result and sends nothing more, also after the node restarted:
        each key's result is kept in the node's state store (the newest ``KEYS_KEPT``),
        written as soon as the order manager has the order."""
        if key is not None:
            known = self._keys().get(key)
            if known is not None:
                return known
        kernel = self.kernel
        self._sequence += 1
        result = kernel.submit(
            StrategyOrder(
                strategy_id=MANUAL_ID,
                sequence=self._sequence,
                request=request,
                created_at=kernel.clock.now(),
            )
        )
        if key is not None:
            self._remember(key, result)
        _log.info(
            "manual order",
            symbol=request.symbol,
            side=request.side.value,
            accepted=result.accepted,
            client_order_id=result.client_order_id,
            reason=result.reason,
        )
        return result

    def _keys(self) -> dict[str, SubmitResult]:
        """The callers' keys and their results, read from the node's state store once."""
        if self._by_key is None:
            stored = self.node.stores.states.load(_KEYS_STATE) or {}
            found = stored.get("keys", [])
            self._by_key = {
                str(item["key"]): SubmitResult(
                    accepted=bool(item["accepted"]),
                    client_order_id=_text(item.get("client_order_id")),
                    code=_text(item.get("code")),
                    reason=_text(item.get("reason")),
                )
                for item in (found if isinstance(found, list) else [])
                if isinstance(item, dict) and "key" in item
            }
        return self._by_key

    def _remember(self, key: str, result: SubmitResult) -> None:
        keys = self._keys()
        keys[key] = result
        while len(keys) > KEYS_KEPT:  # the oldest first: dicts keep insertion order
            del keys[next(iter(keys))]
        kept = [
            {
                "key": k,
                "accepted": r.accepted,
                "client_order_id": r.client_order_id,
                "code": r.code,
                "reason": r.reason,
            }
            for k, r in keys.items()
        ]
        self.node.stores.states.save(_KEYS_STATE, {"keys": kept})

    def cancel(self, client_order_id: str) -> SubmitResult:
        """Ask to cancel an open order, whoever placed it."""
        managed = self.order(client_order_id)
        return self.kernel.cancel(managed.strategy_id, client_order_id)

    async def replace(
        self,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> ManagedOrder:
        """Replace an open order after risk passed the changed order; answers the new one."""
        managed = self.order(client_order_id)
        kernel = self.kernel
        old = managed.request
        changed = OrderRequest(
            symbol=old.symbol,
            side=old.side,
            qty=qty if qty is not None else old.qty,
            notional=None if qty is not None or old.qty is not None else old.notional,
            type=old.type,
            time_in_force=old.time_in_force,
            limit_price=limit_price if limit_price is not None else old.limit_price,
            stop_price=stop_price if stop_price is not None else old.stop_price,
        )
        others = [o for cid, o in kernel.open_orders.items() if cid != client_order_id]
        rejection = kernel.risk.check(
            changed,
            portfolio=kernel.view,
            prices=LastPrices(kernel.prices),
            open_orders=others,
            strategy_id=managed.strategy_id,
        )
        if rejection is not None:
            raise NodeControlError(f"risk_{rejection.code.value}", rejection.reason)
        try:
            return await self.manager.replace(
                client_order_id, qty=qty, limit_price=limit_price, stop_price=stop_price
            )
        except ValueError as exc:
            raise NodeControlError("not_replaceable", str(exc)) from None

    # -- the kill switch -------------------------------------------------------------------

    def halt(self, reason: str, *, flatten: bool = False) -> None:
        """Refuse opening orders and cancel every open order; ``flatten`` closes every
        position too (each strategy's, then the rest)."""
        risk = self.kernel.risk
        switch = self.node.kill_switch
        if flatten:
            if risk.kill_reason is None:
                self.node.kill(reason)
                return
            # Already halted without flattening: run the kill listeners once more.
            for listener in list(risk.kill_listeners):
                listener(reason)
            return
        if risk.kill_reason is None:
            risk.kill_reason = reason  # the halt itself: opening orders refused from now
            _log.critical("kill switch engaged without flattening", reason=reason)
        if switch is not None:
            switch.cancel(reason)

    def reset(self) -> None:
        """Release the kill switch and the daily-loss halt."""
        risk = self.kernel.risk
        risk.release()
        risk.reset_daily_halt()

    def close_position(self, symbol: str) -> list[SubmitResult]:
        """Close ``symbol``: each strategy closes its part, what none holds is closed by
        hand. Answers every order asked for."""
        kernel = self.kernel
        held = kernel.portfolio.qty(symbol)
        if not held:
            raise NodeControlError("no_position", f"no position in {symbol!r}")
        results: list[SubmitResult] = []
        owned = _ZERO
        for strategy in kernel.runner.strategies:
            part = strategy.context.positions.get(symbol, _ZERO)
            if part:
                owned += part
                closed = strategy.close_position(symbol)
                if closed is not None:
                    results.append(closed)
        rest = held - owned
        if rest:
            crypto = AssetClass.of_symbol(symbol) is AssetClass.CRYPTO
            request = OrderRequest(
                symbol=symbol,
                side=OrderSide.SELL if rest > 0 else OrderSide.BUY,
                qty=abs(rest),
                type=OrderType.MARKET,
                time_in_force=TimeInForce.GTC if crypto else TimeInForce.DAY,
            )
            results.append(self.submit(request))
        return results

    def close_all(self) -> list[SubmitResult]:
        """Close every position (the kill switch is not engaged)."""
        results: list[SubmitResult] = []
        for symbol in sorted(self.kernel.portfolio.positions()):
            results += self.close_position(symbol)
        return results

    # -- bots ------------------------------------------------------------------------------

    def strategy(self, bot_id: str) -> Strategy:
        """The node's strategy ``bot_id``; ``unknown_bot`` otherwise."""
        for strategy in self.kernel.runner.strategies:
            if strategy.strategy_id == bot_id:
                return strategy
        known = ", ".join(s.strategy_id for s in self.kernel.runner.strategies)
        raise NodeControlError("unknown_bot", f"no bot {bot_id!r} (known: {known})")

    def pause(self, bot_id: str) -> None:
        """Refuse the bot's opening orders; it keeps managing what it holds."""
        self.kernel.risk.pause(self.strategy(bot_id).strategy_id)

    def resume(self, bot_id: str) -> None:
        """Let a paused bot open positions again."""
        self.kernel.risk.resume(self.strategy(bot_id).strategy_id)

    def set_params(self, bot_id: str, values: dict[str, object]) -> dict[str, ParamValue]:
        """Change parameters the bot declares changeable; all or nothing. Answers the new
        values of every parameter."""
        strategy = self.strategy(bot_id)
        declared = type(strategy).params()
        converted: dict[str, ParamValue] = {}
        for name, value in values.items():
            spec = declared.get(name)
            if spec is None:
                raise NodeControlError("unknown_param", f"{bot_id!r} has no parameter {name!r}")
            if not spec.changeable:
                raise NodeControlError(
                    "param_not_changeable", f"parameter {name!r} of {bot_id!r} is not changeable"
                )
            try:
                converted[name] = spec.coerce(value, strategy.name)
            except ParameterError as exc:
                raise NodeControlError("bad_param", str(exc)) from None
        before = strategy.parameters
        for name, value in converted.items():
            setattr(strategy, name, value)
        try:
            strategy.validate()
        except ParameterError as exc:
            for name in converted:
                setattr(strategy, name, before[name])
            raise NodeControlError("bad_param", str(exc)) from None
        _log.warning(
            "bot parameters changed", bot=bot_id, values={k: str(v) for k, v in converted.items()}
        )
        return strategy.parameters
