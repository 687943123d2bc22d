"""The benchmarks (floor 7, beside the faces, under the CLI): each ``run_*_benchmark``
measures one part and returns its figures as a JSON-ready dict; ``stockyard bench NAME
--json`` prints them (the command modules live in ``cli``).

One private module per benchmark. A name is imported when first used, so a benchmark
loads only the layers it measures (``stockyard bench oms`` does not import the API, the
sandbox or Dask); a type checker sees the plain imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stockyard.bench._backtest import run_backtest_benchmark
    from stockyard.bench._bus import run_bus_benchmark
    from stockyard.bench._data import run_data_benchmark
    from stockyard.bench._frozen import run_frozen_benchmark
    from stockyard.bench._health import run_health_benchmark
    from stockyard.bench._logging import run_logging_benchmark
    from stockyard.bench._montecarlo import run_montecarlo_benchmark
    from stockyard.bench._node import BENCH_SYMBOLS, BenchVenue, run_node_benchmark
    from stockyard.bench._oms import run_oms_benchmark
    from stockyard.bench._runner import run_runner_benchmark
    from stockyard.bench._sandbox import run_sandbox_benchmark
    from stockyard.bench._soak import run_soak_benchmark
    from stockyard.bench._store import run_store_benchmark
    from stockyard.bench._sweep import run_sweep_benchmark
    from stockyard.bench._walkforward import run_walkforward_benchmark

_HOMES = {
    "BENCH_SYMBOLS": "_node",
    "BenchVenue": "_node",
    "run_backtest_benchmark": "_backtest",
    "run_bus_benchmark": "_bus",
    "run_data_benchmark": "_data",
    "run_frozen_benchmark": "_frozen",
    "run_health_benchmark": "_health",
    "run_logging_benchmark": "_logging",
    "run_montecarlo_benchmark": "_montecarlo",
    "run_node_benchmark": "_node",
    "run_oms_benchmark": "_oms",
    "run_runner_benchmark": "_runner",
    "run_sandbox_benchmark": "_sandbox",
    "run_soak_benchmark": "_soak",
    "run_store_benchmark": "_store",
    "run_sweep_benchmark": "_sweep",
    "run_walkforward_benchmark": "_walkforward",
}

__all__ = [
    "BENCH_SYMBOLS",
    "BenchVenue",
    "run_backtest_benchmark",
    "run_bus_benchmark",
    "run_data_benchmark",
    "run_frozen_benchmark",
    "run_health_benchmark",
    "run_logging_benchmark",
    "run_montecarlo_benchmark",
    "run_node_benchmark",
    "run_oms_benchmark",
    "run_runner_benchmark",
    "run_sandbox_benchmark",
    "run_soak_benchmark",
    "run_store_benchmark",
    "run_sweep_benchmark",
    "run_walkforward_benchmark",
]


def __getattr__(name: str) -> object:
    """Import the benchmark module that defines ``name`` (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
