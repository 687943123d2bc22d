"""Models: LightGBM (classifier, regressor) and scikit-learn linear baselines, seeded.

Every model is fitted on the training rows only (the linear ones with a ``StandardScaler``
inside the pipeline, so the scaler too sees only the training window) and stored in a
format that executes no code on load: LightGBM's own model text, ``skops`` for
scikit-learn. :meth:`FittedModel.score` is the probability of "up" for a classifier and
the predicted forward return for a regressor.

LightGBM, scikit-learn and skops take seconds to import; they are imported on first use
(``_lib``) so that importing the strategy package (every CLI command, every bot) stays
fast. That is the only reason for the deferred import.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from stockyard.resilience import ValidationError
from stockyard.strategy.ml._torch import (
    TORCH_KIND,
    mlp_bytes,
    mlp_from_bytes,
    mlp_score,
    train_mlp,
)

__all__ = [
    "MODEL_KINDS",
    "FittedModel",
    "ModelError",
    "fit_model",
    "library_versions",
    "load_model",
]

MODEL_KINDS = ("lgbm_classifier", "lgbm_regressor", "logistic", "ridge", TORCH_KIND)
_CLASSIFIERS = frozenset({"lgbm_classifier", "logistic", TORCH_KIND})
_LGBM = frozenset({"lgbm_classifier", "lgbm_regressor"})


class ModelError(ValidationError):
    """A model cannot be made, stored or loaded as asked; the message says why."""


def _lib(name: str) -> ModuleType:
    """Import a heavy library on first use (see the module docstring)."""
    return importlib.import_module(name)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on (stored with every model)."""
    out = {"numpy": np.__version__}
    for name in ("lightgbm", "sklearn", "skops"):
        out[name] = str(getattr(_lib(name), "__version__", "?"))
    return out


def is_classifier(kind: str) -> bool:
    """Whether ``kind`` predicts a probability of "up" (else a forward return)."""
    return kind in _CLASSIFIERS


@dataclass(slots=True)
class FittedModel:
    """A fitted model of ``kind`` and its bytes (what is stored and hashed)."""

    kind: str
    features: tuple[str, ...]
    payload: bytes
    estimator: Any = field(repr=False)
    _linear: tuple[np.ndarray, np.ndarray, float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in _LGBM and self.kind != TORCH_KIND:
            # A pipeline's predict costs ~300 µs a row; the same arithmetic on arrays ~5 µs.
            scaler, model = self.estimator[0], self.estimator[-1]
            coef = np.ravel(model.coef_) / scaler.scale_
            intercept = float(np.ravel(model.intercept_)[0]) - float(coef @ scaler.mean_)
            self._linear = (coef, scaler.mean_, intercept)

    @property
    def format(self) -> str:
        """``lightgbm`` (model text), ``npz`` (torch_mlp's weights) or ``skops``."""
        if self.kind == TORCH_KIND:
            return "npz"
        return "lightgbm" if self.kind in _LGBM else "skops"

    @property
    def sha256(self) -> str:
        """The content hash of :attr:`payload`."""
        return hashlib.sha256(self.payload).hexdigest()

    @property
    def classifier(self) -> bool:
        return is_classifier(self.kind)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """P(up) per row for a classifier, the predicted forward return for a regressor."""
        x = np.atleast_2d(rows)
        if self.kind == TORCH_KIND:
            return mlp_score(self.estimator, x)
        if self._linear is None:
            return np.asarray(self.estimator.predict(x, num_threads=1), dtype=np.float64)
        coef, _mean, intercept = self._linear
        z = x @ coef + intercept
        if self.classifier:
            return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)
        return np.asarray(z, dtype=np.float64)

    def gain_importance(self) -> dict[str, float]:
        """Total gain per feature (LightGBM), or |coefficient| on the scaled features."""
        if self.kind in _LGBM:
            gains = self.estimator.feature_importance(importance_type="gain")
        elif self.kind == TORCH_KIND:  # mean |first-layer weight| on standardised inputs
            gains = np.abs(self.estimator["w1"]).mean(axis=0)
        else:
            gains = np.abs(np.ravel(self.estimator[-1].coef_))
        return {name: float(g) for name, g in zip(self.features, gains, strict=True)}


def _lgbm_params(kind: str, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = {
        "objective": "binary" if kind == "lgbm_classifier" else "regression",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "max_bin": 63,
        "verbosity": -1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
    }
    made.update(params)
    return made


def fit_model(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    features: tuple[str, ...],
    seed: int = 0,
    rounds: int = 100,
    params: dict[str, Any] | None = None,
) -> FittedModel:
    """Fit a model of ``kind`` on rows ``x`` and labels ``y`` (0/1 for classifiers)."""
    if kind not in MODEL_KINDS:
        raise ModelError(f"unknown model kind {kind!r} (known: {', '.join(MODEL_KINDS)})")
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(features):
        raise ModelError(f"rows {x.shape} do not match labels {y.shape} and {len(features)} names")
    if x.shape[0] < 10:
        raise ModelError(f"too few rows to fit a model: {x.shape[0]}")
    if is_classifier(kind) and np.unique(y).size < 2:
        raise ModelError("the labels have one class only; nothing to learn")
    if kind == TORCH_KIND:
        try:
            weights = train_mlp(x, y, seed=seed, **(params or {}))
        except ImportError as exc:
            raise ModelError(str(exc)) from exc
        return FittedModel(kind, features, mlp_bytes(weights), weights)
    if kind in _LGBM:
        lgb = _lib("lightgbm")
        data = lgb.Dataset(x, label=y, feature_name=list(_safe_names(features)), free_raw_data=True)
        booster = lgb.train(_lgbm_params(kind, seed, params or {}), data, num_boost_round=rounds)
        payload = booster.model_to_string().encode()
        return FittedModel(kind, features, payload, booster)
    pipeline = _lib("sklearn.pipeline")
    linear = _lib("sklearn.linear_model")
    scale = _lib("sklearn.preprocessing").StandardScaler()
    if kind == "logistic":
        model = linear.LogisticRegression(C=float((params or {}).get("C", 1.0)), max_iter=500)
    else:
        model = linear.Ridge(alpha=float((params or {}).get("alpha", 1.0)), random_state=seed)
    fitted = pipeline.make_pipeline(scale, model).fit(x, y)
    return FittedModel(kind, features, _skops_bytes(fitted), fitted)


def _safe_names(features: tuple[str, ...]) -> list[str]:
    """LightGBM refuses some characters in feature names; ``%`` and ``&`` are kept apart."""
    return [f.replace("%", "f_").replace("&", "t_") for f in features]


def _skops_bytes(estimator: object) -> bytes:
    """skops' archive made reproducible: its array files are named by object id and
    stamped with the time; here they are renumbered in archive order (and the schema's
    references with them) and stamped 1980-01-01, so the same model gives the same bytes."""
    data: bytes = _lib("skops.io").dumps(estimator)
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    renames = {
        name: f"{i}{name[name.rfind('.') :]}"
        for i, (name, _) in enumerate(entries)
        if name != "schema.json"
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name, raw in entries:
            body = raw
            if name == "schema.json":
                text = raw.decode()
                for old, new in renames.items():
                    text = text.replace(f'"{old}"', f'"{new}"')
                body = _renumber_ids(text).encode()
            fixed = zipfile.ZipInfo(renames.get(name, name), date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def _renumber_ids(schema: str) -> str:
    """skops' ``__id__`` fields (object ids, for shared references) as 1, 2, 3, ... in
    order of first appearance: the same references, reproducible numbers."""
    seen: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f'"__id__": {seen.setdefault(match.group(1), len(seen) + 1)}'

    return re.sub(r'"__id__": (\d+)', number, schema)


_TRUSTED_PREFIXES = ("sklearn.", "numpy.")


def load_model(kind: str, payload: bytes, *, features: tuple[str, ...]) -> FittedModel:
    """A model from its stored bytes. LightGBM text is parsed; a skops file is loaded with
    only scikit-learn and numpy types trusted (anything else is refused)."""
    if kind not in MODEL_KINDS:
        raise ModelError(f"unknown model kind {kind!r} (known: {', '.join(MODEL_KINDS)})")
    if kind == TORCH_KIND:
        try:
            weights = mlp_from_bytes(payload)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ModelError(f"not a torch_mlp weights file: {exc}") from exc
        if weights["w1"].shape[1] != len(features):
            raise ModelError(
                f"model has {weights['w1'].shape[1]} inputs, metadata names {len(features)}"
            )
        return FittedModel(kind, features, payload, weights)
    if kind in _LGBM:
        try:
            booster = _lib("lightgbm").Booster(model_str=payload.decode())
        except Exception as exc:  # LightGBM raises its own LightGBMError on bad text
            raise ModelError(f"not a LightGBM model: {exc}") from exc
        if booster.num_feature() != len(features):
            raise ModelError(
                f"model has {booster.num_feature()} features, metadata names {len(features)}"
            )
        return FittedModel(kind, features, payload, booster)
    sio = _lib("skops.io")
    try:
        untrusted = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # a corrupt archive raises zipfile/json errors
        raise ModelError(f"not a skops model: {exc}") from exc
    refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if refused:
        raise ModelError(f"skops model holds types that are not trusted: {', '.join(refused)}")
    estimator = sio.load(io.BytesIO(payload), trusted=untrusted)
    if not isinstance(estimator, _lib("sklearn.pipeline").Pipeline):
        raise ModelError(
            f"skops model is a {type(estimator).__name__}, not a scikit-learn pipeline"
        )
    return FittedModel(kind, features, payload, estimator)
