"""The order manager's working state: every open order by client order id, kept in step with
the journal. Every change is written to the journal first, then listeners hear of it; a fill
is written before the state that counts it (a terminal order is never read back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stockyard.core import (
    Fill,
    Order,
    OrderClass,
    OrderEvent,
    OrderEventKind,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    maker,
)
from stockyard.execution.oms._coid import make_client_order_id, parse_client_order_id
from stockyard.execution.oms._journal import DuplicateIntentError, OrderJournal
from stockyard.execution.oms._states import Verdict, judge
from stockyard.execution.oms._values import EXTERNAL_STRATEGY, ManagedOrder, OrderPhase
from stockyard.execution.sim import TradeEvent, TradeUpdate
from stockyard.obs import get_logger
from stockyard.resilience import MoneyPathError

__all__ = [
    "Listeners",
    "OrderLedger",
    "Owed",
    "Tracked",
    "describe_fill",
    "listener_name",
    "request_of",
]

_ZERO = Decimal(0)
_FILL_EVENTS = frozenset({TradeEvent.FILL, TradeEvent.PARTIAL_FILL})
_KNOWN_FILLS = 100_000

# The order path makes these per order: the classes' own constructors, without the cost of
# a frozen dataclass's ``__init__`` (validation included; see ``sim._make``).
_managed = maker(ManagedOrder)
_event = maker(OrderEvent)
_intent = maker(OrderIntent)
_fill = maker(Fill)

UpdateListener = Callable[[ManagedOrder], None]
FillListener = Callable[[str, Fill], None]


class Tracked:
    """One order's mutable state (private to the order manager)."""

    __slots__ = (
        "announced",
        "broker_id",
        "cancel_wanted",
        "detail",
        "filled",
        "filled_avg",
        "in_flight",
        "intent",
        "local_terminal",
        "order",
        "phase",
        "resubmits",
        "status",
        "updated_at",
        "viewed",
    )

    def __init__(self, intent: OrderIntent, event: OrderEvent | None) -> None:
        self.intent = intent
        self.status: OrderStatus | None = None if event is None else event.status
        self.broker_id: str | None = None if event is None else event.broker_order_id
        self.filled = _ZERO if event is None else event.filled_qty
        self.filled_avg: Decimal | None = None if event is None else event.filled_avg_price
        self.updated_at = intent.created_at if event is None else event.timestamp
        self.detail: str | None = None if event is None else event.detail
        self.order: Order | None = None
        self.in_flight = False
        self.cancel_wanted = False
        self.local_terminal = False
        self.resubmits = 0
        self.viewed: ManagedOrder | None = None  # the last view handed out (see ``view``)
        # Journaled as being sent together with its intent; the first send writes no
        # ``submitting`` event of its own. Any later event clears it.
        self.announced = False
        if event is None:
            self.phase = OrderPhase.PENDING
        elif event.kind is OrderEventKind.SUBMITTING:
            self.phase = OrderPhase.SUBMITTING
        elif self.status is None:
            self.phase = OrderPhase.UNKNOWN
        else:
            self.phase = OrderPhase.DONE if self.status.is_terminal else OrderPhase.SUBMITTED

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def is_open(self) -> bool:
        return self.phase is not OrderPhase.DONE


class Listeners:
    """Callbacks for order updates and new fills. A callback that raises is a money-path
    fault (``MoneyPathError``, naming the callback and the order or fill): ``on_error``
    decides what follows — the live node records it, alerts and trips its kill switch, and
    the other callbacks still run; without ``on_error`` (a backtest) it is raised."""

    def __init__(
        self, component: str, *, on_error: Callable[[MoneyPathError], None] | None = None
    ) -> None:
        self.updates: list[UpdateListener] = []
        self.fills: list[FillListener] = []
        self.on_error = on_error
        self._log = get_logger(component)

    @staticmethod
    def add(bucket: list[Callable[..., None]], callback: Callable[..., None]) -> Callable[[], None]:
        bucket.append(callback)

        def remove() -> None:
            if callback in bucket:
                bucket.remove(callback)

        return remove

    def order(self, view: ManagedOrder) -> None:
        for callback in tuple(self.updates):
            try:
                callback(view)
            except MoneyPathError:
                raise  # judged where it happened
            except Exception as exc:
                status = "none" if view.status is None else view.status.value
                self._failed(callback, f"order update {view.client_order_id} ({status})", exc)

    def fill(self, strategy_id: str, fill: Fill) -> None:
        for callback in tuple(self.fills):
            try:
                callback(strategy_id, fill)
            except MoneyPathError:
                raise
            except Exception as exc:
                self._failed(callback, f"fill {describe_fill(fill)}", exc)

    def _failed(self, callback: Callable[..., None], what: str, exc: Exception) -> None:
        name = listener_name(callback)
        error = MoneyPathError(
            f"listener {name} raised on {what}: {exc!r}",
            context={"listener": name, "on": what},
            cause=exc,
        )
        self._log.critical("listener failed", listener=name, on=what, error=repr(exc))
        if self.on_error is None:
            raise error
        self.on_error(error)


def listener_name(callback: Callable[..., object]) -> str:
    """A callback's name for an error message: ``Class.method`` or the function's name."""
    name = getattr(callback, "__qualname__", None)
    return name if isinstance(name, str) else repr(callback)


def describe_fill(fill: Fill) -> str:
    """``fill`` in one line: its id, order, side, quantity, symbol and price."""
    return (
        f"{fill.id} ({fill.client_order_id}: {fill.side.value} {fill.qty} {fill.symbol} "
        f"@ {fill.price})"
    )


def request_of(order: Order) -> OrderRequest:
    """The request that would have made ``order`` (for adopting an order we never intended)."""
    take_profit = stop_loss = stop_loss_limit = None
    for leg in order.legs:
        if leg.type is OrderType.LIMIT:
            take_profit = leg.limit_price
        elif leg.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            stop_loss, stop_loss_limit = leg.stop_price, leg.limit_price
    bracket = order.order_class is OrderClass.BRACKET and take_profit and stop_loss
    return OrderRequest(
        symbol=order.symbol,
        side=order.side,
        qty=order.qty,
        notional=order.notional if order.qty is None else None,
        type=order.type,
        time_in_force=order.time_in_force,
        limit_price=order.limit_price,
        stop_price=order.stop_price if order.type is not OrderType.TRAILING_STOP else None,
        trail_price=order.trail_price,
        trail_percent=order.trail_percent,
        extended_hours=order.extended_hours,
        client_order_id=order.client_order_id,
        order_class=OrderClass.BRACKET if bracket else OrderClass.SIMPLE,
        take_profit_limit_price=take_profit if bracket else None,
        stop_loss_stop_price=stop_loss if bracket else None,
        stop_loss_limit_price=stop_loss_limit if bracket else None,
    )


class OrderLedger:
    """Open orders in memory, every change journaled before anyone hears of it."""

    def __init__(
        self,
        journal: OrderJournal,
        *,
        clock: Callable[[], datetime],
        component: str,
        max_client_order_id: int = 128,
        on_listener_error: Callable[[MoneyPathError], None] | None = None,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.listeners = Listeners(component, on_error=on_listener_error)
        self.log = get_logger(component)
        self._max_id = max_client_order_id
        self._orders: dict[str, Tracked] = {}
        self._next: dict[str, int] = {}
        self.ignored = 0  # updates that would have gone backwards
        self.duplicates = 0  # updates repeating the state we hold
        self.fills_recorded = 0
        # Fill ids recorded in this process, newest last: a fetch of the broker's fills
        # mostly returns fills we have, and each would otherwise be a refused journal write.
        self._known_fills: dict[str, None] = {}

    # -- reading ------------------------------------------------------------------------

    def load(self) -> int:
        """Read the open intents from the journal (on start); answers how many."""
        for intent, event in self.journal.intents(open_only=True):
            self._orders[intent.client_order_id] = Tracked(intent, event)
        return len(self._orders)

    def get(self, client_order_id: str) -> Tracked | None:
        return self._orders.get(client_order_id)

    def open(self) -> list[Tracked]:
        return [t for t in self._orders.values() if t.is_open]

    def view(self, t: Tracked) -> ManagedOrder:
        """``t`` as a ``ManagedOrder``. Views are immutable: while none of the state a view
        holds has changed since the last one, that one is answered again (open orders only:
        a finished order keeps no view, as every finished order is kept)."""
        last = t.viewed
        if (
            last is not None
            and last.phase is t.phase
            and last.status is t.status
            and last.broker_order_id is t.broker_id
            and last.filled_qty is t.filled
            and last.filled_avg_price is t.filled_avg
            and last.updated_at is t.updated_at
            and last.order is t.order
            and last.detail is t.detail
        ):
            return last
        intent = t.intent
        view = _managed(
            client_order_id=intent.client_order_id,
            strategy_id=intent.strategy_id,
            sequence=intent.sequence,
            request=intent.request,
            phase=t.phase,
            status=t.status,
            broker_order_id=t.broker_id,
            filled_qty=t.filled,
            filled_avg_price=t.filled_avg,
            created_at=intent.created_at,
            updated_at=t.updated_at,
            order=t.order,
            detail=t.detail,
        )
        t.viewed = view if t.phase is not OrderPhase.DONE else None
        return view

    # -- intents ------------------------------------------------------------------------

    def new_intent(
        self,
        strategy_id: str,
        request: OrderRequest,
        created_at: datetime | None,
        *,
        sending: bool = False,
    ) -> Tracked:
        """Number ``request``, give it its client order id and record it durably. ``sending``:
        it goes to the broker next, so its ``submitting`` event is written in the same
        transaction (one durable write before the order leaves, not two)."""
        for _ in range(2):
            sequence = self._next.get(strategy_id)
            if sequence is None:
                sequence = self.journal.last_sequence(strategy_id) + 1
            coid = make_client_order_id(strategy_id, sequence, max_length=self._max_id)
            intent = _intent(
                client_order_id=coid,
                strategy_id=strategy_id,
                sequence=sequence,
                request=request.with_client_order_id(coid),
                created_at=created_at or self.clock(),
            )
            first = None
            if sending:
                first = _event(
                    client_order_id=coid,
                    kind=OrderEventKind.SUBMITTING,
                    status=None,
                    timestamp=intent.created_at,
                )
            try:
                self.journal.record_intent(intent, first_event=first)
            except DuplicateIntentError:
                # Someone else wrote this sequence (another process on the same journal):
                # read the journal's high-water mark again and take the next one.
                self._next[strategy_id] = self.journal.last_sequence(strategy_id) + 1
                continue
            self._next[strategy_id] = sequence + 1
            t = Tracked(intent, first)
            t.announced = sending
            self._orders[coid] = t
            return t
        raise DuplicateIntentError(f"could not number an intent for {strategy_id!r}")

    def adopt(self, order: Order, *, reason: str, strategy_id: str | None = None) -> Tracked:
        """Track an order the broker has and we had not recorded, and apply its state."""
        t = self.track(order, reason=reason, strategy_id=strategy_id)
        self.apply(t, order, OrderEventKind.RECONCILED, detail=f"adopted: {reason}")
        return t

    def track(self, order: Order, *, reason: str, strategy_id: str | None = None) -> Tracked:
        """Journal the intent of an order the broker has and we had not recorded, and track
        it (logged). Its state is left to ``apply``, so that its fills can be recorded first."""
        parsed = parse_client_order_id(order.client_order_id)
        if strategy_id is None:
            strategy_id = parsed[0] if parsed else EXTERNAL_STRATEGY
        sequence = parsed[1] if parsed else 0
        intent = OrderIntent(
            client_order_id=order.client_order_id,
            strategy_id=strategy_id,
            sequence=sequence,
            request=request_of(order),
            created_at=order.created_at,
        )
        try:
            self.journal.record_intent(intent)
        except DuplicateIntentError:
            # We recorded it once and closed it ourselves; the broker's word wins.
            intent = next(
                i for i, _ in self.journal.intents() if i.client_order_id == order.client_order_id
            )
        if parsed is not None and intent.strategy_id in self._next:
            following = max(self._next[intent.strategy_id], intent.sequence + 1)
            self._next[intent.strategy_id] = following  # never reuse an adopted order's id
        t = Tracked(intent, None)
        t.phase = OrderPhase.SUBMITTED
        self._orders[order.client_order_id] = t
        self.log.warning(
            "order adopted from the broker",
            client_order_id=order.client_order_id,
            broker_order_id=order.id,
            strategy=strategy_id,
            symbol=order.symbol,
            status=order.status.value,
            reason=reason,
        )
        return t

    # -- changes ------------------------------------------------------------------------

    def record(self, t: Tracked, kind: OrderEventKind, *, detail: str | None = None) -> None:
        """Journal ``t``'s current state as an event of ``kind``."""
        now = self.clock()
        t.updated_at = now
        t.detail = detail
        t.announced = False
        self.journal.record_event(
            _event(
                client_order_id=t.client_order_id,
                kind=kind,
                status=t.status,
                timestamp=now,
                broker_order_id=t.broker_id,
                filled_qty=t.filled,
                filled_avg_price=t.filled_avg,
                detail=detail,
            )
        )

    def submitting(self, t: Tracked) -> None:
        if t.status is None:
            t.phase = OrderPhase.SUBMITTING
        self.record(t, OrderEventKind.SUBMITTING)

    def failed(self, t: Tracked, error: str) -> None:
        """The send failed and we cannot tell whether it arrived."""
        if t.status is None:
            t.phase = OrderPhase.UNKNOWN
        self.record(t, OrderEventKind.SUBMIT_FAILED, detail=error)
        self.log.warning("submit failed", client_order_id=t.client_order_id, error=error)

    def close(self, t: Tracked, status: OrderStatus, kind: OrderEventKind, detail: str) -> None:
        """End ``t`` on our own authority (refused, given up, canceled before it was sent)."""
        t.status, t.phase, t.local_terminal = status, OrderPhase.DONE, True
        self.record(t, kind, detail=detail)
        self.log.warning(
            "order closed", client_order_id=t.client_order_id, status=status.value, detail=detail
        )
        self.listeners.order(self.view(t))

    def apply(
        self, t: Tracked, order: Order, kind: OrderEventKind, *, detail: str | None = None
    ) -> Verdict:
        """Move ``t`` to the broker's view ``order`` if that is forward; journal, then notify."""
        if t.local_terminal:
            verdict = Verdict.APPLY  # we had closed it ourselves; the broker's word wins
            t.local_terminal = False
        else:
            verdict = judge(t.status, t.filled, order.status, order.filled_qty)
        if verdict is Verdict.DUPLICATE:
            self.duplicates += 1
            if t.broker_id is None:
                t.broker_id = order.id
            return verdict
        if verdict is Verdict.STALE:
            self.ignored += 1
            self.log.debug(
                "stale order update ignored",
                client_order_id=t.client_order_id,
                held=None if t.status is None else t.status.value,
                got=order.status.value,
            )
            return verdict
        t.status, t.broker_id, t.order = order.status, order.id, order
        t.filled, t.filled_avg = order.filled_qty, order.filled_avg_price
        t.phase = OrderPhase.DONE if order.status.is_terminal else OrderPhase.SUBMITTED
        self.record(t, kind, detail=detail)
        for leg in order.legs:
            if leg.client_order_id not in self._orders:
                reason, strategy = f"leg of {t.client_order_id}", t.intent.strategy_id
                if leg.filled_qty > 0:  # its state waits for its fills (its update or a reconcile)
                    self.track(leg, reason=reason, strategy_id=strategy)
                else:
                    self.adopt(leg, reason=reason, strategy_id=strategy)
        self.listeners.order(self.view(t))
        return verdict

    def fill(self, t: Tracked, fill: Fill) -> bool:
        """Record ``fill`` once (by id) and hand it on; ``False`` when already recorded."""
        known = self._known_fills
        if fill.id in known:  # recorded already: spare the journal the refused write
            return False
        new = self.journal.record_fill(fill, strategy_id=t.intent.strategy_id)
        known[fill.id] = None
        if len(known) > _KNOWN_FILLS:
            del known[next(iter(known))]  # the oldest; the journal still refuses it again
        if not new:
            return False
        self.fills_recorded += 1
        self.listeners.fill(t.intent.strategy_id, fill)
        return True

    def on_trade_update(self, update: TradeUpdate) -> Owed | None:
        """Take one trade update from the broker's stream: its fill is journaled first, then
        its state. When the update counts more filled quantity than the fills journaled for
        the order (updates were missed), its state is not applied: it is answered as ``Owed``
        for the caller to apply once the missing fills are recorded."""
        order = update.order
        t = self._orders.get(order.client_order_id)
        kind, detail = OrderEventKind.UPDATE, update.event.value
        if t is None:
            reason = f"unknown order on the stream ({update.event.value})"
            t = self.track(order, reason=reason)
            kind, detail = OrderEventKind.RECONCILED, f"adopted: {reason}"
        covered = t.filled
        if update.event in _FILL_EVENTS and update.qty is not None and update.price is not None:
            self.fill(t, fill_of(update))
            covered += update.qty
        if order.filled_qty > covered:
            return Owed(t, order, kind, detail)
        self.apply(t, order, kind, detail=detail)
        return None


@dataclass(frozen=True, slots=True)
class Owed:
    """A broker state held back until the fills it counts are journaled."""

    tracked: Tracked
    order: Order
    kind: OrderEventKind
    detail: str


def fill_of(update: TradeUpdate) -> Fill:
    """The ``Fill`` a ``fill``/``partial_fill`` update reports."""
    order = update.order
    assert update.qty is not None  # checked by the caller
    assert update.price is not None
    leaves = None if order.qty is None else order.qty - order.filled_qty
    cumulative = order.filled_qty
    fill_id = update.execution_id or f"{order.id}:{format(cumulative.normalize(), 'f')}"
    return _fill(
        id=fill_id,
        order_id=order.id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=update.qty,
        price=update.price,
        timestamp=update.timestamp,
        fee=update.fee or _ZERO,
        cumulative_qty=cumulative,
        leaves_qty=leaves,
    )
