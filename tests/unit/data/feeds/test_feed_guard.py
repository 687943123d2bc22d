from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stockyard.core import Bar, Quote, Trade
from stockyard.data.feeds import BaseFeed

T0 = datetime(2024, 1, 2, 15, tzinfo=UTC)


def bar(minute: int, symbol: str = "AAPL") -> Bar:
    return Bar(symbol, T0 + timedelta(minutes=minute), 1.0, 1.0, 1.0, 1.0, 1.0)


def parse_trade(raw: object) -> Trade:
    data = dict(raw)  # type: ignore[call-overload]
    return Trade(
        data["S"],
        datetime.fromisoformat(data["t"]),
        float(data["p"]),
        float(data["s"]),
        data.get("i"),
    )


def test_malformed_duplicate_and_out_of_order_messages_are_counted_and_dropped(
    recorder: Any,
) -> None:
    feed = BaseFeed(bus=recorder.bus, name="test", symbols=["AAPL"])
    good = {"S": "AAPL", "t": T0.isoformat(), "p": 1.0, "s": 5, "i": 1}
    assert feed.ingest(good, parse_trade)
    assert not feed.ingest(good, parse_trade)  # same trade id, same time: duplicate
    assert feed.ingest({**good, "i": 2}, parse_trade)  # same time, new id: a busy tape
    assert not feed.ingest({**good, "t": (T0 - timedelta(seconds=1)).isoformat()}, parse_trade)
    assert not feed.ingest({**good, "p": float("nan")}, parse_trade)  # fails validation
    assert not feed.ingest({"S": "AAPL"}, parse_trade)  # missing fields
    assert not feed.ingest("garbage", parse_trade)
    assert not feed.emit("not market data")
    assert feed.emit(bar(0))
    assert not feed.emit(bar(0))  # same bar start
    assert feed.emit(bar(1))
    assert not feed.emit(bar(0))  # went back in time
    q = Quote("AAPL", T0, 1.0, 1.0, 1.1, 1.0)
    assert feed.emit(q)
    assert not feed.emit(q)
    stats = feed.stats()
    assert (stats["accepted"], stats["published"]) == (5, 5)
    assert stats["malformed"] == 4
    assert stats["duplicate"] == 3
    assert stats["out_of_order"] == 2
    assert len(recorder.seen) == 5


def test_symbols_added_and_removed_at_run_time_leave_the_others_flowing(
    recorder: Any,
) -> None:
    feed = BaseFeed(bus=recorder.bus, name="test", symbols=["AAPL"])
    assert not feed.emit(bar(0, "MSFT"))
    feed.add_symbols(["MSFT"])
    assert feed.emit(bar(1, "MSFT"))
    feed.remove_symbols(["AAPL"])
    assert not feed.emit(bar(2, "AAPL"))
    assert feed.emit(bar(2, "MSFT"))
    assert feed.symbols == frozenset({"MSFT"})
    assert feed.stats()["unsubscribed"] == 2
    assert [t for t, _ in recorder.seen] == ["md.bar.MSFT", "md.bar.MSFT"]
