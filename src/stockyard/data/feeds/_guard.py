"""The guard every feed passes messages through: malformed, duplicate and out-of-order
messages are counted and dropped, never raised."""

from __future__ import annotations

from datetime import datetime

from stockyard.core import Bar, Quote, Trade
from stockyard.obs import get_logger

__all__ = ["FeedGuard", "GuardCounts"]

Market = Bar | Quote | Trade


class GuardCounts:
    """What the guard let through and what it dropped, by reason."""

    __slots__ = ("accepted", "duplicate", "malformed", "out_of_order", "unsubscribed")

    def __init__(self) -> None:
        self.accepted = 0
        self.malformed = 0
        self.duplicate = 0
        self.out_of_order = 0
        self.unsubscribed = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class FeedGuard:
    """Per (kind, symbol): the timestamp must not go back; a repeat of the last message is a
    duplicate. A bar with the same start as the last bar is a duplicate; quotes and trades
    may share a timestamp (a busy tape) unless they equal the last one, or a trade repeats
    the last trade id. Each reason is logged the first time it happens per symbol."""

    def __init__(self, *, feed: str) -> None:
        self._feed = feed
        self._last: dict[tuple[type, str], Market] = {}
        self._logged: set[tuple[str, str]] = set()
        self.counts = GuardCounts()

    def check(self, message: object) -> bool:
        """True when ``message`` should be published."""
        kind = type(message)
        if kind is not Bar and kind is not Quote and kind is not Trade:
            self.malformed(f"not a Bar, Quote or Trade: {kind.__name__}")
            return False
        msg: Market = message  # type: ignore[assignment]  # narrowed by the test above
        key = (kind, msg.symbol)
        last = self._last.get(key)
        if last is not None:
            reason = self._reject(msg, last, last.timestamp)
            if reason is not None:
                setattr(self.counts, reason, getattr(self.counts, reason) + 1)
                self._log_once(reason, msg.symbol, last.timestamp, msg.timestamp)
                return False
        self._last[key] = msg
        self.counts.accepted += 1
        return True

    @staticmethod
    def _reject(msg: Market, last: Market, last_ts: datetime) -> str | None:
        ts = msg.timestamp
        if ts < last_ts:
            return "out_of_order"
        if ts == last_ts:
            if type(msg) is Bar or msg == last:
                return "duplicate"
            if type(msg) is Trade and msg.id is not None and msg.id == last.id:  # type: ignore[union-attr]
                return "duplicate"
        return None

    def malformed(self, reason: str) -> None:
        """Count a message that could not be parsed or validated."""
        self.counts.malformed += 1
        self._log_once("malformed", reason[:80], None, None)

    def forget(self, symbol: str) -> None:
        """Drop the state of ``symbol`` (it was unsubscribed)."""
        for kind in (Bar, Quote, Trade):
            self._last.pop((kind, symbol), None)

    def _log_once(
        self, reason: str, what: str, last: datetime | None, got: datetime | None
    ) -> None:
        if (reason, what) in self._logged or len(self._logged) > 10_000:
            return
        self._logged.add((reason, what))
        get_logger("data_pipeline").warning(
            "feed_message_dropped",
            feed=self._feed,
            reason=reason,
            detail=what,
            last=None if last is None else last.isoformat(),
            got=None if got is None else got.isoformat(),
        )
