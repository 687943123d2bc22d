from __future__ import annotations

import numpy as np

from stockyard.strategy.ml import psi, psi_by_feature


def test_psi_is_near_zero_for_the_same_population_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=20_000)
    assert psi(base, rng.normal(size=20_000)) < 0.01
    assert psi(base, rng.normal(1.0, 1.0, size=20_000)) > 0.25


def test_psi_by_feature_names_each_column() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5000, 2))
    b = np.column_stack([rng.normal(size=5000), rng.normal(2.0, 1.0, size=5000)])
    out = psi_by_feature(("%x", "%y"), a, b)
    assert out["%x"] < 0.02
    assert out["%y"] > 0.25
