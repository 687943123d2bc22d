"""Training on a window of past rows: purged split, fit, out-of-sample gate.

:func:`train_window` is a pure function of its arguments (arrays in, a
:class:`TrainResult` out, no clock, no I/O), so it runs the same inline in a backtest, in a
worker process live, and in ``stockyard ml train``. A model is fitted on the training rows
only and judged on the held-out tail; it may trade only if its out-of-sample hit rate
reaches ``min_hit_rate`` on at least ``min_test_rows`` rows and beats a coin by ``gate_z``
standard errors counting ``test_rows / horizon`` independent outcomes (the gate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from stockyard.strategy.ml._labels import direction, forward_return, make_labels, purged_split
from stockyard.strategy.ml._models import (
    FittedModel,
    ModelError,
    fit_model,
    is_classifier,
    load_model,
)

__all__ = ["Block", "TrainResult", "TrainSpec", "train_payload", "train_window"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainSpec:
    """How to train: model kind, label, horizon, window sizes (rows per symbol), gate."""

    kind: str = "lgbm_classifier"
    label: str = "direction"
    horizon: int = 15
    dead_band: float = 0.0005
    train: int = 5000
    test: int = 1000
    embargo: int = 15
    stride: int = 1
    rounds: int = 100
    seed: int = 0
    min_hit_rate: float = 0.55
    min_test_rows: int = 200
    gate_z: float = 2.0
    threads: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One symbol's consecutive bars: times, prices and the feature row of each bar (NaN
    rows where features were undefined)."""

    symbol: str
    ts: np.ndarray
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    x: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainResult:
    """A trained model's bytes and pedigree: rows, data range, metrics, the gate's verdict."""

    kind: str
    label: str
    features: tuple[str, ...]
    payload: bytes
    sha256: str
    symbols: tuple[str, ...]
    data_start_ns: int
    data_end_ns: int
    train_rows: int
    test_rows: int
    metrics: dict[str, float]
    passed: bool
    reason: str
    top_features: tuple[str, ...] = field(default=())
    importance: dict[str, float] = field(default_factory=dict)


_IN_SAMPLE_ROWS = 20_000  # about how many training rows the in-sample hit rate is judged on


def _hit_rate(model: FittedModel, x: np.ndarray, truth: np.ndarray) -> float:
    """Share of rows (with a known direction) whose predicted direction was right."""
    known = ~np.isnan(truth)
    if not known.any():
        return float("nan")
    score = model.score(x[known])
    guess = score > 0.5 if model.classifier else score > 0.0
    return float(np.mean(guess == (truth[known] > 0.5)))


def _split_rows(
    blocks: Sequence[Block], spec: TrainSpec
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray], list[int]]:
    """Per block: train rows and targets, test rows and true directions (purged split)."""
    train_x, train_y, test_x, test_d, ends = [], [], [], [], []
    for b in blocks:
        if is_classifier(spec.kind):
            target = make_labels(
                spec.label,
                close=b.close,
                high=b.high,
                low=b.low,
                horizon=spec.horizon,
                dead_band=spec.dead_band,
            )
        else:
            target = forward_return(b.close, spec.horizon)
        truth = direction(b.close, spec.horizon, spec.dead_band)
        known = b.close.size - spec.horizon  # rows whose label has been seen
        split = purged_split(
            known, horizon=spec.horizon, train=spec.train, test=spec.test, embargo=spec.embargo
        )
        if split is None:
            continue
        rows = np.arange(split.train_start, split.train_end, spec.stride)
        ok = ~np.isnan(target[rows]) & ~np.isnan(b.x[rows]).any(axis=1)
        train_x.append(b.x[rows[ok]])
        train_y.append(target[rows[ok]])
        test = slice(split.test_start, split.test_end)
        good = ~np.isnan(b.x[test]).any(axis=1)
        test_x.append(b.x[test][good])
        test_d.append(truth[test][good])
        ends.append(split.test_end)
    return train_x, train_y, test_x, test_d, ends


def train_window(
    blocks: Sequence[Block], features: tuple[str, ...], spec: TrainSpec
) -> tuple[TrainResult, FittedModel | None]:
    """Fit on each block's training rows (pooled), judge on their held-out tails."""
    train_x, train_y, test_x, test_d, _ = _split_rows(blocks, spec)
    start = min((int(b.ts[0]) for b in blocks if b.ts.size), default=0)
    end = max((int(b.ts[-1]) for b in blocks if b.ts.size), default=0)
    base = {
        "kind": spec.kind,
        "label": spec.label,
        "features": features,
        "symbols": tuple(b.symbol for b in blocks),
        "data_start_ns": start,
        "data_end_ns": end,
    }
    if not train_x:
        return _refused(base, "not enough history for a purged split yet"), None
    x, y = np.vstack(train_x), np.concatenate(train_y)
    tx, td = np.vstack(test_x), np.concatenate(test_d)
    try:
        model = fit_model(
            spec.kind,
            x,
            y,
            features=features,
            seed=spec.seed,
            rounds=spec.rounds,
            params=_fit_params(spec),
        )
    except ModelError as exc:
        return _refused(base, str(exc), train_rows=len(y)), None
    truth_in = y if is_classifier(spec.kind) else np.where(y > 0, 1.0, 0.0)
    # in sample, evenly spaced rows suffice (neighbours overlap): scoring them all was a
    # fifth of a training's time
    step = max(1, len(y) // _IN_SAMPLE_ROWS)
    in_hit = _hit_rate(model, x[::step], truth_in[::step])
    out_hit = _hit_rate(model, tx, td)
    test_rows = int((~np.isnan(td)).sum())
    # Labels of neighbouring rows overlap by up to ``horizon`` bars, so the test tail holds
    # about test_rows / horizon independent outcomes: the hit rate must also clear chance
    # by ``gate_z`` standard errors of that many coin flips.
    independent = max(1.0, test_rows / spec.horizon)
    significant = out_hit - 0.5 >= spec.gate_z * 0.5 / float(np.sqrt(independent))
    passed = test_rows >= spec.min_test_rows and out_hit >= spec.min_hit_rate and significant
    needed = max(spec.min_hit_rate, 0.5 + spec.gate_z * 0.5 / float(np.sqrt(independent)))
    reason = (
        f"out-of-sample hit rate {out_hit:.3f} on {test_rows} rows"
        f" {'passes' if passed else 'fails'} the gate of {needed:.3f} (at least"
        f" {spec.min_hit_rate:.3f} and {spec.gate_z:g} standard errors above a coin)"
    )
    if test_rows < spec.min_test_rows:
        reason = f"only {test_rows} out-of-sample rows (gate needs {spec.min_test_rows})"
    gains = model.gain_importance()
    top = tuple(sorted(gains, key=lambda k: (-gains[k], k))[:3])
    result = TrainResult(
        **base,  # type: ignore[arg-type]  # the keys above are TrainResult's own fields
        payload=model.payload,
        sha256=model.sha256,
        train_rows=len(y),
        test_rows=test_rows,
        metrics={"in_sample_hit_rate": in_hit, "out_of_sample_hit_rate": out_hit},
        passed=passed,
        reason=reason,
        top_features=top,
        importance={k: gains[k] for k in sorted(gains, key=lambda k: (-gains[k], k))},
    )
    return result, model


def _fit_params(spec: TrainSpec) -> dict[str, int] | None:
    if spec.kind.startswith("lgbm"):
        return {"num_threads": spec.threads}
    if spec.kind == "torch_mlp":
        return {"epochs": min(spec.rounds, 30)}
    return None


def _refused(base: dict[str, object], reason: str, *, train_rows: int = 0) -> TrainResult:
    return TrainResult(
        **base,  # type: ignore[arg-type]  # the keys are TrainResult's own fields
        payload=b"",
        sha256="",
        train_rows=train_rows,
        test_rows=0,
        metrics={},
        passed=False,
        reason=reason,
    )


def train_payload(
    blocks: Sequence[Block], features: tuple[str, ...], spec: TrainSpec
) -> TrainResult:
    """:func:`train_window` without the live model object: what a worker process returns
    (the caller rebuilds the model from the bytes with :func:`revive`)."""
    return train_window(blocks, features, spec)[0]


def revive(result: TrainResult) -> FittedModel | None:
    """The model of a result made in a worker (None when training was refused)."""
    if not result.payload:
        return None
    return load_model(result.kind, result.payload, features=result.features)
