"""Fault injection: errors, latency, timeouts, rate limits, disconnects, lossy market data.

A ``FaultConfig`` comes from a named profile, a JSON/TOML file, or ``POST /sandbox/faults``.
Every random choice comes from one generator seeded by ``seed``, so a given sequence of
requests meets the same faults on every run.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["PROFILES", "FaultConfig", "FaultDecision", "FaultInjector", "load_faults"]

T = TypeVar("T")
Rate = float


class FaultConfig(BaseModel):
    """What to break, and how often (rates are probabilities in [0, 1])."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    error_rates: dict[int, Rate] = Field(
        default_factory=dict, description="HTTP status -> probability a REST call gets it"
    )
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=60_000)
    timeout_rate: Rate = Field(default=0.0, ge=0, le=1)
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="hang, then 504")
    rate_limit_per_s: float | None = Field(default=None, gt=0, description="token bucket")
    ws_disconnect_every_s: float | None = Field(default=None, gt=0)
    md_drop_rate: Rate = Field(default=0.0, ge=0, le=1)
    md_duplicate_rate: Rate = Field(default=0.0, ge=0, le=1)
    md_reorder_rate: Rate = Field(default=0.0, ge=0, le=1)

    @field_validator("error_rates")
    @classmethod
    def _statuses(cls, value: dict[int, Rate]) -> dict[int, Rate]:
        for status, rate in value.items():
            if not 400 <= status <= 599:
                raise ValueError(f"error_rates keys must be HTTP statuses 400-599, got {status}")
            if not 0 <= rate <= 1:
                raise ValueError(f"error_rates[{status}] must be in [0, 1], got {rate}")
        if sum(value.values()) > 1:
            raise ValueError("error_rates must add up to at most 1")
        return value

    @property
    def active(self) -> bool:
        return self != FaultConfig(seed=self.seed)


PROFILES: dict[str, FaultConfig] = {
    "none": FaultConfig(),
    "flaky": FaultConfig(error_rates={500: 0.02, 503: 0.02}, latency_ms=20, latency_jitter_ms=20),
    "slow": FaultConfig(latency_ms=250, latency_jitter_ms=250, timeout_rate=0.01, timeout_s=15),
    "lossy": FaultConfig(
        md_drop_rate=0.05, md_duplicate_rate=0.02, md_reorder_rate=0.02, ws_disconnect_every_s=60
    ),
    "rate-limited": FaultConfig(rate_limit_per_s=5),
    "chaos": FaultConfig(
        error_rates={500: 0.05, 502: 0.02, 503: 0.05},
        latency_ms=50,
        latency_jitter_ms=100,
        timeout_rate=0.01,
        timeout_s=10,
        rate_limit_per_s=50,
        ws_disconnect_every_s=30,
        md_drop_rate=0.05,
        md_duplicate_rate=0.05,
        md_reorder_rate=0.05,
    ),
}


def load_faults(spec: str) -> FaultConfig:
    """A profile name (``none``, ``flaky``, ``slow``, ``lossy``, ``rate-limited``,
    ``chaos``) or the path of a JSON or TOML file of ``FaultConfig`` fields."""
    if spec in PROFILES:
        return PROFILES[spec]
    path = Path(spec).expanduser()
    if not path.is_file():
        names = ", ".join(PROFILES)
        raise ValueError(f"unknown fault profile {spec!r}: use one of {names}, or a file")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return FaultConfig.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"bad fault file {path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one REST call: pass, answer an error, or hang then time out."""

    kind: Literal["pass", "error", "timeout", "rate_limited"] = "pass"
    status: int = 200
    delay_s: float = 0.0
    retry_after_s: int = 0


_PASS = FaultDecision()


class FaultInjector:
    """Draws faults from one seeded generator; thread-safe; reconfigurable at run time."""

    def __init__(
        self, config: FaultConfig | None = None, *, wall: Callable[[], float] = time.monotonic
    ):
        self._wall = wall
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            rate = config.rate_limit_per_s
            self._tokens = rate if rate is not None else 0.0
            self._refilled = self._wall()

    def http(self) -> FaultDecision:
        """The fault (if any) for the next REST call."""
        config = self._config
        if not config.active:
            return _PASS
        with self._lock:
            if config.rate_limit_per_s is not None and not self._take_token(
                config.rate_limit_per_s
            ):
                wait = (1 - self._tokens) / config.rate_limit_per_s
                return FaultDecision("rate_limited", 429, 0.0, max(1, math.ceil(wait)))
            delay = config.latency_ms / 1000
            if config.latency_jitter_ms:
                delay += self._rng.uniform(0, config.latency_jitter_ms) / 1000
            if config.timeout_rate and self._rng.random() < config.timeout_rate:
                return FaultDecision("timeout", 504, config.timeout_s)
            draw = self._rng.random()
            for status, rate in sorted(config.error_rates.items()):
                if draw < rate:
                    return FaultDecision("error", status, delay)
                draw -= rate
            return FaultDecision("pass", 200, delay)

    def _take_token(self, rate: float) -> bool:
        now = self._wall()
        self._tokens = min(rate, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def mangle(self, messages: Sequence[T]) -> list[T]:
        """Market data after drops, duplicates and swaps of neighbours."""
        config = self._config
        if not (config.md_drop_rate or config.md_duplicate_rate or config.md_reorder_rate):
            return list(messages)
        out: list[T] = []
        with self._lock:
            for message in messages:
                if self._rng.random() < config.md_drop_rate:
                    continue
                out.append(message)
                if self._rng.random() < config.md_duplicate_rate:
                    out.append(message)
            for i in range(len(out) - 1):
                if self._rng.random() < config.md_reorder_rate:
                    out[i], out[i + 1] = out[i + 1], out[i]
        return out
