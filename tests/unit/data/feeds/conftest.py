"""A small in-memory `HistoricalSource` and a recording bus for the feed tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus
from stockyard.core import Bar, Timeframe, bars_to_table
from stockyard.data import BarTables


class MemorySource:
    """Bars held in a dict; counts its calls so tests can see back-fills happen."""

    name = "memory"

    def __init__(self, bars: Sequence[Bar]) -> None:
        self.bars = list(bars)
        self.calls: list[tuple[tuple[str, ...], datetime, datetime]] = []

    def get_bars(
        self, symbols: Sequence[str], timeframe: Timeframe, start: datetime, end: datetime
    ) -> BarTables:
        self.calls.append((tuple(symbols), start, end))
        out = {}
        for symbol in symbols:
            rows = [b for b in self.bars if b.symbol == symbol and start <= b.timestamp < end]
            if rows:
                out[symbol] = bars_to_table(sorted(rows, key=lambda b: b.timestamp))
        return out


class Recorder:
    def __init__(self) -> None:
        self.bus = InProcessBus(registry=CollectorRegistry())
        self.seen: list[tuple[str, object]] = []
        self.bus.subscribe(">", lambda t, m: self.seen.append((t, m)))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def memory_source() -> type[MemorySource]:
    return MemorySource
