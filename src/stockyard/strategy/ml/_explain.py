"""Explaining and watching a model: feature importances, SHAP values, drift (PSI)."""

from __future__ import annotations

import numpy as np

from stockyard.strategy.ml._models import FittedModel

__all__ = ["feature_importance", "psi", "psi_by_feature", "shap_values"]


def feature_importance(model: FittedModel) -> dict[str, float]:
    """Importance per feature, largest first: LightGBM's total gain, or a linear model's
    |coefficient| on standardised features."""
    gains = model.gain_importance()
    return dict(sorted(gains.items(), key=lambda kv: (-kv[1], kv[0])))


def shap_values(model: FittedModel, rows: np.ndarray) -> np.ndarray:
    """SHAP values per row and feature (LightGBM's exact TreeSHAP, ``pred_contrib``), in
    the model's raw score (log-odds for a classifier); the last column is the expected
    value. Linear models: ``coef * (x - mean)`` on the scaled inputs, the same definition."""
    x = np.atleast_2d(rows)
    if model.kind.startswith("lgbm"):
        out: np.ndarray = np.asarray(model.estimator.predict(x, pred_contrib=True, num_threads=1))
        return out
    scaler, linear = model.estimator[0], model.estimator[-1]
    coef = np.ravel(linear.coef_) / scaler.scale_
    contrib = (x - scaler.mean_) * coef
    base = float(np.ravel(linear.intercept_)[0])
    return np.hstack([contrib, np.full((x.shape[0], 1), base)])


def psi(expected: np.ndarray, actual: np.ndarray, *, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (the training window),
    over ``bins`` quantile bins of ``expected``: below 0.1 stable, 0.1–0.25 some drift,
    above 0.25 a shift. Empty bins get a floor of 1e-4 so the index stays finite."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    e, a = e[np.isfinite(e)], a[np.isfinite(a)]
    if e.size == 0 or a.size == 0:
        raise ValueError("psi needs finite values on both sides")
    edges = np.unique(np.quantile(e, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=edges.size + 1)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1)
    p = np.maximum(e_share / e.size, 1e-4)
    q = np.maximum(a_share / a.size, 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_by_feature(
    names: tuple[str, ...], expected: np.ndarray, actual: np.ndarray, *, bins: int = 10
) -> dict[str, float]:
    """:func:`psi` of each column (feature) of ``actual`` against ``expected``."""
    return {name: psi(expected[:, i], actual[:, i], bins=bins) for i, name in enumerate(names)}
