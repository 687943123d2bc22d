"""``ml_direction`` and ``ml_ensemble``: machine-learned bots that train on their own past.

Each bar: the symbol's feature row is computed incrementally (``_features``) and kept in
the bot's rolling history. Every ``retrain_every`` bars of the first symbol the bot retrains
on that history (the last ``train_bars`` labelled rows per symbol, purged and embargoed
before a held-out tail of ``test_bars``): inline in a backtest, in a worker live. A model
trades only while it passed its out-of-sample gate and is younger than
``max_model_age_days``; otherwise the bot opens nothing (it still closes what it holds).
With ``model=ID`` (or a name) the bot runs that stored, hash-checked model and never
retrains. Every decision goes to the ``ai_bots`` log with the model id and top features.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stockyard.config import load_settings
from stockyard.obs import get_logger
from stockyard.strategy._bars import BarRow
from stockyard.strategy._base import Strategy
from stockyard.strategy._params import ParameterError, param
from stockyard.strategy.ml._explain import psi_by_feature
from stockyard.strategy.ml._features import SymbolFeatures
from stockyard.strategy.ml._hits import HitRate, HitTracker
from stockyard.strategy.ml._rolling import ActiveModel, RollingTrainer, SymbolHistory
from stockyard.strategy.ml._store import ModelRegistry
from stockyard.strategy.ml._training import Block, TrainResult, TrainSpec

__all__ = ["MlDirection", "MlEnsemble", "ModelStatus"]

_log = get_logger("ai_bots")
_NS_PER_DAY = 86_400 * 10**9
_LIVE_SKEW_NS = 600 * 10**9  # a clock this close to the wall clock is a live one
_CLASSIFIER_KINDS = ("lgbm_classifier", "logistic", "torch_mlp")


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """Whether a bot may open positions, and why: for health checks and the dashboard."""

    strategy_id: str
    state: str  # trading | no_model | gate_failed | expired | pinned
    ok: bool
    message: str
    model_id: str | None
    age_days: float | None


class MlDirection(Strategy):
    """Long (and with ``allow_short`` short) when a classifier's P(up over ``horizon``
    bars) reaches ``threshold``; size ``qty * min(1, 4 * (p - 0.5))`` shares (at least 1;
    the risk engine's limits still apply); a position is held at least ``horizon`` bars
    and closed once the model is no longer as confident in its side.
    """

    name = "ml_direction"
    model_kind: str = param("lgbm_classifier", choices=_CLASSIFIER_KINDS, doc="model family")
    label: str = param("direction", choices=("direction", "triple_barrier"), doc="target")
    horizon: int = param(15, ge=1, doc="bars the label looks ahead (and the minimum hold)")
    dead_band: float = param(0.0005, ge=0, doc="|return| below this is no direction")
    train_bars: int = param(5000, ge=100, doc="training rows per symbol")
    test_bars: int = param(1000, ge=50, doc="held-out rows per symbol for the gate")
    embargo: int = param(15, ge=0, doc="rows dropped after the purge, before the test tail")
    retrain_every: int = param(1000, ge=1, doc="bars of the first symbol between trainings")
    train_stride: int = param(1, ge=1, doc="train on every n-th row (rows overlap anyway)")
    rounds: int = param(100, ge=1, doc="LightGBM boosting rounds")
    min_hit_rate: float = param(0.55, gt=0.5, lt=1.0, doc="out-of-sample gate")
    gate_z: float = param(2.0, ge=0, doc="gate: standard errors above a coin")
    threshold: float = param(0.55, gt=0.5, lt=1.0, doc="P(up) needed to go long")
    qty: int = param(100, ge=1, doc="shares at full confidence")
    allow_short: bool = param(False, doc="also short when P(up) <= 1 - threshold")
    reference: str = param("SPY", doc="symbol for cross-asset features, if traded")
    model: str = param("", doc="stored model id or name to run; empty: train as it goes")
    max_model_age_days: float = param(10.0, gt=0, doc="older models open no positions")
    retrain: str = param("auto", choices=("auto", "sync", "background"), doc="where to train")
    retrain_worker: str = param("process", choices=("process", "thread"), doc="live worker")
    seed: int = param(0, ge=0, doc="model seed")

    def validate(self) -> None:
        if self.test_bars >= self.train_bars:
            raise ParameterError(
                f"{self.name} needs test_bars < train_bars, got {self.test_bars} >= "
                f"{self.train_bars}"
            )

    # -- setup ------------------------------------------------------------------------------

    def member_kinds(self) -> tuple[str, ...]:
        """The model kinds this bot trains (one here; several in ``ml_ensemble``)."""
        return (self.model_kind,)

    def on_start(self) -> None:
        if not self.symbols:
            raise ParameterError(f"{self.name} needs at least one symbol")
        ref = SymbolFeatures(self.reference) if self.reference in self.symbols else None
        self._features: dict[str, SymbolFeatures] = {}
        for symbol in self.symbols:
            made = ref if ref is not None and symbol == self.reference else SymbolFeatures(symbol)
            made.set_reference(ref)
            self._features[symbol] = made
        self._names = self._features[self.symbols[0]].names
        capacity = self.train_bars + self.test_bars + self.horizon + self.embargo + 1
        self._history = {
            s: SymbolHistory(s, capacity=capacity, width=len(self._names)) for s in self.symbols
        }
        self._held: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self._hits = HitTracker(horizon=self.horizon, dead_band=self.dead_band)
        self._lead_bars = 0
        self._drift_base: np.ndarray | None = None
        self.trainings: list[tuple[str, float | None, bool]] = []  # kind, OOS hit rate, gate
        self._expired_said = False
        self._pinned: list[ActiveModel] = []
        self._trainers: list[RollingTrainer] = []
        if self.model:
            self._pinned = [self._load_pinned()]
            return
        mode = self.retrain if self.retrain != "auto" else self._auto_mode()
        for kind in self.member_kinds():
            spec = self._spec(kind)
            self._trainers.append(
                RollingTrainer(spec, self._names, mode=mode, worker=self.retrain_worker)
            )
        _log.info("ml bot started", strategy=self.strategy_id, mode=mode, kinds=self.member_kinds())

    def _spec(self, kind: str) -> TrainSpec:
        return TrainSpec(
            kind=kind,
            label=self.label,
            horizon=self.horizon,
            dead_band=self.dead_band,
            train=self.train_bars,
            test=self.test_bars,
            embargo=self.embargo,
            stride=self.train_stride,
            rounds=self.rounds,
            seed=self.seed,
            min_hit_rate=self.min_hit_rate,
            gate_z=self.gate_z,
        )

    def _auto_mode(self) -> str:
        """``background`` when the clock is the wall clock (live), else ``sync``."""
        skew = abs(time.time_ns() - self._now_ns())
        return "background" if skew < _LIVE_SKEW_NS else "sync"

    def _now_ns(self) -> int:
        moment = self.now
        return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000

    def _load_pinned(self) -> ActiveModel:
        registry = ModelRegistry.under(_data_dir())
        fitted, record = registry.load(self.model)
        if tuple(fitted.features) != self._names:
            raise ParameterError(
                f"model {record.model_id} was trained on features {list(fitted.features)}, "
                f"this bot computes {list(self._names)} (symbols or reference differ)"
            )
        meta = record.meta
        result = TrainResult(
            kind=fitted.kind,
            label=str(meta["label"]),
            features=fitted.features,
            payload=fitted.payload,
            sha256=fitted.sha256,
            symbols=tuple(meta["symbols"]),
            data_start_ns=int(meta["data_start_ns"]),
            data_end_ns=int(meta["data_end_ns"]),
            train_rows=int(meta["train_rows"]),
            test_rows=int(meta["test_rows"]),
            metrics=dict(meta["metrics"]),
            passed=bool(meta["passed_gate"]),
            reason=str(meta["gate"]),
            top_features=tuple(meta["top_features"]),
        )
        _log.info("ml model loaded", strategy=self.strategy_id, model=record.model_id)
        return ActiveModel(fitted, result, int(meta["data_end_ns"]))

    def on_stop(self) -> None:
        for trainer in self._trainers:
            trainer.close()

    # -- the bar --------------------------------------------------------------------------

    def on_bar(self, bar: BarRow) -> None:
        symbol = bar.symbol
        row = self._features[symbol].update(bar)
        self._history[symbol].append(bar, row)
        if self._trainers:
            self._train_if_due(symbol, bar.ts)
        vote = self._vote(row) if row is not None else None
        self._track(bar, vote)
        self._decide(bar, vote)

    def _track(self, bar: BarRow, vote: tuple[float, int, int, list[ActiveModel]] | None) -> None:
        """Remember this bar's prediction for the live hit rate (judged ``horizon`` bars on)."""
        models = self.active_models()
        gates = [m.result.metrics.get("out_of_sample_hit_rate") for m in models]
        known = [g for g in gates if g is not None and not math.isnan(g)]
        expected = sum(known) / len(known) if known else None
        self._hits.models(tuple(m.model_id for m in models), expected)
        self._hits.observe(bar.symbol, bar.close, vote[0] if vote is not None else None)

    def live_hit_rate(self) -> HitRate:
        """How often the current models' direction was right on the bars they scored here,
        beside the hit rate they earned out of sample."""
        tracker: HitTracker | None = getattr(self, "_hits", None)
        if tracker is None:  # not started
            return HitRate(None, 0, None, self.horizon)
        return tracker.rate()

    def _train_if_due(self, symbol: str, ts: int) -> None:
        for trainer in self._trainers:
            done = trainer.poll()
            if done is not None:
                self._said_trained(trainer, done)
        if symbol != self.symbols[0]:
            return
        self._lead_bars += 1
        if self._lead_bars % self.retrain_every:
            return
        blocks = [h.block() for h in self._history.values()]
        self._drift_base = _sample_rows(blocks)
        for trainer in self._trainers:
            if trainer.start(blocks, ts) and trainer.mode == "sync" and trainer.last is not None:
                self._said_trained(trainer, trainer.last)

    def _said_trained(self, trainer: RollingTrainer, result: TrainResult) -> None:
        hit = result.metrics.get("out_of_sample_hit_rate")
        self.trainings.append((trainer.spec.kind, hit, result.passed))
        _log.info(
            "ml model trained",
            strategy=self.strategy_id,
            model=f"{result.kind}-{result.sha256[:12]}" if result.sha256 else None,
            passed=result.passed,
            gate=result.reason,
            train_rows=result.train_rows,
            top_features=list(result.top_features),
        )

    def active_models(self) -> list[ActiveModel]:
        """The models that may trade now (passed their gate; pinned ones always)."""
        if self._pinned:
            return self._pinned
        return [t.active for t in self._trainers if t.active is not None]

    def _vote(self, row: np.ndarray) -> tuple[float, int, int, list[ActiveModel]] | None:
        """(mean P(up), long votes, short votes, models) over the active models."""
        models = self.active_models()
        if not models:
            return None
        probs = [float(m.model.score(row)[0]) for m in models]
        longs = sum(p >= self.threshold for p in probs)
        shorts = sum(p <= 1.0 - self.threshold for p in probs)
        return sum(probs) / len(probs), longs, shorts, models

    def votes_needed(self) -> int:
        """How many models must agree to open a position."""
        return 1

    def _decide(self, bar: BarRow, vote: tuple[float, int, int, list[ActiveModel]] | None) -> None:
        symbol = bar.symbol
        if self.open_orders(symbol):
            return
        held = self.position(symbol)
        if held:
            self._held[symbol] += 1
            if self._held[symbol] < self.horizon:
                return
            p = vote[0] if vote is not None else 0.5
            keep = p >= self.threshold if held > 0 else p <= 1.0 - self.threshold
            if not keep:
                self.close_position(symbol)
                self._say("close", bar, p, vote)
            return
        if vote is None or not self._fresh(bar.ts, vote[3]):
            return
        p, longs, shorts, _ = vote
        size = max(1, round(self.qty * min(1.0, 4.0 * abs(p - 0.5))))
        if longs >= self.votes_needed() and p >= self.threshold:
            self.buy(symbol, size)
        elif self.allow_short and shorts >= self.votes_needed() and p <= 1.0 - self.threshold:
            self.sell(symbol, size)
        else:
            return
        self._held[symbol] = 0
        self._say("buy" if p >= self.threshold else "sell", bar, p, vote, size=size)

    def _fresh(self, now_ns: int, models: list[ActiveModel]) -> bool:
        limit = self.max_model_age_days * _NS_PER_DAY
        stale = [m for m in models if now_ns - m.trained_at_ns > limit]
        if not stale:
            self._expired_said = False
            return True
        if not self._expired_said:
            self._expired_said = True
            _log.warning(
                "ml model expired: opening no positions",
                strategy=self.strategy_id,
                model=stale[0].model_id,
                max_age_days=self.max_model_age_days,
            )
        return False

    def _say(
        self,
        action: str,
        bar: BarRow,
        p: float,
        vote: tuple[float, int, int, list[ActiveModel]] | None,
        *,
        size: int | None = None,
    ) -> None:
        models = vote[3] if vote is not None else []
        _log.info(
            "ml decision",
            strategy=self.strategy_id,
            symbol=bar.symbol,
            action=action,
            p_up=round(p, 4),
            qty=size,
            ts=bar.ts,
            models=[m.model_id for m in models],
            top_features=list(models[0].result.top_features) if models else [],
        )

    # -- health ------------------------------------------------------------------------------

    def model_status(self) -> ModelStatus:
        """Whether this bot may open positions now and why (model age, gate, none yet)."""
        models = self.active_models() if hasattr(self, "_trainers") else []
        if not models:
            last = [t.last for t in getattr(self, "_trainers", []) if t.last is not None]
            if last and not any(r.passed for r in last):
                reason = "; ".join(r.reason for r in last)
                return self._status("gate_failed", False, f"no model passed: {reason}", None, None)
            return self._status("no_model", False, "no model trained yet", None, None)
        now_ns = self._now_ns()
        oldest = min(m.trained_at_ns for m in models)
        age_days = (now_ns - oldest) / _NS_PER_DAY
        model_id = ",".join(m.model_id for m in models)
        if age_days > self.max_model_age_days:
            message = (
                f"model {model_id} is {age_days:.1f} days old (limit "
                f"{self.max_model_age_days:g}): opening no positions"
            )
            return self._status("expired", False, message, model_id, age_days)
        state = "pinned" if self._pinned else "trading"
        return self._status(state, True, f"model {model_id} trading", model_id, age_days)

    def feature_drift(self, *, recent: int = 500) -> dict[str, float]:
        """PSI of each feature over the last ``recent`` bars (all symbols) against the rows
        the latest training saw; empty before the first training."""
        base = getattr(self, "_drift_base", None)
        if base is None or base.shape[0] < 100:
            return {}
        rows = np.vstack([h.recent_rows(recent) for h in self._history.values()])
        if rows.shape[0] < 100:
            return {}
        return psi_by_feature(self._names, base, rows)

    def _status(
        self, state: str, ok: bool, message: str, model_id: str | None, age: float | None
    ) -> ModelStatus:
        shown = None if age is None or math.isnan(age) else round(age, 3)
        return ModelStatus(self.strategy_id, state, ok, message, model_id, shown)


class MlEnsemble(MlDirection):
    """Several models vote: each member kind (``members``) is trained and gated apart; a
    position opens when at least ``min_votes`` active members reach ``threshold`` on the
    same side and their mean P(up) does too. Sizing and holding as in ``ml_direction``.
    """

    name = "ml_ensemble"
    members: str = param("lgbm_classifier,logistic", doc="comma-separated model kinds")
    min_votes: int = param(2, ge=1, doc="members that must agree")

    def validate(self) -> None:
        super().validate()
        kinds = self.member_kinds()
        unknown = [k for k in kinds if k not in _CLASSIFIER_KINDS]
        if not kinds or unknown:
            raise ParameterError(
                f"ml_ensemble members must be of {', '.join(_CLASSIFIER_KINDS)}, got "
                f"{self.members!r}"
            )
        if self.min_votes > len(kinds):
            raise ParameterError(f"min_votes {self.min_votes} > {len(kinds)} members")

    def member_kinds(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.members.split(",") if k.strip())

    def votes_needed(self) -> int:
        return self.min_votes


def _sample_rows(blocks: list[Block], *, most: int = 5000) -> np.ndarray | None:
    """Up to ``most`` feature rows of the blocks, evenly spaced: a drift reference."""
    rows = [b.x[~np.isnan(b.x).any(axis=1)] for b in blocks]
    stacked = np.vstack(rows) if rows else np.empty((0, 0))
    if stacked.shape[0] == 0:
        return None
    step = max(1, stacked.shape[0] // most)
    return np.asarray(stacked[::step])


def _data_dir() -> Path:
    settings = load_settings()
    return settings.data.dir if settings.data.dir is not None else settings.home / "data"
