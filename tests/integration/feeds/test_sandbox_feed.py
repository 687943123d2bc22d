"""`AlpacaFeed` against a real sandbox through the real alpaca-py stream clients: data of the
subscribed symbols only, symbols changed at run time, reconnection, the guard, a clean stop."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.feeds.conftest import Recorder, Sandbox, until
from tests.integration.sandbox.conftest import KEY, SECRET, make_config

from stockyard.core import Bar, Quote, Trade
from stockyard.data.feeds import AlpacaFeed
from stockyard.sandbox import SandboxServer, StreamLimits

BOTH = frozenset({"AAPL", "BTC/USD"})


async def _drained(feed: AlpacaFeed, sandbox: Sandbox) -> None:
    """Wait until every message the sandbox wrote has passed the feed's guard."""
    counts = feed.guard.counts

    def received() -> int:
        dropped = counts.duplicate + counts.out_of_order + counts.malformed + counts.unsubscribed
        return counts.accepted + dropped

    await until(lambda: received() == sandbox.delivered, what="every delivered message")


def _stamps(messages: list[object]) -> list[object]:
    return [m.timestamp for m in messages]  # type: ignore[attr-defined]


def test_the_feed_publishes_trades_quotes_and_bars_of_its_stocks_and_crypto(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    async def scenario() -> AlpacaFeed:
        feed = sandbox.feed(recorder.bus, ["AAPL", "btc/usd"])
        await feed.start()
        try:
            await until(lambda: feed.acknowledged == BOTH, what="both subscriptions")
            assert sandbox.connections == 2  # one stock and one crypto connection
            await sandbox.advance_async(180)
            await _drained(feed, sandbox)
        finally:
            await feed.stop()
        await until(lambda: sandbox.connections == 0, what="the connections to close")
        assert asyncio.all_tasks() == {asyncio.current_task()}  # nothing left running
        return feed

    feed = asyncio.run(scenario())
    stats = feed.stats()
    assert recorder.topics() == {
        f"md.{kind}.{symbol}" for kind in ("trade", "quote", "bar") for symbol in BOTH
    }
    assert stats["published"] == len(recorder.seen) == sandbox.delivered > 0
    for symbol in BOTH:
        bars = recorder.of(f"md.bar.{symbol}")
        trades = recorder.of(f"md.trade.{symbol}")
        quotes = recorder.of(f"md.quote.{symbol}")
        assert len(bars) == 3  # three closed minutes
        assert all(type(b) is Bar and b.low <= b.close <= b.high for b in bars)
        assert all(type(t) is Trade and t.price > 0 and t.id is not None for t in trades)
        assert all(type(q) is Quote and q.bid_price <= q.ask_price for q in quotes)
        for series in (bars, trades, quotes):
            assert _stamps(series) == sorted(_stamps(series))
    assert stats["malformed"] == stats["duplicate"] == stats["out_of_order"] == 0
    assert stats["errors"] == 0
    assert stats["running"] is False


def test_symbols_added_and_removed_at_run_time_leave_the_others_flowing(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    async def scenario() -> AlpacaFeed:
        feed = sandbox.feed(recorder.bus, ["AAPL"])
        await feed.start()
        try:
            await until(lambda: feed.acknowledged == {"AAPL"}, what="the first subscription")
            await sandbox.advance_async(60)
            await _drained(feed, sandbox)

            feed.add_symbols(["MSFT", "BTC/USD"])
            wanted = {"AAPL", "MSFT", "BTC/USD"}
            await until(lambda: feed.acknowledged == wanted, what="the added symbols")
            await sandbox.advance_async(120)
            await _drained(feed, sandbox)
            assert len(recorder.of("md.bar.AAPL")) == 3  # AAPL never stopped
            assert len(recorder.of("md.bar.MSFT")) == len(recorder.of("md.bar.BTC/USD")) == 2
            assert (feed.connects, feed.reconnects) == (2, 0)  # the stock stream was kept

            with pytest.raises(ValueError, match="not a symbol"):
                feed.remove_symbols(["MSFT", ""])
            assert feed.symbols == wanted  # bad input changed nothing

            feed.remove_symbols(["AAPL", "BTC/USD"])
            await until(
                lambda: feed.acknowledged == {"MSFT"} and sandbox.connections == 1,
                what="the removals (and the emptied crypto stream closed)",
            )
            mark = len(recorder.seen)
            await sandbox.advance_async(120)
            await _drained(feed, sandbox)
            after = {topic for topic, _ in recorder.seen[mark:]}
            assert after == {"md.trade.MSFT", "md.quote.MSFT", "md.bar.MSFT"}

            feed.add_symbols(["ETH/USD"])  # a crypto stream again, on a new connection
            await until(lambda: feed.acknowledged == {"MSFT", "ETH/USD"}, what="ETH/USD")
            await sandbox.advance_async(60)
            await _drained(feed, sandbox)
            assert len(recorder.of("md.bar.ETH/USD")) == 1
        finally:
            await feed.stop()
        return feed

    feed = asyncio.run(scenario())
    assert feed.guard.counts.unsubscribed == 0  # the venue honoured every unsubscribe
    assert feed.published == len(recorder.seen)
    assert feed.reconnects == 0
    assert feed.errors == 0


def test_an_injected_disconnect_is_followed_by_a_reconnect_and_counted(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    async def scenario() -> dict[str, object]:
        feed = sandbox.feed(recorder.bus, ["AAPL", "BTC/USD"])
        await feed.start()
        try:
            await until(lambda: feed.acknowledged == BOTH, what="both subscriptions")
            await sandbox.advance_async(60)
            await _drained(feed, sandbox)
            before = feed.published

            reply = await asyncio.to_thread(sandbox.http.post, "/sandbox/disconnect")
            assert reply.json() == {"closed": 2}
            await until(
                lambda: feed.reconnects == 2 and feed.acknowledged == BOTH,
                what="both streams back and subscribed",
            )
            await sandbox.advance_async(120)
            await _drained(feed, sandbox)
            assert feed.published > before
            assert len(recorder.of("md.bar.AAPL")) == len(recorder.of("md.bar.BTC/USD")) == 3
            return feed.stats()
        finally:
            await feed.stop()

    stats = asyncio.run(scenario())
    assert stats["connects"] == 4
    assert stats["reconnects"] == 2
    assert stats["published"] == len(recorder.seen) == sandbox.delivered
    assert stats["malformed"] == stats["duplicate"] == stats["out_of_order"] == 0
    assert stats["errors"] == 0
    assert stats["failure"] is None


def test_duplicated_and_swapped_messages_are_counted_and_dropped_and_the_feed_goes_on(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    lossy = {"seed": 7, "md_duplicate_rate": 0.2, "md_reorder_rate": 0.3, "md_drop_rate": 0.1}

    async def scenario() -> AlpacaFeed:
        feed = sandbox.feed(recorder.bus, ["AAPL", "MSFT", "BTC/USD"])
        await feed.start()
        try:
            wanted = {"AAPL", "MSFT", "BTC/USD"}
            await until(lambda: feed.acknowledged == wanted, what="the subscriptions")
            reply = await asyncio.to_thread(sandbox.http.post, "/sandbox/faults", json=lossy)
            assert reply.status_code == 200
            await sandbox.advance_async(600)
            await _drained(feed, sandbox)
            assert feed.running
        finally:
            await feed.stop()
        return feed

    feed = asyncio.run(scenario())
    counts = feed.guard.counts
    assert counts.duplicate > 0
    assert counts.out_of_order > 0
    assert counts.accepted + counts.duplicate + counts.out_of_order == sandbox.delivered
    assert feed.published == counts.accepted == len(recorder.seen)
    for topic in recorder.topics():  # what got through is in order, once
        stamps = _stamps(recorder.of(topic))
        if topic.startswith("md.bar."):
            assert stamps == sorted(set(stamps))  # type: ignore[type-var]
        else:
            assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert feed.errors == 0


def test_a_silent_feed_goes_stale_and_reconnects(sandbox: Sandbox, recorder: Recorder) -> None:
    async def scenario() -> AlpacaFeed:
        feed = sandbox.feed(recorder.bus, ["AAPL"], stale_after=0.3)
        await feed.start()
        try:
            await until(lambda: feed.acknowledged == {"AAPL"}, what="the subscription")
            # The sandbox is paused: nothing arrives, so the watchdog drops the connection.
            await until(
                lambda: feed.reconnects >= 1 and feed.acknowledged == {"AAPL"},
                what="a reconnect after the silence",
            )
        finally:
            await feed.stop()
        return feed

    feed = asyncio.run(scenario())
    assert feed.staleness is not None
    assert feed.staleness.stale_count >= 1
    assert feed.errors == 0


def test_rejected_credentials_end_the_feed_with_a_clear_failure(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    async def scenario() -> AlpacaFeed:
        feed = sandbox.feed(recorder.bus, ["AAPL", "BTC/USD"], secret="wrong")
        await feed.start()
        await asyncio.wait_for(feed.finished.wait(), 10)
        await feed.stop()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return feed

    feed = asyncio.run(scenario())
    assert feed.failure is not None
    assert "refused the credentials (auth failed)" in feed.failure
    assert feed.errors == 1
    assert not feed.running
    assert feed.published == 0
    assert sandbox.connections == 0


def test_sip_without_the_subscription_ends_the_feed_saying_so(recorder: Recorder) -> None:
    config = make_config(limits=StreamLimits(sip=False))
    with SandboxServer(config) as server:

        async def scenario() -> AlpacaFeed:
            feed = AlpacaFeed(
                bus=recorder.bus,
                key_id=KEY,
                secret_key=SECRET,
                stream_url=server.stream_url,
                stock_feed="sip",
                symbols=["AAPL"],
            )
            await feed.start()
            await asyncio.wait_for(feed.finished.wait(), 10)
            await feed.stop()
            return feed

        feed = asyncio.run(scenario())
    assert feed.failure == (
        "the stocks stream needs a data subscription (insufficient subscription)"
    )
    assert feed.errors == 1
