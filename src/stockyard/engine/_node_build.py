"""A ``TradingNode`` from settings: the sandbox, Alpaca paper or Alpaca live.

The same wiring for every venue: ``AlpacaBroker`` (alpaca-py's REST and trade stream) and
``AlpacaFeed`` (alpaca-py's market-data streams, minute-bar gaps back-filled over REST)
against ``alpaca.base_url``. Only the URL, the run mode and the clock differ: the sandbox
keeps its own (replay) time, so the node follows it with a ``VenueClock``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from prometheus_client import CollectorRegistry

from stockyard.bus import MessageBus
from stockyard.config import AlpacaSettings, BrokerKind, ConfigError, Settings
from stockyard.core import Timeframe, WallClock
from stockyard.data import AlpacaSource, BarTables, HistoricalSource
from stockyard.data.feeds import AlpacaFeed, stream_base_url
from stockyard.engine._bots import apply_bot_risk
from stockyard.engine._node import NodeConfig, TradingNode
from stockyard.engine._node_clock import VenueClock
from stockyard.engine._node_notify import trade_notifier
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.execution.oms import OmsConfig
from stockyard.resilience import (
    BreakerRegistry,
    ErrorCategory,
    ErrorRegistry,
    default_breaker_registry,
    default_error_registry,
    retry_policy,
)
from stockyard.store import Database, RunMode, open_database
from stockyard.strategy import Strategy

__all__ = ["ALPACA_LIVE_URL", "ALPACA_PAPER_URL", "BrokerKind", "build_node", "venue_settings"]

ALPACA_PAPER_URL = "https://paper-api.alpaca.markets"
ALPACA_LIVE_URL = "https://api.alpaca.markets"
ALPACA_DATA_URL = "https://data.alpaca.markets"

_MODES: dict[str, RunMode] = {
    "sandbox": RunMode.SANDBOX,
    "alpaca-paper": RunMode.PAPER,
    "alpaca-live": RunMode.LIVE,
}


class _RetryingSource:
    """A ``HistoricalSource`` whose reads are retried under the NETWORK policy (back-fill
    of a bar missed during a reconnect must survive a transient 5xx)."""

    def __init__(
        self, source: HistoricalSource, *, attempts: int = 4, registry: ErrorRegistry | None = None
    ) -> None:
        self._source = source
        self._attempts = attempts
        self._registry = registry

    @property
    def name(self) -> str:
        return self._source.name

    def get_bars(
        self, symbols: Sequence[str], timeframe: Timeframe, start: datetime, end: datetime
    ) -> BarTables:
        policy = retry_policy(
            ErrorCategory.NETWORK,
            max_attempts=self._attempts,
            component="data_pipeline",
            registry=self._registry,
        )
        tables: BarTables = policy(self._source.get_bars, symbols, timeframe, start, end)
        return tables


def venue_settings(
    settings: Settings, broker: BrokerKind, *, sandbox_url: str | None = None
) -> AlpacaSettings:
    """``settings.alpaca`` pointed at the chosen venue (keys stay as configured). For
    Alpaca, its paper or live URL, unless ``alpaca.base_url`` (``APCA_API_BASE_URL``) was
    set to another one."""
    alpaca = settings.alpaca
    if broker == "sandbox":
        url = sandbox_url or alpaca.base_url
        updated = alpaca.model_copy(update={"base_url": url.rstrip("/"), "data_url": None})
        if not updated.is_sandbox:
            raise ConfigError(
                f"--broker sandbox needs a local sandbox URL, but alpaca.base_url is {url!r}; "
                "give --sandbox-url or choose --broker alpaca-paper"
            )
        return updated
    url = ALPACA_PAPER_URL if broker == "alpaca-paper" else ALPACA_LIVE_URL
    if "base_url" in alpaca.model_fields_set and alpaca.base_url.rstrip("/") != url:
        # APCA_API_BASE_URL given: Alpaca's other URL is refused (paper must not trade live
        # money, nor live paper); any other (a test's sandbox, a proxy) is used as given.
        if broker == "alpaca-paper" and alpaca.is_live:
            raise ConfigError(
                f"--broker alpaca-paper, but alpaca.base_url is the live API ({alpaca.base_url})"
            )
        if broker == "alpaca-live" and "paper-api.alpaca.markets" in alpaca.base_url:
            raise ConfigError(
                f"--broker alpaca-live, but alpaca.base_url is the paper API ({alpaca.base_url})"
            )
        return alpaca.model_copy(update={"base_url": alpaca.base_url.rstrip("/")})
    # Alpaca serves market data (history for warm-up and back-fill) from its own host.
    data_url = alpaca.data_url or ALPACA_DATA_URL
    return alpaca.model_copy(update={"base_url": url, "data_url": data_url, "stream_url": None})


def _own_feed(
    alpaca: AlpacaSettings,
    strategies: Sequence[Strategy],
    *,
    bus: MessageBus,
    broker: BrokerKind,
    errors: ErrorRegistry,
    backfill: HistoricalSource,
) -> AlpacaFeed:
    """The node's own market-data stream (alpaca-py), minute-bar gaps back-filled from
    ``backfill``; its failures go to ``errors``."""
    assert alpaca.key_id is not None  # AlpacaBroker.from_settings checked both keys
    assert alpaca.secret_key is not None
    return AlpacaFeed(
        bus=bus,
        key_id=alpaca.key_id,
        secret_key=alpaca.secret_key,
        stream_url=stream_base_url(alpaca),
        stock_feed=alpaca.feed,
        symbols=sorted({s for strategy in strategies for s in strategy.symbols}),
        name="sandbox" if broker == "sandbox" else "alpaca",
        backfill=backfill,
        reconnect_backoff_s=0.5,
        errors=errors,
    )


def build_node(
    settings: Settings,
    *,
    strategies: Sequence[Strategy],
    broker: BrokerKind,
    bus: MessageBus,
    sandbox_url: str | None = None,
    database: Database | None = None,
    config: NodeConfig | None = None,
    errors: ErrorRegistry | None = None,
    breakers: BreakerRegistry | None = None,
    oms: OmsConfig | None = None,
    metrics_registry: CollectorRegistry | None = None,
    market_data: Literal["own", "bus"] = "own",
) -> TradingNode:
    """A node trading ``strategies`` on ``broker`` with the settings' keys, risk limits and
    state database; ``oms`` overrides the order manager's resend policy. The trading
    notifications ``[alerts]`` switches on are attached; its metrics go to
    ``metrics_registry`` (the process's by default). The node, its broker and its feed's
    back-fill record errors in ``errors`` and the broker's breaker joins ``breakers``: by
    default the process's own, which the health service of the process reads.
    ``market_data`` ``"bus"``: the node holds no market-data stream of its own and trades on
    what the ``feed`` process publishes on the (Redis) bus. A missing key raises
    ``ConfigError`` naming it."""
    notifier = trade_notifier(settings)
    alpaca = venue_settings(settings, broker, sandbox_url=sandbox_url)
    errors = errors if errors is not None else default_error_registry()
    breakers = breakers if breakers is not None else default_breaker_registry()
    trading = AlpacaBroker.from_settings(alpaca, registry=errors)
    breakers.register(trading.breaker, replace=True)
    # Recent history: the bots' warm-up, and the feed's back-fill of minute-bar gaps.
    history = _RetryingSource(AlpacaSource.from_settings(alpaca), registry=errors)
    feed = (
        None
        if market_data == "bus"
        else _own_feed(alpaca, strategies, bus=bus, broker=broker, errors=errors, backfill=history)
    )
    mode = _MODES[broker]
    # A local venue (the sandbox, also when a test points alpaca-paper's URL at it) keeps
    # its own replay time: the node follows it.
    sandbox = alpaca.is_sandbox
    config = config or NodeConfig()
    if config.mode is not mode:
        config = dataclasses.replace(config, mode=mode)
    node = TradingNode(
        strategies=strategies,
        broker=trading,
        database=database if database is not None else open_database(settings),
        bus=bus,
        feed=feed,
        clock=VenueClock() if sandbox else WallClock(),
        venue_time=trading.venue_time if sandbox else None,
        risk=settings.risk,
        config=config,
        errors=errors,
        oms=oms,
        metrics_registry=metrics_registry,
        history=history,
    )
    apply_bot_risk(node.risk, settings)
    if notifier is not None:
        notifier.attach(node)
    return node
