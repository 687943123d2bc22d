"""The order state machine over Alpaca's statuses: which updates move an order forward.

Updates can arrive late, twice or out of order (the stream and REST race; a reconnect replays).
An update is applied only if it moves the order forward; anything else is ignored and counted.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from stockyard.core import OrderStatus

__all__ = ["LEGAL_TRANSITIONS", "Verdict", "judge"]

S = OrderStatus

_ACCEPTING = frozenset({S.PENDING_NEW, S.ACCEPTED, S.ACCEPTED_FOR_BIDDING, S.HELD})
_WORKING = frozenset({S.NEW, S.SUSPENDED, S.CALCULATED, S.STOPPED})
_PENDING = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})
_TERMINAL = frozenset({S.FILLED, S.CANCELED, S.EXPIRED, S.REPLACED, S.REJECTED, S.DONE_FOR_DAY})
_LIVE = _WORKING | {S.PARTIALLY_FILLED} | _PENDING | _TERMINAL


# fmt: off
LEGAL_TRANSITIONS = MappingProxyType({
    # Not yet live: pending_new → accepted (for bidding) → held (a waiting leg) → live.
    S.PENDING_NEW: frozenset({S.ACCEPTED, S.ACCEPTED_FOR_BIDDING, S.HELD, *_LIVE}),
    S.ACCEPTED_FOR_BIDDING: frozenset({S.ACCEPTED, S.HELD, *_LIVE}),
    S.ACCEPTED: frozenset({S.HELD, *_LIVE}),
    S.HELD: _LIVE,
    # Working: filled in part, asked to cancel or replace, or ended.
    **{s: _WORKING | {S.PARTIALLY_FILLED} | _PENDING | _TERMINAL for s in _WORKING},
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, *_PENDING, *_TERMINAL, S.STOPPED}),
    # A refused cancel or replace returns the order to where it was.
    **{s: frozenset({S.NEW, S.PARTIALLY_FILLED, *_PENDING, *_TERMINAL}) for s in _PENDING},
    # Terminal statuses are final.
    **{s: frozenset[OrderStatus]() for s in _TERMINAL},
})
# fmt: on


class Verdict(StrEnum):
    """What to do with an update."""

    APPLY = "apply"  # moves the order forward
    DUPLICATE = "duplicate"  # the state we already hold
    STALE = "stale"  # would go backwards (a late ``new`` after a ``fill``, a smaller fill)


def judge(
    current: OrderStatus | None,
    current_filled: Decimal,
    new: OrderStatus,
    new_filled: Decimal,
) -> Verdict:
    """Judge moving from ``current`` (``None``: no broker status yet) to ``new``.

    Filled quantity never decreases; more filled quantity is always news (a partial fill);
    otherwise the move must be in ``LEGAL_TRANSITIONS``.
    """
    if new_filled < current_filled:
        return Verdict.STALE
    if current is None:
        return Verdict.APPLY
    if new is current and new_filled == current_filled:
        return Verdict.DUPLICATE
    if new in LEGAL_TRANSITIONS[current]:
        return Verdict.APPLY
    if new_filled > current_filled and current not in _TERMINAL:
        return Verdict.APPLY  # a fill reported with a lagging status is still a fill
    return Verdict.STALE
