"""Trading notifications through apprise: fills, halts and a daily summary, each opt-in.

Health alerts have their own notifiers (``health._notify``); these tell a trader what the
node did. Each kind is off unless switched on in ``[alerts]`` (``notify_fills``,
``notify_halts``, ``notify_daily_summary`` at ``daily_summary_at``, New York time) and
goes to ``alerts.apprise_urls`` (Slack, Telegram, e-mail, a JSON webhook: ``json://…``).

Sending never holds the node up: each notification is a task on the node's loop, and a
failed delivery is logged and counted, never raised. Halts and the summary are noticed on
the node's housekeeping tick (a halt within one tick of happening); the summary goes when
the node's clock passes ``daily_summary_at`` (the sandbox's replay clock included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from stockyard.config import ConfigError, Settings
from stockyard.core import Fill
from stockyard.engine._node import TradingNode
from stockyard.obs import get_logger

if TYPE_CHECKING:
    import apprise

__all__ = ["TradeNotifier", "trade_notifier"]

_log = get_logger("trading")
_NEW_YORK = ZoneInfo("America/New_York")


class TradeNotifier:
    """Sends the kinds switched on to ``urls``; ``attach`` hooks it to a node.

    ``sent`` and ``failed`` count deliveries; ``titles`` keeps the last 100 sent."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        fills: bool = False,
        halts: bool = False,
        daily_summary: bool = False,
        summary_at: dt.time = dt.time(16, 15),
    ) -> None:
        # apprise (~0.2 s to import) only in a node that notifies
        import apprise  # noqa: PLC0415

        self._kinds = apprise.NotifyType
        self._apprise = apprise.Apprise()
        bad = [u.split("://", 1)[0] + "://…" for u in urls if not self._apprise.add(u)]
        if bad:
            raise ConfigError(f"alerts.apprise_urls: apprise cannot use {', '.join(bad)}")
        self.fills = fills
        self.halts = halts
        self.daily_summary = daily_summary
        self.summary_at = summary_at
        self.sent = 0
        self.failed = 0
        self.titles: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._node: TradingNode | None = None
        self._halted: dict[str, str | None] = {}
        self._last_tick: dt.datetime | None = None
        self._day_fills: dict[str, int] = {}
        self._day_start_pnl: dict[str, float] = {}

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, node: TradingNode) -> None:
        """Hear ``node``'s fills and housekeeping ticks."""
        self._node = node
        node.fill_listeners.append(self.on_fill)
        node.tick_listeners.append(self.on_tick)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait (at most ``timeout_s``) for the notifications under way."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    # -- events (the node's loop) ------------------------------------------------------------

    def on_fill(self, fill: Fill, bot: str) -> None:
        """A fill: counted for the summary; sent when ``fills`` is on."""
        self._day_fills[bot] = self._day_fills.get(bot, 0) + 1
        if self.fills:
            title = f"{bot}: {fill.side.value} {fill.qty} {fill.symbol} @ {fill.price}"
            body = (
                f"Bot {bot} filled: {fill.side.value} {fill.qty} {fill.symbol} at {fill.price} "
                f"(fee {fill.fee}, order {fill.client_order_id}, {fill.timestamp.isoformat()})"
            )
            self._send(f"[stockyard] fill {title}", body, self._kinds.INFO)

    def on_tick(self) -> None:
        """Look for new halts and whether the daily summary is due."""
        node = self._node
        if node is None:
            return
        if self.halts:
            self._watch_halts(node)
        now = node.clock.now()
        last, self._last_tick = self._last_tick, now
        if last is None:
            self._day_start_pnl = self._realized(node)
            return
        local = now.astimezone(_NEW_YORK)
        due = dt.datetime.combine(local.date(), self.summary_at, tzinfo=_NEW_YORK)
        if last < due <= now:
            if self.daily_summary:
                self._send_summary(node, local.date())
            self._day_fills = {}
            self._day_start_pnl = self._realized(node)

    # -- what is sent ------------------------------------------------------------------------

    def _watch_halts(self, node: TradingNode) -> None:
        for kind, reason in (
            ("kill switch", node.risk.kill_reason),
            ("daily loss limit", node.risk.daily_halt),
            ("node stopped", node.failure),
        ):
            before = self._halted.get(kind)
            self._halted[kind] = reason
            if reason is not None and before is None:
                self._send(
                    f"[stockyard] trading halted: {kind}",
                    f"The {node.config.mode.value} node halted ({kind}): {reason}",
                    self._kinds.FAILURE,
                )

    def _send_summary(self, node: TradingNode, day: dt.date) -> None:
        metrics = node.metrics
        lines = [f"{day.isoformat()}, {node.config.mode.value} node"]
        if metrics is not None:
            books = metrics.books
            lines.append(f"equity {_money(books.equity)}, cash {_money(books.cash)}")
        realized = self._realized(node)
        for strategy in node.strategies:
            bot = strategy.strategy_id
            total = realized.get(bot, 0.0)
            today = total - self._day_start_pnl.get(bot, 0.0)
            lines.append(
                f"{bot}: {self._day_fills.get(bot, 0)} fills, realized P&L today "
                f"{_money(today)} (all time {_money(total)})"
            )
        self._send(
            f"[stockyard] daily summary {day.isoformat()}",
            "\n".join(lines),
            self._kinds.INFO,
        )

    @staticmethod
    def _realized(node: TradingNode) -> dict[str, float]:
        metrics = node.metrics
        return {} if metrics is None else dict(metrics.books.realized)

    def _send(self, title: str, body: str, kind: apprise.NotifyType) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._deliver(title, body, kind))
        except RuntimeError:  # no loop running: nothing of the node's runs either
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, title: str, body: str, kind: apprise.NotifyType) -> None:
        try:
            result = await self._apprise.async_notify(body=body, title=title, notify_type=kind)
            try:
                ok = bool(result)
            finally:
                result.close()
        except Exception as exc:  # a notification channel must not stop trading
            ok = False
            _log.warning("trading notification failed", title=title, error=repr(exc))
        if ok:
            self.sent += 1
            self.titles.append(title)
            del self.titles[:-100]
        else:
            self.failed += 1
            _log.warning("trading notification not delivered", title=title)


def _money(value: float | Decimal) -> str:
    amount = float(value)
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def trade_notifier(full: Settings) -> TradeNotifier | None:
    """The notifier ``[alerts]`` asks for, or None when every kind is off. A kind switched
    on without ``apprise_urls`` raises ``ConfigError`` naming the key."""
    settings = full.alerts
    kinds = {
        "alerts.notify_fills": settings.notify_fills,
        "alerts.notify_halts": settings.notify_halts,
        "alerts.notify_daily_summary": settings.notify_daily_summary,
    }
    if not any(kinds.values()):
        return None
    raw = settings.apprise_urls.get_secret_value() if settings.apprise_urls else ""
    urls = [u.strip() for u in raw.split(",") if u.strip()]
    if not urls:
        on = ", ".join(k for k, v in kinds.items() if v)
        raise ConfigError(f"alerts.apprise_urls is empty, but {on} is on: say where to send")
    return TradeNotifier(
        urls,
        fills=settings.notify_fills,
        halts=settings.notify_halts,
        daily_summary=settings.notify_daily_summary,
        summary_at=settings.daily_summary_at,
    )
