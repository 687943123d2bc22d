"""The node's configs from the settings: ``[node]``, ``[oms]`` and ``[strategy]`` of
``stockyard.toml`` (each default is written once, in those sections)."""

from __future__ import annotations

from typing import Any

from stockyard.config import Settings
from stockyard.engine._node import NodeConfig
from stockyard.execution.oms import OmsConfig

__all__ = ["node_config", "oms_config"]


def node_config(settings: Settings, **given: Any) -> NodeConfig:
    """The node's config from ``[node]`` (and ``strategy.history_size``); ``given``
    overrides a field (``mode``, or a command-line option)."""
    fields = settings.node.model_dump(exclude={"broker", "live_trading"})
    fields["history_size"] = settings.strategy.history_size
    return NodeConfig(**{**fields, **given})


def oms_config(settings: Settings) -> OmsConfig:
    """The node's order manager config from ``[oms]`` (it logs as ``trading``)."""
    return OmsConfig.from_settings(settings.oms, component="trading")
