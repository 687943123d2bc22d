"""The Model service over a registry holding a model trained on a small seeded set."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from stockyard.services import ModelService, ServiceError
from stockyard.strategy.ml import Block, ModelRegistry, TrainSpec, train_window

NAMES = ("%signal", "%noise")


def stored_model(registry: ModelRegistry, *, promote: bool = False) -> str:
    """Train a tiny LightGBM model on a planted signal, store it; its id."""
    rng = np.random.default_rng(3)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    ahead = np.concatenate([np.log(close[5:] / close[:-5]), np.zeros(5)])
    x = np.column_stack([ahead + rng.normal(0, 0.001, n), rng.normal(size=n)])
    ts = np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_704_200_000_000_000_000
    block = Block(symbol="AAPL", ts=ts, close=close, high=close, low=close, x=x)
    spec = TrainSpec(horizon=5, dead_band=0.0, train=1500, test=500, embargo=5, rounds=20)
    result, _ = train_window([block], NAMES, spec)
    record = registry.save(
        result, name="ml_direction", params={"horizon": 5}, created_at="2024-01-02T00:00:00Z"
    )
    if promote:
        registry.promote(record.model_id)
    return record.model_id


def test_list_answers_each_model_with_its_data_range_metrics_pin_and_hash(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    model_id = stored_model(registry, promote=True)
    [view] = asyncio.run(ModelService(registry).models())
    assert view.id == model_id
    assert view.name == "ml_direction"
    assert view.symbols == ["AAPL"]
    assert view.promoted is True
    assert view.data_start < view.data_end
    assert set(view.in_sample) == {"hit_rate"}
    assert set(view.out_of_sample) == {"hit_rate"}
    assert 0.5 < view.out_of_sample["hit_rate"] <= 1.0
    assert view.sha256 == registry.show(model_id).meta["sha256"]


def test_get_answers_the_top_importances_and_resolves_a_name_to_its_pin(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    model_id = stored_model(registry, promote=True)
    service = ModelService(registry)
    detail = asyncio.run(service.model(model_id))
    assert detail.importance[0].feature == "%signal"  # the feature that carries the signal
    assert [w.importance for w in detail.importance] == sorted(
        (w.importance for w in detail.importance), reverse=True
    )
    assert detail.features == list(NAMES)
    assert detail.params == {"horizon": 5}
    assert "lightgbm" in detail.libraries
    assert asyncio.run(service.model("ml_direction")).id == model_id
    assert len(asyncio.run(service.model(model_id, top=1)).importance) == 1


def test_an_empty_registry_lists_nothing(tmp_path: Path) -> None:
    assert asyncio.run(ModelService.under(tmp_path).models()) == []


@pytest.mark.parametrize("bad", ["nope-000000000000", "../models", "A/B", ""])
def test_an_unknown_or_malformed_id_is_a_404_that_names_no_server_path(
    tmp_path: Path, bad: str
) -> None:
    registry = ModelRegistry(tmp_path / "models")
    stored_model(registry)
    with pytest.raises(ServiceError) as caught:
        asyncio.run(ModelService(registry).model(bad))
    assert (caught.value.code, caught.value.status) == ("unknown_model", 404)
    assert str(tmp_path) not in caught.value.message
