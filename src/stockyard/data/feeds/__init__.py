"""Live market-data feeds: the `LiveFeed` interface, the shared guard/staleness/gap stage
(`BaseFeed`) and the replay feed. Venue adapters (Alpaca, the sandbox) subclass `BaseFeed`.
"""

from stockyard.data.feeds._base import BaseFeed
from stockyard.data.feeds._gaps import GapFiller, same_session
from stockyard.data.feeds._guard import FeedGuard, GuardCounts
from stockyard.data.feeds._protocol import LiveFeed
from stockyard.data.feeds._replay import ReplayFeed
from stockyard.data.feeds._staleness import StalenessMonitor

__all__ = [
    "BaseFeed",
    "FeedGuard",
    "GapFiller",
    "GuardCounts",
    "LiveFeed",
    "ReplayFeed",
    "StalenessMonitor",
    "same_session",
]
