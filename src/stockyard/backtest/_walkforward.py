"""Walk-forward optimisation on the event engine.

The bars' timeline (distinct timestamps) is cut into windows of ``train`` bars followed by
``test`` bars, moved ``step`` bars at a time; ``anchored`` windows all train from the
first bar. In each window every parameter set is backtested on the train part and the best
by ``objective`` (ties: the first in grid order) is backtested on the test part, out of
sample. Each test run starts flat with the starting cash and cold indicators. The
out-of-sample equity is the test runs' returns chained; the walk-forward efficiency is the
mean out-of-sample objective over the mean in-sample one. Runs go through a ``Pool``
(in process, local processes or Dask): the same answer whichever runs them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from stockyard.backtest._cluster import InlinePool, Pool
from stockyard.backtest._engine import BacktestConfig
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._engine_run import backtest
from stockyard.backtest._results import EquityCurve, Results, iso_from_ns
from stockyard.backtest.metrics import Metrics, compute_metrics
from stockyard.strategy import ParameterError, create_strategy

__all__ = [
    "OBJECTIVES",
    "Job",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "evaluate",
    "grid",
    "walk_forward",
    "windows",
]

OBJECTIVES = tuple(
    name
    for name in Metrics.__dataclass_fields__
    if name not in ("starting_cash", "periods", "periods_per_year", "years", "num_orders")
)
ParamSet = dict[str, str | int | float]


@dataclass(frozen=True, slots=True)
class Window:
    """Bar indexes on the timeline: train ``[train_start, train_end)``, test
    ``[train_end, test_end)``."""

    index: int
    train_start: int
    train_end: int
    test_end: int


def windows(
    bars: int, *, train: int, test: int, step: int | None = None, anchored: bool = False
) -> list[Window]:
    """Every full window over ``bars`` timeline bars (``step`` defaults to ``test``)."""
    step = test if step is None else step
    if train < 2 or test < 1 or step < 1:
        raise ValueError(f"need train >= 2, test >= 1, step >= 1; got {train}, {test}, {step}")
    out: list[Window] = []
    start = 0
    while start + train + test <= bars:
        first = 0 if anchored else start
        out.append(Window(len(out), first, start + train, start + train + test))
        start += step
    if not out:
        raise ValueError(f"{bars} bars hold no window of train {train} + test {test} bars")
    return out


def grid(space: Mapping[str, Sequence[str | int | float]]) -> list[ParamSet]:
    """Every combination of ``space`` (name -> values), the last name varying fastest."""
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


@dataclass(frozen=True, slots=True)
class Job:
    """One backtest of a batch: a strategy with parameters over ``[start_ns, end_ns)``."""

    strategy: str
    symbols: tuple[str, ...]
    params: ParamSet
    start_ns: int
    end_ns: int
    config: BacktestConfig
    objective: str
    keep: bool = False  # send the full results back (test runs), not just the figures


def _valid_combos(
    strategy: str, symbols: Sequence[str], combos: list[ParamSet]
) -> tuple[list[ParamSet], str]:
    """The combinations the strategy accepts (a grid over fast and slow holds fast >= slow
    pairs a crossover refuses), and the first refusal's reason."""
    valid: list[ParamSet] = []
    first = ""
    for params in combos:
        try:
            create_strategy(strategy, symbols=symbols, params=params)
        except ParameterError as exc:
            first = first or str(exc)
            continue
        valid.append(params)
    return valid, first


def evaluate(data: BarData, job: Job) -> tuple[float, dict[str, float | int | None], bytes]:
    """Run one job: (objective, metrics, results JSON if ``keep`` else b"")."""
    part = data.between(job.start_ns, job.end_ns)
    bot = create_strategy(job.strategy, symbols=job.symbols, params=job.params)
    results = backtest(part, [bot], job.config)
    metrics = compute_metrics(results).to_dict()
    value = metrics.get(job.objective)
    score = float(value) if isinstance(value, int | float) and math.isfinite(value) else -math.inf
    return score, metrics, results.to_json() if job.keep else b""


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowResult:
    """One window: the chosen parameters, their in-sample and out-of-sample figures."""

    window: Window
    train: tuple[int, int]  # ns
    test: tuple[int, int]  # ns
    params: ParamSet
    in_sample: float
    out_of_sample: float
    test_metrics: dict[str, float | int | None]
    test_results: Results


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardResult:
    """Every window, the stitched out-of-sample equity and the efficiency."""

    objective: str
    windows: tuple[WindowResult, ...]
    equity: EquityCurve
    efficiency: float | None
    combinations: int
    scores: tuple[tuple[float, ...], ...] = field(default=())  # per window, per combination

    def stability(self) -> list[dict[str, object]]:
        """The parameter stability table: one row per window."""
        return [
            {"window": w.window.index, **w.params, "in_sample": w.in_sample,
             "out_of_sample": w.out_of_sample}
            for w in self.windows
        ]  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        return {
            "objective": self.objective,
            "combinations": self.combinations,
            "efficiency": self.efficiency,
            "windows": [
                {
                    "window": w.window.index,
                    "train_start": iso_from_ns(w.train[0]),
                    "train_end": iso_from_ns(w.train[1]),
                    "test_start": iso_from_ns(w.test[0]),
                    "test_end": iso_from_ns(w.test[1]),
                    "params": w.params,
                    "in_sample": _json_float(w.in_sample),
                    "out_of_sample": _json_float(w.out_of_sample),
                    "test_metrics": w.test_metrics,
                }
                for w in self.windows
            ],
            "stability": [
                {k: _json_float(v) if isinstance(v, float) else v for k, v in row.items()}
                for row in self.stability()
            ],
            "equity": self.equity.to_dict(),
        }


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def walk_forward(
    data: BarData,
    *,
    strategy: str,
    space: Mapping[str, Sequence[str | int | float]],
    train: int,
    test: int,
    step: int | None = None,
    anchored: bool = False,
    objective: str = "sharpe",
    config: BacktestConfig | None = None,
    pool: Pool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation of ``strategy`` over ``space``; see the module docstring."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    config = config or BacktestConfig()
    pool = pool or InlinePool()
    combos = grid(space)
    if not combos:
        raise ValueError("the parameter space is empty")
    combos, refused = _valid_combos(strategy, data.names, combos)
    if not combos:
        raise ParameterError(f"no combination of the parameter space is valid: {refused}")
    timeline = np.unique(np.concatenate([s.ts for s in data.symbols]))
    cuts = windows(timeline.size, train=train, test=test, step=step, anchored=anchored)
    edge = np.append(timeline, data.end_ns)
    symbols = data.names
    jobs = [
        Job(strategy, symbols, p, int(edge[w.train_start]), int(edge[w.train_end]), config,
            objective)
        for w in cuts
        for p in combos
    ]  # fmt: skip
    total = len(jobs) + len(cuts)
    scored = pool.map(evaluate, data, jobs)
    if progress is not None:
        progress(len(jobs), total)
    per_window = [scored[i * len(combos) : (i + 1) * len(combos)] for i in range(len(cuts))]
    best = [_best([score for score, _, _ in window]) for window in per_window]
    tests = [
        Job(strategy, symbols, combos[b], int(edge[w.train_end]), int(edge[w.test_end]), config,
            objective, keep=True)
        for w, b in zip(cuts, best, strict=True)
    ]  # fmt: skip
    outcomes = pool.map(evaluate, data, tests)
    if progress is not None:
        progress(total, total)
    results: list[WindowResult] = []
    for w, b, job, (score, metrics, blob) in zip(cuts, best, tests, outcomes, strict=True):
        results.append(
            WindowResult(
                window=w,
                train=(int(edge[w.train_start]), job.start_ns),
                test=(job.start_ns, job.end_ns),
                params=combos[b],
                in_sample=per_window[w.index][b][0],
                out_of_sample=score,
                test_metrics=metrics,
                test_results=Results.from_json(blob),
            )
        )
    return WalkForwardResult(
        objective=objective,
        windows=tuple(results),
        equity=_stitch([r.test_results for r in results], float(config.cash)),
        efficiency=_efficiency(results),
        combinations=len(combos),
        scores=tuple(tuple(s[0] for s in window) for window in per_window),
    )


def _best(scores: Sequence[float]) -> int:
    """The index of the highest score; the first of equal ones."""
    top = 0
    for k, score in enumerate(scores):
        if score > scores[top]:
            top = k
    return top


def _stitch(runs: Sequence[Results], cash: float) -> EquityCurve:
    """Chain the test runs: each one's equity scaled to start where the last one ended."""
    stamps, values, money = [], [], []
    level = cash
    last_ts = -1
    for run in runs:
        curve = run.equity
        keep = curve.timestamps > last_ts
        scale = level / run.starting_cash
        stamps.append(curve.timestamps[keep])
        values.append(curve.equity[keep] * scale)
        money.append(curve.cash[keep] * scale)
        if keep.any():
            level = float(values[-1][-1])
            last_ts = int(stamps[-1][-1])
    return EquityCurve(
        timestamps=np.concatenate(stamps), equity=np.concatenate(values), cash=np.concatenate(money)
    )


def _efficiency(results: Sequence[WindowResult]) -> float | None:
    ins = [r.in_sample for r in results if math.isfinite(r.in_sample)]
    outs = [r.out_of_sample for r in results if math.isfinite(r.out_of_sample)]
    if not ins or not outs:
        return None
    mean_in = sum(ins) / len(ins)
    if mean_in == 0:
        return None
    return (sum(outs) / len(outs)) / mean_in
