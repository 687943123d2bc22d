"""The order state machine: forward moves apply, repeats and backward moves are ignored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockyard.core import OrderStatus
from stockyard.execution.oms import LEGAL_TRANSITIONS, Verdict, judge

S = OrderStatus
ZERO, TEN = Decimal(0), Decimal(10)


@pytest.mark.parametrize(
    ("current", "held", "new", "got"),
    [
        (None, ZERO, S.NEW, ZERO),
        (S.PENDING_NEW, ZERO, S.ACCEPTED, ZERO),
        (S.ACCEPTED, ZERO, S.NEW, ZERO),
        (S.NEW, ZERO, S.PARTIALLY_FILLED, Decimal(4)),
        (S.PARTIALLY_FILLED, Decimal(4), S.PARTIALLY_FILLED, Decimal(6)),
        (S.PARTIALLY_FILLED, Decimal(6), S.FILLED, TEN),
        (S.NEW, ZERO, S.PENDING_CANCEL, ZERO),
        (S.PENDING_CANCEL, ZERO, S.NEW, ZERO),  # the cancel was refused
        (S.PENDING_CANCEL, ZERO, S.CANCELED, ZERO),
        (S.NEW, ZERO, S.REPLACED, ZERO),
        (S.ACCEPTED, ZERO, S.EXPIRED, ZERO),
    ],
)
def test_forward_moves_are_applied(
    current: OrderStatus | None, held: Decimal, new: OrderStatus, got: Decimal
) -> None:
    assert judge(current, held, new, got) is Verdict.APPLY


@pytest.mark.parametrize(
    ("current", "held", "new", "got"),
    [
        (S.FILLED, TEN, S.NEW, ZERO),  # a late "new" after the fill
        (S.FILLED, TEN, S.PARTIALLY_FILLED, Decimal(4)),
        (S.CANCELED, ZERO, S.NEW, ZERO),
        (S.PARTIALLY_FILLED, Decimal(4), S.NEW, Decimal(4)),
        (S.NEW, ZERO, S.ACCEPTED, ZERO),
        (S.ACCEPTED, ZERO, S.PENDING_NEW, ZERO),
        (S.PARTIALLY_FILLED, Decimal(6), S.PARTIALLY_FILLED, Decimal(4)),
    ],
)
def test_backward_moves_are_stale(
    current: OrderStatus, held: Decimal, new: OrderStatus, got: Decimal
) -> None:
    assert judge(current, held, new, got) is Verdict.STALE


def test_the_same_state_again_is_a_duplicate() -> None:
    assert judge(S.NEW, ZERO, S.NEW, ZERO) is Verdict.DUPLICATE
    assert judge(S.FILLED, TEN, S.FILLED, TEN) is Verdict.DUPLICATE


def test_a_fill_reported_with_a_lagging_status_still_counts() -> None:
    assert judge(S.PENDING_CANCEL, ZERO, S.NEW, Decimal(3)) is Verdict.APPLY
    assert judge(S.NEW, ZERO, S.ACCEPTED, Decimal(3)) is Verdict.APPLY


def test_every_status_has_a_row_and_terminal_statuses_are_final() -> None:
    assert set(LEGAL_TRANSITIONS) == set(OrderStatus)
    for status in OrderStatus:
        if status.is_terminal:
            assert not LEGAL_TRANSITIONS[status]
        else:
            assert LEGAL_TRANSITIONS[status]
