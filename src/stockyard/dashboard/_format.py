"""Jinja filters: every number with its unit, every time in UTC with its zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

__all__ = ["FILTERS", "money", "percent", "quantity", "signed_money", "utc"]

Number = int | float | Decimal


def money(value: Number | None, places: int = 2) -> str:
    """``$1,234.56`` (``-$12.00`` below zero); ``–`` when unknown."""
    if value is None:
        return "–"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"


def signed_money(value: Number | None) -> str:
    """``+$12.00`` or ``-$12.00``: a P&L, with its sign always shown."""
    if value is None:
        return "–"
    shown = money(value)
    return shown if shown.startswith("-") or Decimal(str(value)) == 0 else "+" + shown


def percent(value: Number | None, places: int = 2) -> str:
    """A fraction as ``12.34 %``; ``–`` when unknown."""
    if value is None:
        return "–"
    return f"{float(value) * 100:,.{places}f} %"


def quantity(value: Number | None) -> str:
    """Shares or coins without trailing zeros (``10 sh``-style units are added by the page)."""
    if value is None:
        return "–"
    shown = format(Decimal(str(value)).normalize(), "f")
    return shown


def utc(value: datetime | float | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time (a datetime, ISO 8601 text or epoch seconds) in UTC with its zone:
    ``2026-12-07 23:01:10 UTC``; ``–`` when unknown."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        when = datetime.fromisoformat(value)
    elif isinstance(value, float):
        when = datetime.fromtimestamp(value, tz=UTC)
    else:
        when = value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(fmt) + " UTC"


def duration(seconds: float | None) -> str:
    """``3 d 4 h``, ``5 min 2 s``, ``0.4 s``: an uptime or an age."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s"


FILTERS = {
    "money": money,
    "signed_money": signed_money,
    "percent": percent,
    "quantity": quantity,
    "utc": utc,
    "duration": duration,
}
