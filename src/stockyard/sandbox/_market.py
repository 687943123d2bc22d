"""What the market looks like at the replay clock: latest trade, quote and bars per symbol.

Replayed events pass through ``record``, which keeps the latest values, rolls the day's
bar, and returns the stream messages to fan out. Historical bars come from the source,
never past the clock: a bar is served only once it has closed.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from stockyard.core import Bar, Quote, Timeframe, Trade, table_to_bars, to_ns
from stockyard.data import HistoricalSource
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._md_wire import Message, bar_message, bar_rest, quote_message, trade_message
from stockyard.sandbox._replay import MarketEvent

__all__ = ["BarPage", "MarketState", "SymbolState"]

_NEW_YORK = ZoneInfo("America/New_York")
MAX_PAGE = 10_000


@dataclass(slots=True)
class SymbolState:
    """The latest values of one symbol."""

    trade: Trade | None = None
    trade_id: int = 0
    quote: Quote | None = None
    minute_bar: Bar | None = None
    daily_bar: Bar | None = None
    previous_daily_bar: Bar | None = None


@dataclass(frozen=True, slots=True)
class BarPage:
    """One page of ``/bars``: rows per symbol, and the token of the next page."""

    bars: dict[str, list[Message]] = field(default_factory=dict)
    next_page_token: str | None = None


def _day_stamp(bar: Bar) -> datetime:
    """Alpaca stamps a daily bar at midnight New York time (crypto: midnight UTC)."""
    if "/" in bar.symbol:
        return bar.timestamp.replace(hour=0, minute=0, second=0, microsecond=0)
    local = bar.timestamp.astimezone(_NEW_YORK).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _roll(daily: Bar | None, bar: Bar, stamp: datetime) -> Bar:
    if daily is None or daily.timestamp != stamp:
        return replace(bar, timestamp=stamp, timeframe=Timeframe.DAY)
    volume = daily.volume + bar.volume
    vwap = None
    if daily.vwap is not None and bar.vwap is not None and volume > 0:
        vwap = (daily.vwap * daily.volume + bar.vwap * bar.volume) / volume
    return Bar(
        bar.symbol,
        stamp,
        daily.open,
        max(daily.high, bar.high),
        min(daily.low, bar.low),
        bar.close,
        volume,
        (daily.trade_count or 0) + (bar.trade_count or 0),
        vwap,
        Timeframe.DAY,
    )


class MarketState:
    """Latest values per symbol, fed by the replay; historical bars from ``source``."""

    def __init__(self, source: HistoricalSource, *, clock: Callable[[], datetime]) -> None:
        self._source = source
        self._clock = clock
        self._lock = threading.Lock()
        self._symbols: dict[str, SymbolState] = {}

    @property
    def source(self) -> HistoricalSource:
        return self._source

    def state(self, symbol: str) -> SymbolState | None:
        with self._lock:
            return self._symbols.get(symbol)

    def reset(self) -> None:
        with self._lock:
            self._symbols.clear()

    def record(self, event: MarketEvent) -> list[Message]:
        """Keep ``event`` as the latest value; the stream messages it makes."""
        value = event.value
        with self._lock:
            state = self._symbols.setdefault(value.symbol, SymbolState())
            if isinstance(value, Trade):
                state.trade, state.trade_id = value, event.trade_id
                return [trade_message(value, trade_id=event.trade_id)]
            if isinstance(value, Quote):
                state.quote = value
                return [quote_message(value)]
            state.minute_bar = value
            stamp = _day_stamp(value)
            daily = state.daily_bar
            if daily is not None and daily.timestamp != stamp:
                state.previous_daily_bar = daily
            state.daily_bar = _roll(daily, value, stamp)
            return [bar_message(value), bar_message(state.daily_bar, kind="d")]

    def bars(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe,
        *,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        page_token: str | None,
        descending: bool = False,
    ) -> BarPage:
        """Closed bars with ``start <= t < end``, ``limit`` rows over all symbols, by
        symbol then time, from ``page_token`` on."""
        now = self._clock()
        newest_open = now - timeframe.delta + timedelta(microseconds=1)
        lo = start if start is not None else now.replace(hour=0, minute=0, second=0, microsecond=0)
        hi = min(end, newest_open) if end is not None else newest_open
        if hi <= lo:
            return BarPage({s: [] for s in symbols})
        after = _decode_token(page_token) if page_token else None
        tables = self._source.get_bars(sorted(set(symbols)), timeframe, lo, hi)
        out: dict[str, list[Message]] = {}
        taken, last = 0, ("", 0)
        for symbol in sorted(tables):
            if after is not None and symbol < after[0]:
                continue
            rows = table_to_bars(tables[symbol], symbol=symbol, timeframe=timeframe)
            if descending:
                rows.reverse()
            for bar in rows:
                ns = to_ns(bar.timestamp)
                seen = after is not None and symbol == after[0]
                if seen and ((ns >= after[1]) if descending else (ns <= after[1])):  # type: ignore[index]
                    continue
                if taken == limit:
                    return BarPage(out, _encode_token(*last))
                out.setdefault(symbol, []).append(bar_rest(bar))
                last, taken = (symbol, ns), taken + 1
        return BarPage(out)


def _encode_token(symbol: str, ns: int) -> str:
    return base64.urlsafe_b64encode(f"{symbol}|{ns}".encode()).decode()


def _decode_token(token: str) -> tuple[str, int]:
    try:
        symbol, ns = base64.urlsafe_b64decode(token.encode()).decode().rsplit("|", 1)
        return symbol, int(ns)
    except (ValueError, UnicodeDecodeError):
        raise SandboxHTTPError(400, f"invalid page_token {token!r}") from None
