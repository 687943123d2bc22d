"""Gap detection: a missing minute bar inside a trading session is back-filled from the
historical source before the bar that revealed the gap is published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from stockyard.core import AssetClass, Bar, Timeframe, table_to_bars, to_ns
from stockyard.data._calendar import nyse_sessions
from stockyard.data._source import HistoricalSource
from stockyard.obs import get_logger

__all__ = ["GapFiller", "same_session"]

_MINUTE = timedelta(minutes=1)


def same_session(symbol: str, first: datetime, second: datetime) -> bool:
    """True when both times fall in one trading session: always for crypto (24/7); for
    stocks, the same NYSE session (so overnight and weekend gaps are not gaps)."""
    if AssetClass.of_symbol(symbol) is AssetClass.CRYPTO:
        return True
    ns = np.array([to_ns(first), to_ns(second)], dtype=np.int64)
    where = nyse_sessions().locate(ns)
    return bool(where[0] >= 0 and where[0] == where[1])


class GapFiller:
    """Remembers each symbol's last minute bar; `fill` returns the bars missing before the
    next one. The source call is synchronous: gaps are rare, and back-filled bars must be
    published before the bar that revealed them, so the feed waits for them."""

    def __init__(
        self,
        source: HistoricalSource,
        *,
        in_session: Callable[[str, datetime, datetime], bool] = same_session,
        feed: str = "feed",
    ) -> None:
        self._source = source
        self._in_session = in_session
        self._feed = feed
        self._last: dict[str, datetime] = {}
        self.gaps = 0
        self.backfilled = 0
        self.failures = 0

    def fill(self, bar: Bar) -> list[Bar]:
        """Bars strictly between the symbol's previous minute bar and ``bar`` (often [])."""
        if bar.timeframe != Timeframe.MINUTE:
            return []
        prev = self._last.get(bar.symbol)
        self._last[bar.symbol] = bar.timestamp
        if prev is None or bar.timestamp - prev <= _MINUTE:
            return []
        if not self._in_session(bar.symbol, prev, bar.timestamp):
            return []
        self.gaps += 1
        try:
            tables = self._source.get_bars(
                [bar.symbol], Timeframe.MINUTE, prev + _MINUTE, bar.timestamp
            )
            table = tables.get(bar.symbol)
            found = (
                []
                if table is None
                else table_to_bars(table, symbol=bar.symbol, timeframe=Timeframe.MINUTE)
            )
        except Exception as exc:  # a failing source must not stop the live feed
            self.failures += 1
            get_logger("data_pipeline").warning(
                "gap_backfill_failed", feed=self._feed, symbol=bar.symbol, error=repr(exc)
            )
            return []
        missing = [b for b in found if prev < b.timestamp < bar.timestamp]
        self.backfilled += len(missing)
        get_logger("data_pipeline").info(
            "gap_backfilled",
            feed=self._feed,
            symbol=bar.symbol,
            start=prev.isoformat(),
            end=bar.timestamp.isoformat(),
            bars=len(missing),
        )
        return missing

    def forget(self, symbol: str) -> None:
        self._last.pop(symbol, None)
