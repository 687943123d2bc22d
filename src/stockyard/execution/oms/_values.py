"""Values the order manager hands out: an order's managed state, settings, reconciliation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from stockyard.config import OmsSettings
from stockyard.core import Order, OrderRequest, OrderStatus

__all__ = ["EXTERNAL_STRATEGY", "ManagedOrder", "OmsConfig", "OrderPhase", "ReconcileReport"]

EXTERNAL_STRATEGY = "_external"
"""The strategy id of an adopted order whose client order id is not shaped like ours."""


class OrderPhase(StrEnum):
    """Where an order is on its way to the broker."""

    PENDING = "pending"  # intent recorded, not sent yet
    SUBMITTING = "submitting"  # being sent (found after a crash: it may or may not have arrived)
    UNKNOWN = "unknown"  # the send failed in a way that leaves arrival unknown; reconcile
    SUBMITTED = "submitted"  # the broker has it
    DONE = "done"  # terminal: filled, canceled, expired, replaced, rejected


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedOrder:
    """One order as the order manager knows it. ``order`` is the broker's latest view."""

    client_order_id: str
    strategy_id: str
    sequence: int
    request: OrderRequest
    phase: OrderPhase
    status: OrderStatus | None
    broker_order_id: str | None
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    created_at: datetime
    updated_at: datetime
    order: Order | None = None
    detail: str | None = None

    @property
    def is_open(self) -> bool:
        return self.phase is not OrderPhase.DONE


_DEFAULTS = OmsSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class OmsConfig:
    """How the order manager resends and reconciles.

    ``resubmit_window``: an intent that never reached the broker is resent (with the same
    client order id) only while it is younger than this; older ones are given up, since the
    moment they were meant for has passed. ``max_resubmits``: resends by reconciliation per
    intent per process. ``submit_attempts``: sends of one order in one ``send`` when a send
    fails in a way that leaves arrival unknown (each after looking the order up first).
    ``stream_grace_s``: when a network broker's answer to a send counts fills its stream has
    not brought yet (the answer overtook the stream), how long ``send`` waits for the stream
    before fetching the broker's fills (a REST call per order, against Alpaca's rate limit).
    """

    resubmit_window: timedelta = timedelta(seconds=_DEFAULTS.resubmit_window_s)
    max_resubmits: int = _DEFAULTS.max_resubmits
    submit_attempts: int = _DEFAULTS.submit_attempts
    stream_grace_s: float = _DEFAULTS.stream_grace_s
    component: str = "execution"

    @classmethod
    def from_settings(cls, settings: OmsSettings, *, component: str = "execution") -> OmsConfig:
        """The config of the ``[oms]`` section, logging as ``component``."""
        return cls(
            resubmit_window=timedelta(seconds=settings.resubmit_window_s),
            max_resubmits=settings.max_resubmits,
            submit_attempts=settings.submit_attempts,
            stream_grace_s=settings.stream_grace_s,
            component=component,
        )

    def __post_init__(self) -> None:
        if self.resubmit_window < timedelta(0):
            raise ValueError("resubmit_window must be >= 0")
        if self.submit_attempts < 1:
            raise ValueError(f"submit_attempts must be >= 1, got {self.submit_attempts}")
        if self.max_resubmits < 0:
            raise ValueError(f"max_resubmits must be >= 0, got {self.max_resubmits}")
        if not self.stream_grace_s >= 0:
            raise ValueError(f"stream_grace_s must be >= 0, got {self.stream_grace_s}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileReport:
    """What one reconciliation found and corrected (client order ids, symbols)."""

    at: datetime
    checked: int = 0
    updated: tuple[str, ...] = ()  # our orders whose state the broker had moved on
    adopted: tuple[str, ...] = ()  # the broker had them and we had not recorded it
    resubmitted: tuple[str, ...] = ()  # never arrived: sent again with the same id
    given_up: tuple[str, ...] = ()  # never arrived and too old (or resent already): rejected
    missing: tuple[str, ...] = ()  # we recorded them as sent; the broker does not know them
    fills_recorded: int = 0
    position_differences: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """symbol → (from our recorded fills, at the broker), where they differ."""

    @property
    def corrections(self) -> int:
        return (
            len(self.updated)
            + len(self.adopted)
            + len(self.resubmitted)
            + len(self.given_up)
            + self.fills_recorded
        )
