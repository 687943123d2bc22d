"""Warm-up: recent history fed through the strategies on start, before the first live bar.

A strategy declares how many bars it needs (``Strategy.warmup_bars``: ``slow + 1`` for
``sma_cross``); the node asks the broker's data source (Alpaca's market-data REST, which the
sandbox serves too) for that many completed bars of each symbol before "now" and hands them
to ``StrategyRunner.warm_up``, which refuses every order while it runs. A backtest does not
warm up unless asked: its results stay comparable run to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pyarrow as pa

from stockyard.core import Timeframe, to_ns
from stockyard.data import HistoricalSource
from stockyard.obs import get_logger
from stockyard.strategy import BarRow, Strategy

__all__ = ["fetch_warmup", "warmup_need"]

_log = get_logger("trading")
# Stocks trade 6.5 hours a day (16 in extended hours): when the first window, a few times
# what is needed, comes back short (a night, a weekend), the second looks back this far.
_LONG_LOOKBACK = timedelta(days=5)


def warmup_need(strategies: Sequence[Strategy]) -> dict[str, int]:
    """Bars each symbol needs: the most any strategy trading it declares."""
    need: dict[str, int] = {}
    for strategy in strategies:
        bars = max(int(strategy.warmup_bars), 0)
        for symbol in strategy.symbols:
            need[symbol] = max(need.get(symbol, 0), bars)
    return {s: n for s, n in need.items() if n > 0}


def _rows(table: pa.Table, symbol: str, *, need: int, span_ns: int, now_ns: int) -> list[BarRow]:
    """The last ``need`` bars of ``table`` that were complete at ``now_ns``."""
    if table.num_rows == 0:
        return []
    ns = table.column("timestamp").cast(pa.int64()).to_pylist()
    columns = [table.column(c).to_pylist() for c in ("open", "high", "low", "close", "volume")]
    rows = [
        BarRow(symbol, int(t), float(o), float(h), float(lo), float(c), float(v))
        for t, o, h, lo, c, v in zip(ns, *columns, strict=True)
        if t + span_ns <= now_ns
    ]
    return rows[-need:]


async def fetch_warmup(
    source: HistoricalSource,
    need: dict[str, int],
    *,
    now: datetime,
    timeframe: Timeframe = Timeframe.MINUTE,
) -> list[BarRow]:
    """Up to ``need[symbol]`` completed bars of each symbol before ``now``, in time order
    (symbols interleaved as a feed would deliver them). Blocking reads run in a thread."""
    span = timeframe.delta
    now_ns, span_ns = to_ns(now), span // timedelta(microseconds=1) * 1000
    found: dict[str, list[BarRow]] = {}
    longest = max(need.values(), default=0)
    for lookback in (span * longest * 3, span * longest + _LONG_LOOKBACK):
        wanted = [s for s in sorted(need) if len(found.get(s, ())) < need[s]]
        if not wanted:
            break
        tables = await asyncio.to_thread(source.get_bars, wanted, timeframe, now - lookback, now)
        for symbol in wanted:
            table = tables.get(symbol)
            if table is not None:
                found[symbol] = _rows(
                    table, symbol, need=need[symbol], span_ns=span_ns, now_ns=now_ns
                )
    rows = [row for symbol_rows in found.values() for row in symbol_rows]
    rows.sort(key=lambda r: (r.ts, r.symbol))
    short = {s: len(found.get(s, ())) for s in need if len(found.get(s, ())) < need[s]}
    if short:
        _log.warning("warm-up history is short", need=need, found=short)
    return rows
