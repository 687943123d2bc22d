"""A bot's own rolling history of feature rows, and the trainer that retrains on it.

In a backtest retraining runs inline (``sync``): the result is the same bits every run.
Live it runs in a worker (``background``: a process pool by default, or a thread) so the
event loop never waits; the finished model is swapped in on the next bar after it is done,
and only if it passed its out-of-sample gate does it trade.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import deque
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
    features were undefined), for training on the bot's own past."""

    __slots__ = ("close", "high", "low", "rows", "symbol", "ts", "width")

    def __init__(self, symbol: str, *, capacity: int, width: int) -> None:
        self.symbol = symbol
        self.width = width
        self.ts: deque[int] = deque(maxlen=capacity)
        self.close: deque[float] = deque(maxlen=capacity)
        self.high: deque[float] = deque(maxlen=capacity)
        self.low: deque[float] = deque(maxlen=capacity)
        self.rows: deque[np.ndarray | None] = deque(maxlen=capacity)

    def append(self, bar: BarRow, row: np.ndarray | None) -> None:
        self.ts.append(bar.ts)
        self.close.append(bar.close)
        self.high.append(bar.high)
        self.low.append(bar.low)
        self.rows.append(row)

    def block(self) -> Block:
        """A copy of the history as arrays (safe to hand to a worker)."""
        nan_row = np.full(self.width, np.nan)
        x = (
            np.vstack([nan_row if r is None else r for r in self.rows])
            if self.rows
            else (np.empty((0, self.width)))
        )
        return Block(
            symbol=self.symbol,
            ts=np.fromiter(self.ts, dtype=np.int64, count=len(self.ts)),
            close=np.fromiter(self.close, dtype=np.float64, count=len(self.close)),
            high=np.fromiter(self.high, dtype=np.float64, count=len(self.high)),
            low=np.fromiter(self.low, dtype=np.float64, count=len(self.low)),
            x=x,
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
