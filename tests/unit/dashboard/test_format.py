from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from stockyard.dashboard._format import duration, money, percent, quantity, signed_money, utc


def test_money_has_its_sign_and_two_places() -> None:
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money(-12) == "-$12.00"
    assert money(None) == "–"
    assert signed_money(Decimal("3")) == "+$3.00"
    assert signed_money(Decimal("-3")) == "-$3.00"
    assert signed_money(0) == "$0.00"


def test_percent_quantity_and_duration_carry_their_units() -> None:
    assert percent(0.1234) == "12.34 %"
    assert quantity(Decimal("10.000")) == "10"
    assert quantity(Decimal("0.0100")) == "0.01"
    assert duration(0.42) == "0.4 s"
    assert duration(125) == "2 min 5 s"
    assert duration(3 * 86400 + 4 * 3600) == "3 d 4 h"


def test_times_are_shown_in_utc_with_the_zone() -> None:
    paris = timezone(timedelta(hours=1))
    assert utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)) == "2026-01-02 02:04:05 UTC"
    assert utc(datetime(2026, 1, 2, tzinfo=UTC), "%Y-%m-%d") == "2026-01-02 UTC"
    assert utc(None) == "–"
