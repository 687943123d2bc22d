"""Bar timeframes and asset classes, spelled as Alpaca spells them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

__all__ = ["AssetClass", "TimeUnit", "Timeframe"]


class AssetClass(StrEnum):
    """What kind of instrument a symbol is; crypto symbols carry a slash (``BTC/USD``)."""

    STOCK = "stock"
    CRYPTO = "crypto"

    @classmethod
    def of_symbol(cls, symbol: str) -> AssetClass:
        """Infer the asset class from the symbol's spelling (Alpaca's convention)."""
        return cls.CRYPTO if "/" in symbol else cls.STOCK


class TimeUnit(StrEnum):
    MINUTE = "Min"
    HOUR = "Hour"
    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"


_UNIT_SECONDS = {
    TimeUnit.MINUTE: 60,
    TimeUnit.HOUR: 3600,
    TimeUnit.DAY: 86400,
    TimeUnit.WEEK: 7 * 86400,
}
_PATTERN = re.compile(r"^(\d+)\s*(Min|T|Hour|H|Day|D|Week|W|Month|M)$", re.IGNORECASE)
_ALIASES = {
    "min": TimeUnit.MINUTE,
    "t": TimeUnit.MINUTE,
    "hour": TimeUnit.HOUR,
    "h": TimeUnit.HOUR,
    "day": TimeUnit.DAY,
    "d": TimeUnit.DAY,
    "week": TimeUnit.WEEK,
    "w": TimeUnit.WEEK,
    "month": TimeUnit.MONTH,
    "m": TimeUnit.MONTH,
}


@dataclass(frozen=True, slots=True, order=True)
class Timeframe:
    """A bar length: ``Timeframe.parse("5Min")``; ``str()`` gives Alpaca's spelling."""

    amount: int
    unit: TimeUnit

    MINUTE: ClassVar[Timeframe]
    MINUTE_5: ClassVar[Timeframe]
    MINUTE_15: ClassVar[Timeframe]
    MINUTE_30: ClassVar[Timeframe]
    HOUR: ClassVar[Timeframe]
    DAY: ClassVar[Timeframe]
    WEEK: ClassVar[Timeframe]
    MONTH: ClassVar[Timeframe]

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError(f"timeframe amount must be >= 1, got {self.amount}")
        if self.unit is TimeUnit.MINUTE and self.amount > 59:
            raise ValueError("minute timeframes go up to 59Min; use Hour above that")
        if self.unit is TimeUnit.HOUR and self.amount > 23:
            raise ValueError("hour timeframes go up to 23Hour; use Day above that")
        if self.unit in (TimeUnit.DAY, TimeUnit.WEEK) and self.amount != 1:
            raise ValueError(f"only 1{self.unit.value} is supported")
        if self.unit is TimeUnit.MONTH and self.amount not in (1, 2, 3, 4, 6, 12):
            raise ValueError("month timeframes are 1, 2, 3, 4, 6 or 12 Month")

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Parse ``1Min``, ``5Min``, ``1Hour``, ``1Day`` (also ``5T``, ``1H``, ``1D``)."""
        if isinstance(text, Timeframe):
            return text
        match = _PATTERN.match(text.strip())
        if match is None:
            raise ValueError(
                f"unknown timeframe {text!r}: "
                "use e.g. 1Min, 5Min, 15Min, 1Hour, 1Day, 1Week, 1Month"
            )
        unit_text = match.group(2)
        # "M" alone is month (Alpaca); "Min" is minute.
        unit = _ALIASES[unit_text.lower()] if unit_text != "M" else TimeUnit.MONTH
        return cls(int(match.group(1)), unit)

    @property
    def is_intraday(self) -> bool:
        return self.unit in (TimeUnit.MINUTE, TimeUnit.HOUR)

    @property
    def seconds(self) -> int:
        """Length in seconds; months have no fixed length and raise ``ValueError``."""
        if self.unit is TimeUnit.MONTH:
            raise ValueError("a month has no fixed length in seconds")
        return self.amount * _UNIT_SECONDS[self.unit]

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


Timeframe.MINUTE = Timeframe(1, TimeUnit.MINUTE)
Timeframe.MINUTE_5 = Timeframe(5, TimeUnit.MINUTE)
Timeframe.MINUTE_15 = Timeframe(15, TimeUnit.MINUTE)
Timeframe.MINUTE_30 = Timeframe(30, TimeUnit.MINUTE)
Timeframe.HOUR = Timeframe(1, TimeUnit.HOUR)
Timeframe.DAY = Timeframe(1, TimeUnit.DAY)
Timeframe.WEEK = Timeframe(1, TimeUnit.WEEK)
Timeframe.MONTH = Timeframe(1, TimeUnit.MONTH)
