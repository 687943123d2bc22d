"""Issue 14 item 6: one market-data stream per key. Alpaca refuses a second connection of
a key with 406; a second feed of the same key in one process is refused at once, naming
the feed that holds it, and never connects; a key held by another process ends the feed
with a failure that says so instead of a reconnect loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from tests.integration.feeds.conftest import Recorder, until
from tests.integration.sandbox.conftest import KEY, SECRET, make_config
from websockets.sync.client import connect

from stockyard.data.feeds import AlpacaFeed, stream_holders
from stockyard.sandbox import SandboxServer, StreamLimits


@pytest.fixture
def strict() -> Iterator[SandboxServer]:
    """A sandbox allowing one stream per key and endpoint, as Alpaca does."""
    server = SandboxServer(make_config(limits=StreamLimits(connections_per_key=1))).start()
    try:
        yield server
    finally:
        server.stop()


def _feed(server: SandboxServer, recorder: Recorder, name: str) -> AlpacaFeed:
    return AlpacaFeed(
        bus=recorder.bus,
        key_id=KEY,
        secret_key=SECRET,
        stream_url=server.stream_url,
        symbols=["AAPL"],
        name=name,
        reconnect_backoff_s=0.05,
    )


def test_a_second_feed_of_a_key_in_one_process_is_refused_naming_the_holder(
    strict: SandboxServer, recorder: Recorder
) -> None:
    hub = strict.sandbox.md_hub

    async def scenario() -> tuple[AlpacaFeed, AlpacaFeed]:
        first, second = _feed(strict, recorder, "first"), _feed(strict, recorder, "second")
        await first.start()
        await until(lambda: first.connected == ("stocks",), what="the first feed's stream")
        assert set(stream_holders().values()) == {"first"}
        await second.start()
        await asyncio.wait_for(second.finished.wait(), 10)
        assert hub.connections == 1  # the second never connected
        await first.stop()
        await until(lambda: not stream_holders(), what="the first feed to let go")
        # Once the holder has let go, the same feed of the same key connects: the refusal
        # was the holder's, nothing else.
        third = _feed(strict, recorder, "third")
        await third.start()
        await until(lambda: third.connected == ("stocks",), what="the third feed's stream")
        await third.stop()
        await second.stop()
        return first, second

    first, second = asyncio.run(scenario())
    assert second.failure is not None
    assert "held by feed 'first' of this process" in second.failure
    assert KEY not in second.failure  # the key is named by its hash only
    assert second.connect_failures == 0
    assert first.failure is None


def test_a_key_whose_stream_another_process_holds_ends_the_feed_saying_so(
    strict: SandboxServer, recorder: Recorder
) -> None:
    # Another process's connection, as the sandbox sees it: the same key, authenticated.
    with connect(f"{strict.stream_url}/v2/iex", open_timeout=5) as other:
        assert json.loads(other.recv(timeout=5))[0]["msg"] == "connected"
        other.send(json.dumps({"action": "auth", "key": KEY, "secret": SECRET}))
        assert json.loads(other.recv(timeout=5))[0]["msg"] == "authenticated"

        async def scenario() -> AlpacaFeed:
            feed = _feed(strict, recorder, "late")
            await feed.start()
            await asyncio.wait_for(feed.finished.wait(), 10)
            await feed.stop()
            return feed

        feed = asyncio.run(scenario())
    assert feed.failure is not None
    assert "refused this key a second connection (406 connection limit exceeded)" in (feed.failure)
    assert feed.connect_failures == 1  # once: no reconnect loop against the 406
