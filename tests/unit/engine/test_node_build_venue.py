"""Where ``build_node`` sends a paper or live node: Alpaca's URLs (market data from its data
host), or ``APCA_API_BASE_URL`` as given, never the other kind of money."""

from __future__ import annotations

import pytest

from stockyard.config import ConfigError, load_settings
from stockyard.engine import ALPACA_LIVE_URL, ALPACA_PAPER_URL, venue_settings


def test_paper_goes_to_alpacas_paper_url_and_its_data_host() -> None:
    alpaca = venue_settings(load_settings(env={}), "alpaca-paper")
    assert alpaca.base_url == ALPACA_PAPER_URL
    assert alpaca.data_url == "https://data.alpaca.markets"
    assert venue_settings(load_settings(env={}), "alpaca-live").base_url == ALPACA_LIVE_URL


def test_a_base_url_given_is_used_as_given() -> None:
    settings = load_settings(env={"APCA_API_BASE_URL": "http://127.0.0.1:9999/"})
    alpaca = venue_settings(settings, "alpaca-paper")
    assert alpaca.base_url == "http://127.0.0.1:9999"
    assert alpaca.data_url is None  # the market data of that venue too


@pytest.mark.parametrize(
    ("broker", "url", "message"),
    [
        ("alpaca-paper", ALPACA_LIVE_URL, "alpaca.base_url is the live API"),
        ("alpaca-live", ALPACA_PAPER_URL, "alpaca.base_url is the paper API"),
    ],
)
def test_paper_never_trades_live_money_nor_live_paper(broker: str, url: str, message: str) -> None:
    settings = load_settings(env={"APCA_API_BASE_URL": url})
    with pytest.raises(ConfigError, match=message):
        venue_settings(settings, broker)  # type: ignore[arg-type]  # a broker kind
