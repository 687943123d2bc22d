from __future__ import annotations

import numpy as np
import pytest
import skops.io  # type: ignore[import-untyped]  # skops ships no type hints

from stockyard.strategy.ml import ModelError, fit_model, load_model, shap_values

NAMES = ("%a", "%b", "%c")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1500, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=1500) > 0).astype(float)
    return x, y


@pytest.mark.parametrize("kind", ["lgbm_classifier", "lgbm_regressor", "logistic", "ridge"])
def test_the_same_data_and_seed_give_the_same_model_bytes(kind: str) -> None:
    x, y = _data()
    a = fit_model(kind, x, y, features=NAMES, seed=3, rounds=20)
    b = fit_model(kind, x, y, features=NAMES, seed=3, rounds=20)
    assert a.sha256 == b.sha256


@pytest.mark.parametrize("kind", ["lgbm_classifier", "logistic"])
def test_a_stored_model_scores_as_the_fitted_one_and_learns_the_signal(kind: str) -> None:
    x, y = _data()
    model = fit_model(kind, x, y, features=NAMES, rounds=30)
    again = load_model(kind, model.payload, features=NAMES)
    np.testing.assert_allclose(again.score(x[:50]), model.score(x[:50]))
    hit = np.mean((model.score(x) > 0.5) == (y > 0.5))
    assert hit > 0.8
    top = max(model.gain_importance().items(), key=lambda kv: kv[1])[0]
    assert top == "%a"


def test_shap_values_add_up_to_the_raw_score() -> None:
    x, y = _data()
    model = fit_model("lgbm_classifier", x, y, features=NAMES, rounds=20)
    contrib = shap_values(model, x[:5])
    raw = model.estimator.predict(x[:5], raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, rtol=1e-6)


def test_a_one_class_label_and_an_unknown_kind_are_refused() -> None:
    x, _ = _data()
    with pytest.raises(ModelError, match="one class"):
        fit_model("logistic", x, np.ones(len(x)), features=NAMES)
    with pytest.raises(ModelError, match="unknown model kind"):
        fit_model("deep_magic", x, np.ones(len(x)), features=NAMES)


def test_a_skops_file_that_is_not_a_pipeline_or_not_skops_is_refused() -> None:
    payload = skops.io.dumps({"x": np.arange(3)})
    with pytest.raises(ModelError, match="not a scikit-learn pipeline"):
        load_model("logistic", payload, features=NAMES)
    with pytest.raises(ModelError, match="not a skops model"):
        load_model("logistic", b"garbage", features=NAMES)
