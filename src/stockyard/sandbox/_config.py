"""How one sandbox runs: credentials, what it replays and how fast, faults, state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from stockyard.config import SandboxSettings
from stockyard.data import HistoricalSource
from stockyard.execution import ExchangeConfig
from stockyard.sandbox._faults import FaultConfig
from stockyard.sandbox._md_stream import StreamLimits
from stockyard.sandbox._reference import ReferenceData

__all__ = ["DEFAULT_SYMBOLS", "SandboxConfig", "account_id_for"]

_DEFAULTS = SandboxSettings()  # each default is written once, in the [sandbox] section
DEFAULT_SYMBOLS = _DEFAULTS.symbols
_ACCOUNTS = uuid.UUID("0c5e8a4f-3d1b-4a6e-8f2c-7b9d1e3a5c70")


def account_id_for(key_id: str) -> str:
    """The account a key trades: a UUID derived from the key, stable across restarts."""
    return str(uuid.uuid5(_ACCOUNTS, key_id))


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    """Everything a ``Sandbox`` needs. ``source`` defaults to ``SyntheticSource(seed)``;
    ``start`` to the open of the last NYSE session (or the saved clock); ``speed`` is
    simulated seconds per real second (``inf``: as fast as possible, ``0``: paused);
    ``state_path`` ``None`` keeps state in memory only; ``reference`` holds the corporate
    actions and news served (none by default); ``rate_limit_per_min`` is the REST requests a
    key may make per minute (Alpaca's is 200; ``0``, the default here, means no limit: the
    ``stockyard sandbox`` command applies ``sandbox.rate_limit_per_min``)."""

    key_id: str
    secret_key: str
    host: str = _DEFAULTS.host
    port: int = _DEFAULTS.port
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    source: HistoricalSource | None = None
    start: datetime | None = None
    speed: float = float(_DEFAULTS.speed)
    skip_gaps: bool = True
    seed: int = _DEFAULTS.seed
    cash: Decimal = _DEFAULTS.cash
    faults: FaultConfig = field(default_factory=FaultConfig)
    limits: StreamLimits = field(default_factory=StreamLimits)
    exchange: ExchangeConfig | None = None
    state_path: Path | None = None
    reset: bool = False
    save_debounce_s: float = 0.2
    reference: ReferenceData = field(default_factory=ReferenceData)
    rate_limit_per_min: int = 0

    def __post_init__(self) -> None:
        if not self.key_id or not self.secret_key:
            raise ValueError("the sandbox needs a key id and a secret key")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not self.symbols:
            raise ValueError("give at least one symbol")
        if self.speed < 0:
            raise ValueError(f"speed must be >= 0, got {self.speed}")
        if self.rate_limit_per_min < 0:
            raise ValueError(f"rate_limit_per_min must be >= 0, got {self.rate_limit_per_min}")

    @property
    def account_id(self) -> str:
        return account_id_for(self.key_id)
