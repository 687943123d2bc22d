"""What the persistence layer stores per strategy, and the record of a strategy's failure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import cast

from stockyard.strategy._base import JSONValue

__all__ = ["StrategyFailure", "StrategySnapshot", "StrategyStatus"]


class StrategyStatus(StrEnum):
    """Where a strategy is in its life inside a runner."""

    ADDED = "added"
    RUNNING = "running"
    DISABLED = "disabled"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyFailure:
    """A strategy raised inside ``hook`` and was disabled."""

    strategy_id: str
    hook: str
    error: str
    at: datetime
    exception: BaseException = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySnapshot:
    """A strategy's restartable state: its ``state`` dict, order sequence and own positions.

    ``seq`` must survive a restart so the next intent does not reuse an old number (the
    order manager derives client order ids from ``(strategy_id, seq)``).
    """

    strategy_id: str
    name: str
    seq: int
    state: Mapping[str, JSONValue]
    positions: Mapping[str, Decimal]
    open_orders: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSONValue]:
        """A JSON-serialisable dict (decimals as strings)."""
        return {
            "strategy_id": self.strategy_id,
            "name": self.name,
            "seq": self.seq,
            "state": dict(self.state),
            "positions": {k: str(v) for k, v in self.positions.items()},
            "open_orders": list(self.open_orders),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> StrategySnapshot:
        """The snapshot :meth:`to_json` wrote."""
        positions = cast(Mapping[str, str], data.get("positions") or {})
        seq = data.get("seq", 0)
        return cls(
            strategy_id=str(data["strategy_id"]),
            name=str(data.get("name", "")),
            seq=seq if isinstance(seq, int) else int(str(seq)),
            state=cast(Mapping[str, JSONValue], data.get("state") or {}),
            positions={k: Decimal(v) for k, v in positions.items()},
            open_orders=tuple(cast(list[str], data.get("open_orders") or [])),
        )
