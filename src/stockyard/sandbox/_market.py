"""What the market looks like at the replay clock: latest trade, quote and bars per symbol.

Replayed events pass through ``record``, which keeps the latest values, rolls the day's
bar, and returns the stream messages to fan out. Historical bars come from the source,
never past the clock: a bar is served only once it has closed.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from stockyard.core import Bar, Quote, Timeframe, Trade, table_to_bars, to_ns
from stockyard.data import HistoricalSource
from stockyard.sandbox._errors import SandboxHTTPError
from stockyard.sandbox._md_wire import (
    Message,
    bar_message,
    bar_rest,
    quote_message,
    quote_rest,
    trade_message,
    trade_rest,
)
from stockyard.sandbox._reference import CorporateAction
from stockyard.sandbox._replay import MarketEvent
from stockyard.sandbox._synth import SynthesisConfig, synthesise

__all__ = ["ADJUSTMENTS", "BarPage", "MarketState", "SymbolState"]

ADJUSTMENTS = ("raw", "split", "dividend", "all")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # the calendar's first year; nothing before
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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

    def __init__(
        self,
        source: HistoricalSource,
        *,
        clock: Callable[[], datetime],
        synthesis: SynthesisConfig | None = None,
        actions: Sequence[CorporateAction] = (),
    ) -> None:
        self._source = source
        self._clock = clock
        self._synthesis = synthesis or SynthesisConfig()
        self._actions = tuple(actions)
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
        adjustment: str = "raw",
    ) -> BarPage:
        """Closed bars with ``start <= t < end``, ``limit`` rows over all symbols, by
        symbol then time, from ``page_token`` on; prices and volumes adjusted for the
        splits and/or dividends that went ex by the clock (``adjustment``)."""
        now = self._clock()
        newest_open = now - timeframe.delta + timedelta(microseconds=1)
        lo = start if start is not None else now.replace(hour=0, minute=0, second=0, microsecond=0)
        lo = max(lo, EARLIEST)
        hi = min(end, newest_open) if end is not None else newest_open
        if hi <= lo:
            return BarPage({s: [] for s in symbols})
        after = _decode_token(page_token) if page_token else None
        span = max(timeframe.delta * 5000, timedelta(days=3))
        out: dict[str, list[Message]] = {}
        taken, last = 0, ("", 0)
        for symbol in sorted(set(symbols)):
            if after is not None and symbol < after[0]:
                continue
            resume = after[1] if after is not None and symbol == after[0] else None
            for a, b in _windows(lo, hi, span, descending=descending, resume_ns=resume):
                table = self._source.get_bars([symbol], timeframe, a, b).get(symbol)
                rows = (
                    table_to_bars(table, symbol=symbol, timeframe=timeframe)
                    if table is not None
                    else []
                )
                if adjustment != "raw":
                    rows = self._adjust(symbol, rows, adjustment, today=now.date())
                if descending:
                    rows.reverse()
                for bar in rows:
                    ns = to_ns(bar.timestamp)
                    if resume is not None and ((ns >= resume) if descending else (ns <= resume)):
                        continue
                    if taken == limit:
                        return BarPage(out, _encode_token(*last))
                    out.setdefault(symbol, []).append(bar_rest(bar))
                    last, taken = (symbol, ns), taken + 1
        return BarPage(out)

    def _adjust(self, symbol: str, rows: list[Bar], adjustment: str, *, today: date) -> list[Bar]:
        """Bars before each ex date scaled as Alpaca adjusts them: splits by
        ``old_rate / new_rate`` (volume inversely), dividends by ``1 - cash / prior close``."""
        wanted = {
            "split": ("forward_split", "reverse_split"),
            "dividend": ("cash_dividend",),
            "all": ("forward_split", "reverse_split", "cash_dividend"),
        }[adjustment]
        out = rows
        for action in self._actions:
            if action.symbol != symbol or action.type not in wanted or action.ex_date > today:
                continue
            if action.is_split:
                price, volume = action.old_rate / action.new_rate, action.new_rate / action.old_rate
            else:
                prior = self._prior_close(symbol, action.ex_date)
                if prior is None or prior <= 0:
                    continue
                price, volume = 1 - action.rate / prior, Decimal(1)
            out = [_scaled(b, float(price), float(volume)) if _ny_date(b) < action.ex_date else b
                   for b in out]  # fmt: skip
        return out

    def _prior_close(self, symbol: str, ex_date: date) -> Decimal | None:
        end = datetime(ex_date.year, ex_date.month, ex_date.day, tzinfo=UTC)
        table = self._source.get_bars([symbol], Timeframe.DAY, end - timedelta(days=10), end)
        daily = (
            table_to_bars(table[symbol], symbol=symbol, timeframe=Timeframe.DAY)
            if symbol in table
            else []
        )
        return Decimal(str(daily[-1].close)) if daily else None

    def ticks(
        self,
        symbols: Sequence[str],
        kind: str,
        *,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        page_token: str | None,
        descending: bool = False,
    ) -> BarPage:
        """Historical ``quotes`` or ``trades``: the ticks the replay makes of each minute
        bar (the same, tick for tick), none past the clock; paged like ``bars``."""
        now = self._clock()
        lo = start if start is not None else now.replace(hour=0, minute=0, second=0, microsecond=0)
        lo = max(lo, EARLIEST)
        hi = (
            min(end, now + timedelta(microseconds=1))
            if end is not None
            else now + timedelta(microseconds=1)
        )
        if hi <= lo:
            return BarPage({s: [] for s in symbols})
        after = _decode_token(page_token) if page_token else None
        out: dict[str, list[Message]] = {}
        taken, last = 0, ("", 0)
        lo_ns, hi_ns = to_ns(lo), to_ns(hi)
        minute = Timeframe.MINUTE.delta
        for symbol in sorted(set(symbols)):
            if after is not None and symbol < after[0]:
                continue
            resume = after[1] if after is not None and symbol == after[0] else None
            for a, b in _windows(
                lo, hi, timedelta(days=1), descending=descending, resume_ns=resume
            ):
                table = self._source.get_bars([symbol], Timeframe.MINUTE, a - minute, b).get(symbol)
                window = (max(lo_ns, to_ns(a)), min(hi_ns, to_ns(b)))
                rows = self._tick_rows(table, symbol, kind, *window) if table is not None else []
                if descending:
                    rows.reverse()
                for ns, row in rows:
                    if resume is not None and ((ns >= resume) if descending else (ns <= resume)):
                        continue
                    if taken == limit:
                        return BarPage(out, _encode_token(*last))
                    out.setdefault(symbol, []).append(row)
                    last, taken = (symbol, ns), taken + 1
        return BarPage(out)

    def _tick_rows(
        self, table: object, symbol: str, kind: str, lo_ns: int, hi_ns: int
    ) -> list[tuple[int, Message]]:
        rows: list[tuple[int, Message]] = []
        for bar in table_to_bars(table, symbol=symbol, timeframe=Timeframe.MINUTE):  # type: ignore[arg-type]
            for tick in synthesise(bar, config=self._synthesis, stamp_ns=to_ns(bar.timestamp)):
                value = tick.value
                ns = to_ns(value.timestamp)
                if not lo_ns <= ns < hi_ns:
                    continue
                if kind == "trades" and isinstance(value, Trade):
                    rows.append((ns, trade_rest(value, trade_id=tick.trade_id)))
                elif kind == "quotes" and isinstance(value, Quote):
                    rows.append((ns, quote_rest(value)))
        return rows

    def symbols_seen(self) -> list[str]:
        with self._lock:
            return sorted(self._symbols)


def _windows(
    lo: datetime, hi: datetime, span: timedelta, *, descending: bool, resume_ns: int | None
) -> Iterator[tuple[datetime, datetime]]:
    """``[lo, hi)`` in spans, oldest first (newest first when ``descending``), starting
    where a page token left off: the source is read a window at a time, not all at once."""
    if resume_ns is not None:
        at = _EPOCH + timedelta(microseconds=resume_ns // 1000)
        lo, hi = (lo, min(hi, at + timedelta(microseconds=1))) if descending else (max(lo, at), hi)
    if descending:
        b = hi
        while b > lo:
            yield max(lo, b - span), b
            b -= span
    else:
        a = lo
        while a < hi:
            yield a, min(hi, a + span)
            a += span


def _ny_date(bar: Bar) -> date:
    return bar.timestamp.astimezone(_NEW_YORK).date()


def _scaled(bar: Bar, price: float, volume: float) -> Bar:
    return replace(
        bar,
        open=round(bar.open * price, 4),
        high=round(bar.high * price, 4),
        low=round(bar.low * price, 4),
        close=round(bar.close * price, 4),
        volume=round(bar.volume * volume, 4),
        vwap=round(bar.vwap * price, 4) if bar.vwap is not None else None,
    )


def _encode_token(symbol: str, ns: int) -> str:
    return base64.urlsafe_b64encode(f"{symbol}|{ns}".encode()).decode()


def _decode_token(token: str) -> tuple[str, int]:
    try:
        symbol, ns = base64.urlsafe_b64decode(token.encode()).decode().rsplit("|", 1)
        return symbol, int(ns)
    except (ValueError, UnicodeDecodeError):
        raise SandboxHTTPError(400, f"invalid page_token {token!r}") from None
