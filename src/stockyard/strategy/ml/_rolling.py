"""A bot's own rolling history of feature rows, and the trainer that retrains on it.

In a backtest retraining runs inline (``sync``): the result is the same bits every run.
Live it runs in a worker (``background``: a process pool by default, or a thread) so the
event loop never waits; the finished model is swapped in on the next bar after it is done,
and only if it passed its out-of-sample gate does it trade.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from dataclasses import dataclass

import numpy as np

from stockyard.strategy._bars import BarRow
from stockyard.strategy.ml._models import FittedModel
from stockyard.strategy.ml._training import (
    Block,
    TrainResult,
    TrainSpec,
    revive,
    train_payload,
    train_window,
)

__all__ = ["ActiveModel", "RollingTrainer", "SymbolHistory"]


class SymbolHistory:
    """The last ``capacity`` bars of one symbol with their feature rows (NaN rows where
    features were undefined), for training on the bot's own past.

    Kept in preallocated ring arrays: appending a bar writes one slot, and a training's
    :meth:`block` is two slice copies rather than stacking thousands of small rows.
    """

    __slots__ = ("_close", "_high", "_low", "_next", "_ts", "_x", "capacity", "size", "symbol")

    def __init__(self, symbol: str, *, capacity: int, width: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.symbol = symbol
        self.capacity = capacity
        self.size = 0
        self._next = 0
        self._ts = np.zeros(capacity, dtype=np.int64)
        self._close = np.zeros(capacity)
        self._high = np.zeros(capacity)
        self._low = np.zeros(capacity)
        self._x = np.full((capacity, width), np.nan)

    @property
    def width(self) -> int:
        return int(self._x.shape[1])

    def append(self, bar: BarRow, row: np.ndarray | None) -> None:
        at = self._next
        self._ts[at] = bar.ts
        self._close[at] = bar.close
        self._high[at] = bar.high
        self._low[at] = bar.low
        if row is None:
            self._x[at] = np.nan
        else:
            self._x[at] = row
        self._next = (at + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _ordered(self, values: np.ndarray, last: int | None = None) -> np.ndarray:
        """A copy of the newest ``last`` (default all) entries of ``values``, oldest first."""
        count = self.size if last is None else min(last, self.size)
        begin = (self._next - count) % self.capacity
        if begin + count <= self.capacity:
            return values[begin : begin + count].copy()
        return np.concatenate([values[begin:], values[: self._next]])

    def recent_rows(self, last: int) -> np.ndarray:
        """The feature rows of the newest ``last`` bars where every feature was defined."""
        x = self._ordered(self._x, last)
        return np.asarray(x[~np.isnan(x).any(axis=1)])

    def block(self) -> Block:
        """A copy of the history as arrays (safe to hand to a worker)."""
        return Block(
            symbol=self.symbol,
            ts=self._ordered(self._ts),
            close=self._ordered(self._close),
            high=self._ordered(self._high),
            low=self._ordered(self._low),
            x=self._ordered(self._x),
        )


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """The model a bot trades with, what it was trained on, and when (data time, ns)."""

    model: FittedModel
    result: TrainResult
    trained_at_ns: int

    @property
    def model_id(self) -> str:
        return f"{self.result.kind}-{self.result.sha256[:12]}"


class RollingTrainer:
    """Trains ``spec`` on the blocks it is given, inline or in a worker; keeps the latest
    result (``last``) and the latest model that passed its gate (``active``)."""

    def __init__(
        self, spec: TrainSpec, features: tuple[str, ...], *, mode: str, worker: str = "process"
    ) -> None:
        if mode not in ("sync", "background") or worker not in ("process", "thread"):
            raise ValueError(f"bad trainer mode {mode!r} or worker {worker!r}")
        self.spec = spec
        self.features = features
        self.mode = mode
        self.worker = worker
        self.active: ActiveModel | None = None
        self.last: TrainResult | None = None
        self.trainings = 0
        self._pool: cf.Executor | None = None
        self._pending: tuple[cf.Future[TrainResult], int] | None = None

    @property
    def busy(self) -> bool:
        """A background training is under way."""
        return self._pending is not None

    def start(self, blocks: list[Block], now_ns: int) -> bool:
        """Train on ``blocks`` now (sync) or in the worker (background; False if one is
        already running). Returns whether a training was started."""
        if self.mode == "sync":
            result, model = train_window(blocks, self.features, self.spec)
            self._take(result, model, now_ns)
            return True
        if self._pending is not None:
            return False
        if self._pool is None:
            self._pool = (
                cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                if self.worker == "process"
                else cf.ThreadPoolExecutor(1, thread_name_prefix="ml-train")
            )
        future = self._pool.submit(train_payload, blocks, self.features, self.spec)
        self._pending = (future, now_ns)
        return True

    def poll(self) -> TrainResult | None:
        """Swap in a finished background training; the result, or None if none finished."""
        if self._pending is None or not self._pending[0].done():
            return None
        future, started_ns = self._pending
        self._pending = None
        result = future.result()
        self._take(result, revive(result) if result.passed else None, started_ns)
        return result

    def _take(self, result: TrainResult, model: FittedModel | None, now_ns: int) -> None:
        self.trainings += 1
        self.last = result
        if result.passed and model is not None:
            self.active = ActiveModel(model, result, now_ns)
        else:
            self.active = None

    def close(self) -> None:
        """Stop the worker (a running training is abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._pending = None
