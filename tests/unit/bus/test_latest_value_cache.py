from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from stockyard.bus import InProcessBus, LatestValueCache
from stockyard.core import Bar, Quote, Trade

WHEN = datetime(2024, 1, 2, 15, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_keeps_the_last_value_of_each_kind_per_symbol() -> None:
    bus = InProcessBus(registry=CollectorRegistry())
    cache = LatestValueCache(ttl=10.0, clock=FakeClock(), registry=CollectorRegistry())
    cache.attach(bus)
    bus.publish("md.trade.AAPL", Trade("AAPL", WHEN, 1.0, 1.0))
    bus.publish("md.trade.AAPL", Trade("AAPL", WHEN, 2.0, 1.0))
    bus.publish("md.quote.AAPL", Quote("AAPL", WHEN, 1.0, 1.0, 1.1, 1.0))
    bus.publish("md.bar.MSFT", Bar("MSFT", WHEN, 1.0, 1.0, 1.0, 1.0, 5.0))
    bus.publish("exec.fill", {"ignored": True})
    trade = cache.last_trade("AAPL")
    assert trade is not None
    assert trade.price == 2.0
    assert cache.last_quote("AAPL") is not None
    assert cache.last_bar("MSFT") is not None
    assert cache.last_bar("AAPL") is None
    assert cache.symbols() == ["AAPL", "MSFT"]
    assert (cache.hits, cache.misses) == (3, 1)


def test_a_value_older_than_the_ttl_reads_as_a_miss() -> None:
    clock = FakeClock()
    cache = LatestValueCache(ttl=5.0, clock=clock, registry=CollectorRegistry())
    cache.on_message("md.trade.AAPL", Trade("AAPL", WHEN, 1.0, 1.0))
    clock.now += 5.0
    assert cache.last_trade("AAPL") is not None
    clock.now += 0.001
    assert cache.last_trade("AAPL") is None
    assert cache.stats() == {
        "hits": 1,
        "misses": 1,
        "hit_rate": 0.5,
        "updates": 1,
        "symbols": 1,
        "ttl_s": 5.0,
    }
