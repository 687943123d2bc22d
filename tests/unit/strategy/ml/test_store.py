from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stockyard.strategy.ml import (
    Block,
    ModelError,
    ModelIntegrityError,
    ModelRegistry,
    TrainSpec,
    train_window,
)

NAMES = ("%a", "%b")


def _result(seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    ahead = np.concatenate([np.log(close[5:] / close[:-5]), np.zeros(5)])
    x = np.column_stack([ahead + rng.normal(0, 0.001, n), rng.normal(size=n)])
    block = Block(
        symbol="AAPL", ts=np.arange(n, dtype=np.int64), close=close, high=close, low=close, x=x
    )
    spec = TrainSpec(horizon=5, dead_band=0.0, train=1500, test=500, embargo=5, rounds=20)
    result, _ = train_window([block], NAMES, spec)
    return result


def test_a_saved_model_loads_back_after_its_hash_is_checked(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    result = _result()
    assert result.passed, result.reason
    record = registry.save(result, name="ml_direction", params={"horizon": 5}, created_at="t")
    model, loaded = registry.load(record.model_id)
    assert loaded.meta["sha256"] == result.sha256 == model.sha256
    assert loaded.meta["features"] == list(NAMES)
    assert "lightgbm" in loaded.meta["libraries"]
    assert [r.model_id for r in registry.list()] == [record.model_id]
    assert next(iter(loaded.meta["importance"])) == "%a"  # the feature that carries the signal


def test_a_model_file_whose_hash_does_not_match_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    record = registry.save(_result(), name="ml_direction", params={}, created_at="t")
    path = tmp_path / record.model_id / "model.txt"
    path.write_bytes(path.read_bytes().replace(b"shrinkage=", b"shrinkage=0", 1))
    with pytest.raises(ModelIntegrityError, match=r"refused: .* hashes to"):
        registry.load(record.model_id)


def test_promote_pins_a_model_for_its_name_and_remove_guards_it(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    record = registry.save(_result(), name="ml_direction", params={}, created_at="t")
    registry.promote(record.model_id)
    assert registry.resolve("ml_direction") == record.model_id
    assert registry.show("ml_direction").promoted
    with pytest.raises(ModelError, match="--force"):
        registry.remove(record.model_id)
    assert (tmp_path / record.model_id).is_dir()
    registry.remove(record.model_id, force=True)
    assert registry.list() == []
    with pytest.raises(ModelError, match="no model"):
        registry.load("ml_direction")


def test_a_refused_training_is_not_stored(tmp_path: Path) -> None:
    block = Block(
        symbol="AAPL",
        ts=np.arange(10, dtype=np.int64),
        close=np.ones(10),
        high=np.ones(10),
        low=np.ones(10),
        x=np.zeros((10, 2)),
    )
    result, model = train_window([block], NAMES, TrainSpec())
    assert model is None
    assert not result.passed
    with pytest.raises(ModelError, match="nothing to store"):
        ModelRegistry(tmp_path).save(result, name="x", params={}, created_at="t")
