"""The optional torch model (``make test-torch``): deterministic, learns, stores as arrays,
and trains inside a backtest like the other kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.unit.strategy.ml.conftest import SMALL, SYMBOLS, bars, costly

import torch
from stockyard.backtest import backtest, compute_metrics
from stockyard.strategy import create_strategy
from stockyard.strategy.ml import (
    Block,
    ModelRegistry,
    TrainSpec,
    fit_model,
    load_model,
    train_window,
)
from stockyard.strategy.ml._torch import torch_device

NAMES = ("%a", "%b", "%c")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, 3))
    y = (x[:, 0] - x[:, 1] + 0.5 * rng.normal(size=3000) > 0).astype(float)
    return x, y


def test_it_trains_on_the_gpu_when_there_is_one_else_the_cpu() -> None:
    assert torch_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_same_data_and_seed_give_the_same_weights_and_it_learns() -> None:
    x, y = _data()
    a = fit_model("torch_mlp", x, y, features=NAMES, seed=1, params={"epochs": 10})
    b = fit_model("torch_mlp", x, y, features=NAMES, seed=1, params={"epochs": 10})
    assert a.sha256 == b.sha256
    assert np.mean((a.score(x) > 0.5) == (y > 0.5)) > 0.8
    again = load_model("torch_mlp", a.payload, features=NAMES)
    np.testing.assert_allclose(again.score(x[:20]), a.score(x[:20]))


def test_a_torch_model_is_stored_as_arrays_and_hash_checked(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    ahead = np.concatenate([np.log(close[5:] / close[:-5]), np.zeros(5)])
    x = np.column_stack([ahead + rng.normal(0, 0.001, n), rng.normal(size=n), rng.normal(size=n)])
    ts = np.arange(n, dtype=np.int64)
    block = Block(symbol="AAPL", ts=ts, close=close, high=close, low=close, x=x)
    spec = TrainSpec(kind="torch_mlp", horizon=5, dead_band=0.0, train=1500, test=500, embargo=5)
    result, _ = train_window([block], NAMES, spec)
    assert result.passed, result.reason
    registry = ModelRegistry(tmp_path)
    record = registry.save(result, name="mlp", params={}, created_at="t")
    assert record.meta["format"] == "npz"
    model, _ = registry.load(record.model_id)
    assert model.sha256 == result.sha256


def test_ml_direction_trains_a_torch_model_as_it_goes() -> None:
    bot = create_strategy(
        "ml_direction", symbols=SYMBOLS, params={**SMALL, "model_kind": "torch_mlp"}
    )
    metrics = compute_metrics(backtest(bars(planted=True), [bot], costly()))
    hits = [hit for _k, hit, _p in bot.trainings if hit is not None]  # type: ignore[attr-defined]
    assert float(np.mean(hits)) >= 0.55
    assert metrics.num_trades > 0
