from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stockyard.core import Bar
from stockyard.data.feeds import BaseFeed, same_session

T0 = datetime(2024, 1, 2, 15, tzinfo=UTC)  # 10:00 New York, in session


def bar(minute: int, symbol: str = "AAPL") -> Bar:
    price = 100.0 + minute
    return Bar(symbol, T0 + timedelta(minutes=minute), price, price, price, price, 10.0)


def test_a_missing_minute_bar_in_session_is_back_filled_before_the_next(
    recorder: Any, memory_source: Any
) -> None:
    source = memory_source([bar(i) for i in range(6)])
    feed = BaseFeed(bus=recorder.bus, name="test", symbols=["AAPL"], backfill=source)
    for minute in (0, 1, 4, 5):
        assert feed.emit(bar(minute))
    published = [m.timestamp for _, m in recorder.seen]
    assert published == [T0 + timedelta(minutes=i) for i in range(6)]
    assert source.calls == [(("AAPL",), T0 + timedelta(minutes=2), T0 + timedelta(minutes=4))]
    stats = feed.stats()
    assert (stats["gaps"], stats["backfilled"], stats["backfill_failures"]) == (1, 2, 0)


def test_a_gap_out_of_session_is_not_filled_and_a_failing_source_stops_nothing(
    recorder: Any, memory_source: Any
) -> None:
    class Broken:
        name = "broken"

        def get_bars(self, *args: object) -> object:
            raise OSError("disk gone")

    quiet = BaseFeed(
        bus=recorder.bus,
        name="q",
        symbols=["AAPL"],
        backfill=memory_source([]),
        in_session=lambda s, a, b: False,
    )
    quiet.emit(bar(0))
    quiet.emit(bar(9))
    assert quiet.stats()["gaps"] == 0
    broken = BaseFeed(bus=recorder.bus, name="b", symbols=["MSFT"], backfill=Broken())  # type: ignore[arg-type]
    assert broken.emit(bar(0, "MSFT"))
    assert broken.emit(bar(3, "MSFT"))
    assert broken.stats()["backfill_failures"] == 1


def test_sessions_treat_overnight_as_no_gap_for_stocks_but_not_for_crypto() -> None:
    close = datetime(2024, 1, 2, 20, 59, tzinfo=UTC)  # 15:59 New York
    next_open = datetime(2024, 1, 3, 14, 30, tzinfo=UTC)
    assert not same_session("AAPL", close, next_open)
    assert same_session("AAPL", close - timedelta(hours=1), close)
    assert same_session("BTC/USD", close, next_open)
