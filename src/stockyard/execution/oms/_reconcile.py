"""Reconciliation: bring the order manager's record in line with the broker's.

Run on start and after every stream reconnect. For each open order we ask the broker by
client order id; orders the broker has and we do not are adopted; fills we missed are
fetched and recorded (once, by fill id); positions are compared and differences reported.
Every correction is logged and journaled as a ``reconciled`` event.

Fills are journaled before the states that count them: a terminal order is never read back
from the journal, so a crash between the two writes must leave the fill there, not the state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from stockyard.core import Order, OrderEventKind, OrderSide, OrderStatus
from stockyard.execution._broker import Broker
from stockyard.execution.oms._ledger import OrderLedger, Tracked
from stockyard.execution.oms._states import Verdict
from stockyard.execution.oms._values import OmsConfig, OrderPhase, ReconcileReport

__all__ = ["Reconciler"]

# Broker and node clocks differ; fills are deduplicated by id, so fetching a little early is free.
_FILL_LOOKBACK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class _Found:
    """A broker state to apply to a tracked order once the fills it counts are recorded."""

    tracked: Tracked
    order: Order
    detail: str
    intended: bool  # ours (journaled before); else adopted in this pass

    @property
    def coid(self) -> str:
        return self.tracked.client_order_id


class Reconciler:
    """One reconciliation pass over the ledger against the broker."""

    def __init__(
        self,
        *,
        ledger: OrderLedger,
        broker: Broker,
        config: OmsConfig,
        resend: Callable[[Tracked], Awaitable[None]],
    ) -> None:
        self._ledger = ledger
        self._broker = broker
        self._config = config
        self._resend = resend
        self.runs = 0

    async def run(self) -> ReconcileReport:
        ledger, log = self._ledger, self._ledger.log
        self.runs += 1
        now = ledger.clock()
        pending = [t for t in ledger.open() if not t.in_flight]
        since = min((t.intent.created_at for t in pending), default=None)
        found: list[_Found] = []  # states to apply once the fills they count are recorded
        adopted: list[str] = []
        resubmitted: list[str] = []
        given_up: list[str] = []
        missing: list[str] = []
        want_fills = False
        for t in pending:
            coid = t.client_order_id
            order = await self._broker.get_order_by_client_id(coid)
            if order is None:
                if t.broker_id is not None or t.phase is OrderPhase.SUBMITTED:
                    missing.append(coid)
                    log.error("order missing at the broker", client_order_id=coid)
                elif await self._never_arrived(t):
                    resubmitted.append(coid)
                else:
                    given_up.append(coid)
                continue
            found.append(_Found(t, order, "from the broker", intended=True))
            want_fills = want_fills or order.filled_qty > 0
        found.extend(self._legs_of(found))  # before open_orders(), which lists open legs too
        strangers: list[_Found] = []
        for order in await self._broker.open_orders():
            if ledger.get(order.client_order_id) is None:
                reason = "open at the broker, unknown to us"
                t = ledger.track(order, reason=reason)
                strangers.append(_Found(t, order, f"adopted: {reason}", intended=False))
                want_fills = True
                since = order.created_at if since is None else min(since, order.created_at)
        found.extend(strangers + self._legs_of(strangers))
        want_fills = want_fills or any(f.order.filled_qty > 0 for f in found)
        recorded = await self.record_fills(since=since) if want_fills else 0
        updated = self._apply(found, adopted)
        differences = await self._positions()
        report = ReconcileReport(
            at=now,
            checked=len(pending),
            updated=tuple(updated),
            adopted=tuple(adopted),
            resubmitted=tuple(resubmitted),
            given_up=tuple(given_up),
            missing=tuple(missing),
            fills_recorded=recorded,
            position_differences=differences,
        )
        log.info(
            "reconciled",
            checked=report.checked,
            corrections=report.corrections,
            adopted=len(adopted),
            resubmitted=len(resubmitted),
            given_up=len(given_up),
            missing=len(missing),
            fills_recorded=recorded,
            position_differences=len(differences),
        )
        return report

    async def settle(
        self,
        t: Tracked,
        order: Order,
        kind: OrderEventKind,
        *,
        detail: str | None = None,
        missed: bool = False,
    ) -> Verdict:
        """Apply the broker's ``order`` to ``t``, having first recorded any fills it counts
        that we have not journaled (legs we do not know are tracked first, for their fills).

        ``missed``: ``order`` came from the stream, so fills it counts and we lack were missed
        (a warning each). Otherwise it is the broker's answer to a call of ours, which often
        counts a fill whose stream update is still on its way: recorded here, noted at info.
        """
        legs = self._legs_of([_Found(t, order, detail or "", intended=True)]) if order.legs else []
        if order.filled_qty > t.filled or any(f.order.filled_qty > 0 for f in legs):
            await self.record_fills(since=t.intent.created_at, missed=missed)
        verdict = self._ledger.apply(t, order, kind, detail=detail)
        for leg in legs:
            self._ledger.apply(leg.tracked, leg.order, OrderEventKind.RECONCILED, detail=leg.detail)
        return verdict

    async def record_fills(self, *, since: datetime | None, missed: bool = True) -> int:
        """Fetch the broker's fills since ``since`` (less a margin) and record those of our
        orders we had not, each once; answers how many were new. ``missed``: they were lost
        on the stream (a warning each), not merely ahead of it (info)."""
        ledger, recorded = self._ledger, 0
        start = None if since is None else since - _FILL_LOOKBACK
        note = ledger.log.warning if missed else ledger.log.info
        for fill in await self._broker.fills(since=start):
            owner = ledger.get(fill.client_order_id)
            if owner is not None and ledger.fill(owner, fill):
                recorded += 1
                note(
                    "missed fill recorded"
                    if missed
                    else "fill recorded ahead of its stream update",
                    client_order_id=fill.client_order_id,
                    fill_id=fill.id,
                    qty=str(fill.qty),
                    price=str(fill.price),
                )
        return recorded

    def _legs_of(self, found: list[_Found]) -> list[_Found]:
        """The legs of ``found`` orders that we did not know, now tracked (states not yet
        applied, so that their fills can be recorded first)."""
        ledger, legs = self._ledger, []
        for parent in found:
            strategy, reason = parent.tracked.intent.strategy_id, f"leg of {parent.coid}"
            for leg in parent.order.legs:
                if ledger.get(leg.client_order_id) is None:
                    t = ledger.track(leg, reason=reason, strategy_id=strategy)
                    legs.append(_Found(t, leg, f"adopted: {reason}", intended=False))
        return legs

    def _apply(self, found: list[_Found], adopted: list[str]) -> list[str]:
        """Apply the broker's states (their fills already recorded); answers the orders
        updated and adds those adopted to ``adopted``."""
        ledger, log, updated = self._ledger, self._ledger.log, []
        for f in found:
            had_id = f.tracked.broker_id is not None
            verdict = ledger.apply(f.tracked, f.order, OrderEventKind.RECONCILED, detail=f.detail)
            if not had_id:
                adopted.append(f.coid)
                if f.intended:
                    log.warning(
                        "order had reached the broker; adopted, not resent",
                        client_order_id=f.coid,
                        status=f.order.status.value,
                    )
            elif verdict is Verdict.APPLY:
                updated.append(f.coid)
                log.warning(
                    "order state corrected from the broker",
                    client_order_id=f.coid,
                    status=f.order.status.value,
                    filled_qty=str(f.order.filled_qty),
                )
        return updated

    async def _never_arrived(self, t: Tracked) -> bool:
        """Resend an order that never reached the broker (same client order id) once, while
        it is fresh; otherwise give it up. Answers whether it was resent."""
        ledger = self._ledger
        age = ledger.clock() - t.intent.created_at
        if t.resubmits >= self._config.max_resubmits or age > self._config.resubmit_window:
            why = "resent already" if t.resubmits else f"too old to send ({age})"
            ledger.close(
                t,
                OrderStatus.REJECTED,
                OrderEventKind.RECONCILED,
                f"never reached the broker; {why}",
            )
            return False
        ledger.record(t, OrderEventKind.RECONCILED, detail="never reached the broker; resending")
        ledger.log.warning(
            "order never reached the broker; resending", client_order_id=t.client_order_id
        )
        t.resubmits += 1
        await self._resend(t)
        if t.broker_id is None and t.is_open:
            # The resend failed before the broker answered (a breaker open, a refused
            # connection): it does not use up the allowance. Sending the same client order id
            # again cannot make a second order — the next pass looks it up first and the
            # broker refuses a duplicate id — so only the age window ends the attempts.
            t.resubmits -= 1
        return True

    async def _positions(self) -> dict[str, tuple[Decimal, Decimal]]:
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for fill in self._ledger.journal.fills():
            expected[fill.symbol] += fill.qty if fill.side is OrderSide.BUY else -fill.qty
        actual = {p.symbol: p.qty for p in await self._broker.positions()}
        differences: dict[str, tuple[Decimal, Decimal]] = {}
        for symbol in sorted(set(expected) | set(actual)):
            ours, theirs = expected.get(symbol, Decimal(0)), actual.get(symbol, Decimal(0))
            if ours != theirs:
                differences[symbol] = (ours, theirs)
        if differences:
            self._ledger.log.warning(
                "positions differ from our fills",
                differences={s: [str(a), str(b)] for s, (a, b) in differences.items()},
            )
        return differences
