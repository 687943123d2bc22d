"""Live market-data feeds: the `LiveFeed` interface, the shared guard/staleness/gap stage
(`BaseFeed`), the replay feed and the Alpaca feed (which also reads the local sandbox).
"""

from stockyard.data.feeds._alpaca import AlpacaFeed, stream_holders
from stockyard.data.feeds._alpaca_wire import (
    ALPACA_STREAM_URL,
    market_from_alpaca,
    stream_base_url,
    stream_kind,
)
from stockyard.data.feeds._base import BaseFeed
from stockyard.data.feeds._gaps import GapFiller, same_session
from stockyard.data.feeds._guard import FeedGuard, GuardCounts
from stockyard.data.feeds._protocol import LiveFeed
from stockyard.data.feeds._replay import ReplayFeed
from stockyard.data.feeds._staleness import StalenessMonitor

__all__ = [
    "ALPACA_STREAM_URL",
    "AlpacaFeed",
    "BaseFeed",
    "FeedGuard",
    "GapFiller",
    "GuardCounts",
    "LiveFeed",
    "ReplayFeed",
    "StalenessMonitor",
    "market_from_alpaca",
    "same_session",
    "stream_base_url",
    "stream_holders",
    "stream_kind",
]
