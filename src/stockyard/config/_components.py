"""The settings of the trading components, each default written once, here.

``[node]`` (which also names the broker the node trades), ``[oms]``, ``[exchange]`` and
``[backtest]`` in ``stockyard.toml`` (or
``STOCKYARD_NODE__TICK_S`` and the like in the environment). The components' own frozen
configs (``NodeConfig``, ``OmsConfig``, ``ExchangeConfig``, ``BacktestConfig``) take their
defaults from these sections and are built from them with ``from_settings``; the sandbox's
section is ``SandboxSettings``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from stockyard.config._bots import BrokerKind
from stockyard.config._sections import Section

__all__ = ["BacktestSettings", "ExchangeSettings", "NodeSettings", "OmsSettings"]


class NodeSettings(Section):
    """The trading node's periods (wall seconds) and its stop (``stockyard.engine``)."""

    snapshot_every_s: float = Field(default=30.0, gt=0, description="state and equity saved")
    reconcile_every_s: float = Field(
        default=30.0, gt=0, description="reconcile orders left in doubt"
    )
    status_every_s: float = Field(default=10.0, gt=0, description="a status log line")
    tick_s: float = Field(default=1.0, gt=0, description="the node's housekeeping tick")
    stop_timeout_s: float = Field(default=10.0, gt=0, description="a graceful stop's limit")
    cancel_on_stop: bool = Field(default=False, description="cancel open orders on stop")
    broker: BrokerKind | None = Field(
        default=None,
        description="sandbox, alpaca-paper or alpaca-live (default: from alpaca.base_url)",
    )
    live_trading: bool = Field(
        default=False,
        description="alpaca-live trades real money only when this is true "
        "(or --i-understand-live-trading)",
    )
    warmup: bool = Field(
        default=True, description="feed the bots recent history on start, placing no orders"
    )


class OmsSettings(Section):
    """How the order manager resends and reconciles (``stockyard.execution.oms``)."""

    resubmit_window_s: float = Field(
        default=300.0, ge=0, description="an unsent intent is resent while younger than this"
    )
    max_resubmits: int = Field(default=1, ge=0, description="resends per intent per process")
    submit_attempts: int = Field(default=3, ge=1, description="sends when arrival is unknown")
    stream_grace_s: float = Field(
        default=2.0, ge=0, description="wait for the stream's fills before fetching them"
    )


class ExchangeSettings(Section):
    """Fill conventions and account rules of the simulated exchange (docs/matching.md)."""

    market_price: Literal["open", "close"] = "open"
    limit_fill: Literal["touch", "through"] = "touch"
    participation: float | None = Field(
        default=None, gt=0, le=1, description="fraction of a bar's volume per order"
    )
    strict_timestamps: bool = True
    multiplier: Literal[1, 2, 4] = Field(default=2, description="1 = cash account")
    shorting_enabled: bool = True
    extended_hours: bool = True
    pdt: bool = Field(default=True, description="the pattern-day-trader rule")
    pdt_equity: Decimal = Field(default=Decimal(25_000), ge=0)
    pdt_day_trades: int = Field(default=4, ge=1)
    pdt_window: int = Field(default=5, ge=1, description="sessions")


class BacktestSettings(Section):
    """What ``stockyard backtest`` (and walk-forward, Monte Carlo) assume unless told."""

    cash: Decimal = Field(default=Decimal(100_000), gt=0, description="starting cash")
    calendar: Literal["always", "nyse"] = Field(
        default="always", description="always (data as it comes) or nyse"
    )
    fees: str = Field(default="zero", description="zero, sec, per-share:R[:MIN[:MAX]], ...")
    slippage: str = Field(default="none", description="none, bps:N, volume:IMPACT:MAX")
    seed: int = Field(default=0, description="seeds ids (and synthetic bars)")
    warmup: int = Field(
        default=0, ge=0, description="first bars only warm the bots up (0: start cold)"
    )
