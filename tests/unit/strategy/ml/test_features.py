from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stockyard.strategy import BarRow
from stockyard.strategy.ml import EMA, FEATURE_NAMES, RSI, SymbolFeatures, feature_matrix

_MIN = 60_000_000_000


def _walk(n: int, seed: int, symbol: str = "AAPL") -> list[BarRow]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    rows = []
    for i, c in enumerate(close):
        rows.append(
            BarRow(
                symbol,
                1_704_205_800_000_000_000 + i * _MIN,
                c,
                c * 1.001,
                c * 0.999,
                c,
                1000.0 + i % 7,
            )
        )
    return rows


def test_names_mark_features_with_a_percent_sign() -> None:
    assert all(name.startswith("%") for name in FEATURE_NAMES)


def test_rows_appear_after_warm_up_and_are_finite() -> None:
    x, index = feature_matrix(_walk(200, 1))
    assert x.shape[1] == len(FEATURE_NAMES)
    assert index[0] == 60  # the 60-bar return needs 61 closes
    assert np.isfinite(x).all()


def test_cross_asset_features_compare_with_the_reference() -> None:
    own, ref = _walk(120, 1), _walk(120, 2, "SPY")
    x, _ = feature_matrix(own, reference=ref)
    features = SymbolFeatures("AAPL")
    assert x.shape[1] == len(features.names) + 2
    expected = math.log(own[-1].close / own[-6].close) - math.log(ref[-1].close / ref[-6].close)
    assert math.isclose(x[-1, -2], expected, rel_tol=1e-12)


def test_ema_and_rsi_match_their_definitions() -> None:
    values = [1.0, 2.0, 3.0, 2.0, 5.0]
    ema = EMA(3)
    out = [ema.update(v) for v in values]
    raw = 1.0
    for v in values[1:]:
        raw += 0.5 * (v - raw)
    assert math.isnan(out[1])
    assert math.isclose(out[-1], raw)
    rsi = RSI(2)
    got = [rsi.update(v) for v in values]
    # changes +1 +1 -1 +3: first average up 1, down 0; then Wilder's smoothing
    up, down = (1.0 * 1 + 0) / 2, (0.0 * 1 + 1) / 2
    up, down = (up * 1 + 3) / 2, (down * 1 + 0) / 2
    assert math.isclose(got[-1], 100 * up / (up + down))


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=61, max_value=250), seed=st.integers(0, 10_000))
def test_changing_bars_after_t_changes_no_feature_at_or_before_t(cut: int, seed: int) -> None:
    rows = _walk(260, 3)
    rng = np.random.default_rng(seed)
    changed = rows[:cut] + [
        r._replace(close=r.close * float(rng.uniform(0.5, 2.0)), volume=float(rng.uniform(1, 1e6)))
        for r in rows[cut:]
    ]
    changed = [r._replace(high=max(r.high, r.close), low=min(r.low, r.close)) for r in changed]
    a, ia = feature_matrix(rows)
    b, ib = feature_matrix(changed)
    keep_a, keep_b = ia < cut, ib < cut
    assert np.array_equal(ia[keep_a], ib[keep_b])
    assert np.array_equal(a[keep_a], b[keep_b])
    removed, ir = feature_matrix(rows[:cut])
    assert np.array_equal(removed, a[keep_a])
    assert np.array_equal(ir, ia[keep_a])


def test_a_bad_bar_gives_no_row() -> None:
    features = SymbolFeatures("AAPL")
    bar = _walk(1, 1)[0]
    assert features.update(bar._replace(close=float("nan"))) is None
