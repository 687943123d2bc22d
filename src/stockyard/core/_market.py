"""Market-data values: Bar, Quote, Trade. Frozen, slotted, validated where they are made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from stockyard.core._timeframe import Timeframe

__all__ = ["Bar", "Quote", "Trade"]

_INF = float("inf")


def _utc(owner: object, timestamp: datetime) -> None:
    """Check ``timestamp`` is aware; store it converted to UTC on ``owner``."""
    if type(timestamp) is datetime and timestamp.tzinfo is UTC:
        return
    if not isinstance(timestamp, datetime):
        raise ValueError(f"timestamp must be a datetime, got {type(timestamp).__name__}")
    tz = timestamp.tzinfo
    if tz is None or tz.utcoffset(timestamp) is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {timestamp.isoformat()}")
    # Frozen dataclass: the only way to normalise a field in __post_init__.
    object.__setattr__(owner, "timestamp", timestamp.astimezone(UTC))


def _bad(name: str, value: object, rule: str) -> ValueError:
    return ValueError(f"{name} must be {rule}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``timestamp`` is the bar's open time in UTC."""

    symbol: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int | None = None
    vwap: float | None = None
    timeframe: Timeframe = Timeframe.MINUTE

    def __post_init__(self) -> None:
        _utc(self, self.timestamp)
        # `not (0 <= x < inf)` rejects NaN, inf and negatives in one comparison.
        if not 0.0 <= self.open < _INF:
            raise _bad("open", self.open, "a finite price >= 0")
        if not 0.0 <= self.high < _INF:
            raise _bad("high", self.high, "a finite price >= 0")
        if not 0.0 <= self.low < _INF:
            raise _bad("low", self.low, "a finite price >= 0")
        if not 0.0 <= self.close < _INF:
            raise _bad("close", self.close, "a finite price >= 0")
        if not 0.0 <= self.volume < _INF:
            raise _bad("volume", self.volume, "a finite number >= 0")
        if not self.low <= self.open <= self.high:
            raise ValueError(
                f"open must lie within [low, high], got open={self.open} "
                f"low={self.low} high={self.high}"
            )
        if not self.low <= self.close <= self.high:
            raise ValueError(
                f"close must lie within [low, high], got close={self.close} "
                f"low={self.low} high={self.high}"
            )
        if self.trade_count is not None and self.trade_count < 0:
            raise _bad("trade_count", self.trade_count, ">= 0")
        if self.vwap is not None and not 0.0 <= self.vwap < _INF:
            raise _bad("vwap", self.vwap, "a finite price >= 0")
        if not self.symbol:
            raise ValueError("symbol must be a non-empty string")


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book. A price of 0 means that side is empty; a crossed book is invalid."""

    symbol: str
    timestamp: datetime
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float

    def __post_init__(self) -> None:
        _utc(self, self.timestamp)
        if not 0.0 <= self.bid_price < _INF:
            raise _bad("bid_price", self.bid_price, "a finite price >= 0")
        if not 0.0 <= self.ask_price < _INF:
            raise _bad("ask_price", self.ask_price, "a finite price >= 0")
        if not 0.0 <= self.bid_size < _INF:
            raise _bad("bid_size", self.bid_size, "a finite size >= 0")
        if not 0.0 <= self.ask_size < _INF:
            raise _bad("ask_size", self.ask_size, "a finite size >= 0")
        if self.bid_price > self.ask_price > 0.0:
            raise ValueError(
                f"bid_price must be <= ask_price (crossed quote), got "
                f"bid_price={self.bid_price} ask_price={self.ask_price}"
            )
        if not self.symbol:
            raise ValueError("symbol must be a non-empty string")

    @property
    def mid(self) -> float:
        """Midpoint of bid and ask; the non-empty side when one side is empty."""
        if self.bid_price == 0.0 or self.ask_price == 0.0:
            return self.bid_price or self.ask_price
        return (self.bid_price + self.ask_price) / 2.0

    @property
    def spread(self) -> float:
        """Ask minus bid (0 when a side is empty)."""
        if self.bid_price == 0.0 or self.ask_price == 0.0:
            return 0.0
        return self.ask_price - self.bid_price


@dataclass(frozen=True, slots=True)
class Trade:
    """One print on the tape; ``id`` is the venue's trade id when it gives one."""

    symbol: str
    timestamp: datetime
    price: float
    size: float
    id: int | str | None = None

    def __post_init__(self) -> None:
        _utc(self, self.timestamp)
        if not 0.0 <= self.price < _INF:
            raise _bad("price", self.price, "a finite price >= 0")
        if not 0.0 <= self.size < _INF:
            raise _bad("size", self.size, "a finite size >= 0")
        if not self.symbol:
            raise ValueError("symbol must be a non-empty string")
