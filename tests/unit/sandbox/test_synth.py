from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stockyard.core import Bar, Quote, Trade
from stockyard.sandbox import SynthesisConfig, synthesise

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def _bar(symbol: str = "AAPL", *, o: float = 100, c: float = 101, volume: float = 1000) -> Bar:
    return Bar(symbol, T0, o, max(o, c) + 0.5, min(o, c) - 0.5, c, volume)


def _ticks(bar: Bar, seed: int = 0) -> list[Quote | Trade]:
    stamp = int(bar.timestamp.timestamp()) * 10**9
    return [t.value for t in synthesise(bar, config=SynthesisConfig(seed=seed), stamp_ns=stamp)]


def test_the_same_bar_and_seed_always_give_the_same_ticks() -> None:
    assert _ticks(_bar()) == _ticks(_bar())
    assert _ticks(_bar(), seed=1) != _ticks(_bar(), seed=0)


def test_trades_walk_open_low_high_close_on_an_up_bar_and_split_the_volume() -> None:
    bar = _bar(o=100, c=101)
    trades = [t for t in _ticks(bar) if isinstance(t, Trade)]
    assert [t.price for t in trades] == [bar.open, bar.low, bar.high, bar.close]
    assert sum(t.size for t in trades) == bar.volume
    assert all(t.size == int(t.size) for t in trades)


def test_a_down_bar_visits_the_high_before_the_low() -> None:
    bar = _bar(o=101, c=100)
    prices = [t.price for t in _ticks(bar) if isinstance(t, Trade)]
    assert prices == [bar.open, bar.high, bar.low, bar.close]


def test_ticks_lie_inside_the_bar_in_time_order_and_quotes_are_never_crossed() -> None:
    ticks = _ticks(_bar())
    stamps = [t.timestamp for t in ticks]
    assert stamps == sorted(stamps)
    assert all(T0 <= s < T0 + timedelta(minutes=1) for s in stamps)
    for quote in (t for t in ticks if isinstance(t, Quote)):
        assert 0 < quote.bid_price < quote.ask_price
        assert quote.ask_price - quote.bid_price >= 0.01 - 1e-9


def test_crypto_volume_is_split_exactly_in_fractions() -> None:
    trades = [t for t in _ticks(_bar("BTC/USD", volume=0.75)) if isinstance(t, Trade)]
    assert abs(sum(t.size for t in trades) - 0.75) < 1e-8


def test_a_bar_without_volume_gives_quotes_only() -> None:
    ticks = _ticks(_bar(volume=0))
    assert ticks
    assert all(isinstance(t, Quote) for t in ticks)
