"""``stockyard bench ml``: training time, per-bar inference, and a year's ML backtest.

* ``train_s``: one LightGBM classifier (100 rounds, the bots' parameters, 2 threads) on
  ``rows`` seeded rows × 50 features.
* ``inference_p99_ms``: per bar, what ``ml_direction`` does live on each bar — the
  incremental feature row and the model's score — over 20,000 bars after training.
* ``year_backtest_s``: ``ml_direction`` on the event engine over ``days`` calendar days of
  1-minute synthetic bars (NYSE hours) for 5 symbols, retraining weekly (1,950 bars) on a
  3-month window (24,570 rows a symbol; every ``train_stride``-th row fitted, default all);
  data generation is timed apart (``prepare_s``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from stockyard.backtest import BarData, SymbolBars, backtest, compute_metrics
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource
from stockyard.strategy import BarRow, create_strategy
from stockyard.strategy.ml import MlDirection, SymbolFeatures, fit_model

__all__ = ["run_ml_benchmark"]

_SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "SPY")
_START = datetime(2024, 1, 2, tzinfo=UTC)
_WEEK_BARS = 5 * 390
_QUARTER_ROWS = 63 * 390


def _train_seconds(rows: int, *, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 50)).astype(np.float64)
    y = (x[:, 0] + x[:, 1] * 0.5 + rng.normal(size=rows) > 0).astype(np.float64)
    names = tuple(f"%f{i}" for i in range(50))
    started = time.perf_counter()
    fit_model("lgbm_classifier", x, y, features=names, seed=seed, params={"num_threads": 2})
    return time.perf_counter() - started


def _inference_p99_ms(data: BarData) -> float:
    """Feature row + score per bar, timed on up to 20,000 bars of one symbol after a model
    was trained on the bars before them."""
    series = data.symbols[0]
    split = min(20_000, len(series) // 2)
    features = SymbolFeatures(series.symbol)
    usable = []
    for i in range(split):
        row = features.update(_bar(series, i))
        if row is not None:
            usable.append((i, row))
    x = np.vstack([r for _i, r in usable])
    close = series.close
    ahead = np.array([close[min(i + 15, split - 1)] > close[i] for i, _r in usable])
    model = fit_model("lgbm_classifier", x, ahead.astype(np.float64), features=features.names)
    timings = []
    for i in range(split, min(len(series), 2 * split)):
        bar = _bar(series, i)
        started = time.perf_counter()
        row = features.update(bar)
        if row is not None:
            model.score(row)
        timings.append(time.perf_counter() - started)
    return float(np.percentile(timings, 99) * 1000.0)


def _bar(series: SymbolBars, i: int) -> BarRow:
    from_row = (series.symbol, int(series.ts[i]), float(series.open[i]), float(series.high[i]))
    rest = (float(series.low[i]), float(series.close[i]), float(series.volume[i]))
    return BarRow(*from_row, *rest)


def run_ml_benchmark(
    *, rows: int = 1_000_000, days: int = 365, train_stride: int = 1
) -> dict[str, Any]:
    """The figures of ``stockyard bench ml`` (see the module doc)."""
    train_s = _train_seconds(rows)
    started = time.perf_counter()
    tables = SyntheticSource(seed=1).get_bars(
        _SYMBOLS, Timeframe.MINUTE, _START, _START + timedelta(days=days)
    )
    data = BarData.from_tables(tables, timeframe=Timeframe.MINUTE)
    prepare_s = time.perf_counter() - started
    inference = _inference_p99_ms(data)
    bot = create_strategy(
        "ml_direction",
        symbols=_SYMBOLS,
        params={
            "train_bars": _QUARTER_ROWS,
            "test_bars": 2000,
            "retrain_every": _WEEK_BARS,
            "retrain": "sync",
            "train_stride": train_stride,
        },
    )
    assert isinstance(bot, MlDirection)
    started = time.perf_counter()
    results = backtest(data, [bot])
    year_s = time.perf_counter() - started
    metrics = compute_metrics(results)
    bars = sum(len(s) for s in data.symbols)
    return {
        "train_s": round(train_s, 2),
        "train_rows": rows,
        "train_features": 50,
        "inference_p99_ms": round(inference, 4),
        "year_backtest_s": round(year_s, 1),
        "backtest_bars": bars,
        "backtest_symbols": len(data.symbols),
        "train_stride": train_stride,
        "retrainings": len(bot.trainings),
        "gate_passed": sum(1 for _k, _h, ok in bot.trainings if ok),
        "trades": metrics.num_trades,
        "prepare_s": round(prepare_s, 1),
    }
