"""`AlpacaFeed` without a network: settings, bad input, and its guard stage on raw messages.
(Connections, subscriptions and reconnection: tests/integration/feeds.)"""

from __future__ import annotations

import msgpack
import pytest
from pydantic import SecretStr
from tests.unit.data.feeds.conftest import Recorder

from stockyard.config import AlpacaSettings, ConfigError
from stockyard.data.feeds import AlpacaFeed, LiveFeed, market_from_alpaca

STAMP = msgpack.Timestamp.from_unix_nano(1_709_564_415_000_000_000)
LATER = msgpack.Timestamp.from_unix_nano(1_709_564_416_000_000_000)


def _feed(recorder: Recorder, symbols: list[str]) -> AlpacaFeed:
    return AlpacaFeed(
        bus=recorder.bus,
        key_id="K",
        secret_key="S",
        stream_url="ws://127.0.0.1:8765",
        symbols=symbols,
    )


def test_the_feed_is_a_live_feed_with_one_url_per_stream(recorder: Recorder) -> None:
    feed = AlpacaFeed(
        bus=recorder.bus,
        key_id="K",
        secret_key="S",
        stream_url="ws://127.0.0.1:8765/",
        stock_feed="sip",
    )
    assert isinstance(feed, LiveFeed)
    assert feed.urls == {
        "stocks": "ws://127.0.0.1:8765/v2/sip",
        "crypto": "ws://127.0.0.1:8765/v1beta3/crypto/us",
    }


def test_from_settings_reads_the_alpaca_section(recorder: Recorder) -> None:
    settings = AlpacaSettings(
        key_id=SecretStr("K"),
        secret_key=SecretStr("S"),
        base_url="https://paper-api.alpaca.markets",
    )
    feed = AlpacaFeed.from_settings(settings, bus=recorder.bus, symbols=["aapl"])
    assert feed.urls["stocks"] == "wss://stream.data.alpaca.markets/v2/iex"
    assert feed.symbols == {"AAPL"}
    assert feed.name == "alpaca"


def test_from_settings_without_credentials_names_the_keys(recorder: Recorder) -> None:
    with pytest.raises(ConfigError, match=r"alpaca\.key_id and alpaca\.secret_key"):
        AlpacaFeed.from_settings(AlpacaSettings(), bus=recorder.bus)


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"stream_url": "http://127.0.0.1:8765"}, "ws:// or wss://"),
        ({"secret_key": ""}, "a key id and a secret key"),
        ({"stock_feed": "otc"}, "stock_feed"),
        ({"reconnect_backoff_s": 0.0}, "reconnect_backoff_s"),
        ({"symbols": ["AAPL", "*"]}, "not a symbol"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_error(
    recorder: Recorder, kwargs: dict[str, object], said: str
) -> None:
    values: dict[str, object] = {
        "bus": recorder.bus,
        "key_id": "K",
        "secret_key": "S",
        "stream_url": "ws://127.0.0.1:8765",
    }
    with pytest.raises(ValueError, match=said):
        AlpacaFeed(**{**values, **kwargs})  # type: ignore[arg-type]


def test_symbols_are_normalised_and_bad_ones_change_nothing(recorder: Recorder) -> None:
    feed = _feed(recorder, ["aapl", " btc/usd "])
    assert feed.symbols == {"AAPL", "BTC/USD"}
    with pytest.raises(ValueError, match="not a symbol"):
        feed.add_symbols(["MSFT", "two words"])
    with pytest.raises(TypeError, match="not one string"):
        feed.add_symbols("MSFT")
    assert feed.symbols == {"AAPL", "BTC/USD"}
    feed.add_symbols(["msft"])
    feed.remove_symbols(["aapl"])
    assert feed.symbols == {"MSFT", "BTC/USD"}


def test_raw_messages_pass_the_guard_malformed_duplicate_and_late_ones_are_counted(
    recorder: Recorder,
) -> None:
    feed = _feed(recorder, ["AAPL"])
    trade = {"T": "t", "S": "AAPL", "i": 1, "p": 10.0, "s": 5, "t": LATER}
    assert feed.ingest(trade, market_from_alpaca)
    assert not feed.ingest(dict(trade), market_from_alpaca)  # the same trade again
    assert not feed.ingest({**trade, "i": 0, "t": STAMP}, market_from_alpaca)  # late
    assert not feed.ingest({**trade, "p": float("nan"), "i": 2}, market_from_alpaca)
    assert not feed.ingest({**trade, "S": "MSFT"}, market_from_alpaca)  # not subscribed
    stats = feed.stats()
    assert stats["published"] == stats["accepted"] == 1
    assert (stats["duplicate"], stats["out_of_order"], stats["malformed"]) == (1, 1, 1)
    assert stats["unsubscribed"] == 1
    assert [topic for topic, _ in recorder.seen] == ["md.trade.AAPL"]
    assert stats["connects"] == stats["reconnects"] == 0
    assert stats["streams"] == {}
    assert stats["failure"] is None
