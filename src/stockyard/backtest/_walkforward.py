"""Walk-forward optimisation on the event engine.

The bars' timeline (distinct timestamps) is cut into windows of ``train`` then ``test``,
moved ``step`` at a time, in bars or in time (``_walkforward_windows``); ``anchored``
windows all train from the first bar. In each window the parameter space is searched on
the train part — every combination (``search="grid"``), or ``trials`` trials of Optuna's
TPE (``search="optuna"``, ``_walkforward_optuna``) — and the best by ``objective`` (ties:
the first searched) is backtested on the test part, out of sample. Each test run starts
flat with the starting cash and cold indicators. The out-of-sample equity is the test
runs' returns chained; the walk-forward efficiency is the mean out-of-sample objective
over the mean in-sample one. Runs go through a ``Pool`` (in process, local processes or
Dask): the same answer whichever runs them.
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
from stockyard.backtest._results import EquityCurve, Results, iso_from_ns
from stockyard.backtest._walkforward_jobs import (
    LOWER_IS_BETTER,
    OBJECTIVES,
    Job,
    Searched,
    evaluate,
    ranks_above,
)
from stockyard.backtest._walkforward_space import Axis, ParamSet, SpaceSpec, parse_space
from stockyard.backtest._walkforward_windows import SpanSpec, Window, resolve_windows, windows
from stockyard.strategy import ParameterError, create_strategy, strategy_class

__all__ = [
    "DIRECTIONS",
    "LOWER_IS_BETTER",
    "OBJECTIVES",
    "SEARCHES",
    "Job",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "evaluate",
    "grid",
    "walk_forward",
    "windows",
]

SEARCHES = ("grid", "optuna")
DIRECTIONS = ("maximize", "minimize")


def grid(space: Mapping[str, Sequence[str | int | float]]) -> list[ParamSet]:
    """Every combination of ``space`` (name -> values), the last name varying fastest."""
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


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
    searched: int = 0  # parameter sets backtested on the train part
    refused: int = 0  # Optuna trials the strategy refused (never run)


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardResult:
    """Every window, the stitched out-of-sample equity and the efficiency."""

    objective: str
    windows: tuple[WindowResult, ...]
    equity: EquityCurve
    efficiency: float | None
    combinations: int  # grid: the valid ones searched; Optuna: the size of the space
    scores: tuple[tuple[float, ...], ...] = field(default=())  # per window, per set searched
    search: str = "grid"
    direction: str = "maximize"
    trials: int | None = None  # Optuna: trials per window
    batch: int | None = None  # Optuna: trials asked per window per round
    seed: int | None = None  # Optuna: the samplers' seed

    def stability(self) -> list[dict[str, object]]:
        """The parameter stability table: one row per window."""
        return [
            {"window": w.window.index, **w.params, "in_sample": w.in_sample,
             "out_of_sample": w.out_of_sample}
            for w in self.windows
        ]  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        search: dict[str, object] = {"search": self.search}
        if self.search == "optuna":
            search |= {"trials": self.trials, "batch": self.batch, "seed": self.seed}
        return {
            "objective": self.objective,
            "direction": self.direction,
            **search,
            "combinations": self.combinations,
            "efficiency": self.efficiency,
            "windows": [
                {
                    "window": w.window.index,
                    "train_start": iso_from_ns(w.train[0]),
                    "train_end": iso_from_ns(w.train[1]),
                    "test_start": iso_from_ns(w.test[0]),
                    "test_end": iso_from_ns(w.test[1]),
                    "train_bars": w.window.train_end - w.window.train_start,
                    "test_bars": w.window.test_end - w.window.train_end,
                    "searched": w.searched,
                    "refused": w.refused,
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


def _test_windows(
    data: BarData,
    *,
    cuts: Sequence[Window],
    searched: Sequence[Searched],
    best: Sequence[int],
    edge: np.ndarray,
    job: Callable[[ParamSet, int, int], Job],
    pool: Pool,
) -> list[WindowResult]:
    """Trade each window's best parameters over its test part (through ``pool``)."""
    tests = [
        job(s.params[b], int(edge[w.train_end]), int(edge[w.test_end]))
        for w, s, b in zip(cuts, searched, best, strict=True)
    ]
    outcomes = pool.map(evaluate, data, tests)
    return [
        WindowResult(
            window=w, train=(int(edge[w.train_start]), test.start_ns),
            test=(test.start_ns, test.end_ns), params=s.params[b], in_sample=s.scores[b],
            out_of_sample=score, test_metrics=metrics, test_results=Results.from_json(blob),
            searched=len(s.scores), refused=s.refused,
        )
        for w, s, b, test, (score, metrics, blob) in zip(
            cuts, searched, best, tests, outcomes, strict=True
        )
    ]  # fmt: skip


def _optuna_search() -> Callable[..., list[Searched]]:
    """``optuna_search``, imported when an optuna search runs: optuna costs ~0.2 s to import,
    which the hub (it serves walk-forward jobs) and every grid search would pay unused."""
    from stockyard.backtest._walkforward_optuna import optuna_search  # noqa: PLC0415

    return optuna_search


def walk_forward(
    data: BarData,
    *,
    strategy: str,
    space: Mapping[str, SpaceSpec],
    train: SpanSpec,
    test: SpanSpec,
    step: SpanSpec | None = None,
    anchored: bool = False,
    objective: str = "sharpe",
    direction: str | None = None,
    search: str = "grid",
    trials: int = 100,
    batch: int = 8,
    seed: int = 0,
    config: BacktestConfig | None = None,
    pool: Pool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WalkForwardResult:
    """Walk-forward optimisation of ``strategy`` over ``space``; see the module docstring.

    ``space`` maps each parameter to values (a list: choices; a ``range``: stepped) or a
    spec (``"5:50:5"``, ``"0.5:2:0.25"``, ``"5,10"``, ``"100"``). ``train``, ``test`` and
    ``step`` (default: ``test``) are all bar counts or all durations (``"30d"``, ``"12h"``).
    ``direction`` defaults to minimising ``LOWER_IS_BETTER`` objectives, else maximising.
    ``search="optuna"`` runs ``trials`` TPE trials per window, ``batch`` per window per
    round through ``pool``, the samplers seeded by ``seed``: the same seed and batch give the
    same answer on any pool. ``progress(done, total)`` counts backtests.
    """
    minimize = _check(objective=objective, direction=direction, search=search, trials=trials,
                      batch=batch, seed=seed)  # fmt: skip
    config = config or BacktestConfig()
    pool = pool or InlinePool()
    axes = parse_space(space)
    symbols = data.names
    _check_names(strategy, symbols, axes)
    timeline = np.unique(np.concatenate([s.ts for s in data.symbols]))
    cuts = resolve_windows(
        timeline, data.end_ns, train=train, test=test, step=step, anchored=anchored
    )
    edge = np.append(timeline, data.end_ns)

    def train_job(w: Window) -> Callable[[ParamSet], Job]:
        start, end = int(edge[w.train_start]), int(edge[w.train_end])
        return lambda params: Job(strategy, symbols, params, start, end, config, objective)

    if search == "grid":
        combos, searched = _grid_search(
            data, strategy=strategy, axes=axes, jobs=[train_job(w) for w in cuts], pool=pool,
            progress=progress,
        )  # fmt: skip
    else:
        combos = math.prod(len(axis) for axis in axes)
        total = len(cuts) * (trials + 1)
        searched = _optuna_search()(
            data, axes=axes, jobs=[train_job(w) for w in cuts],
            refusal=_refusal(strategy, symbols), trials=trials, batch=batch, seed=seed,
            minimize=minimize, pool=pool,
            progress=None if progress is None else lambda done: progress(done, total),
        )  # fmt: skip
        _check_searched(strategy, searched, trials)
    best = [_best(s.scores, minimize=minimize) for s in searched]
    results = _test_windows(
        data, cuts=cuts, searched=searched, best=best, edge=edge,
        job=lambda params, start, end: Job(
            strategy, symbols, params, start, end, config, objective, keep=True
        ),
        pool=pool,
    )  # fmt: skip
    if progress is not None:
        total = len(cuts) * ((combos if search == "grid" else trials) + 1)
        progress(total, total)
    tpe = search == "optuna"
    return WalkForwardResult(
        objective=objective, windows=tuple(results), combinations=combos,
        equity=_stitch([r.test_results for r in results], float(config.cash)),
        efficiency=_efficiency(results), scores=tuple(s.scores for s in searched),
        search=search, direction="minimize" if minimize else "maximize",
        trials=trials if tpe else None, batch=batch if tpe else None, seed=seed if tpe else None,
    )  # fmt: skip


def _check(
    *, objective: str, direction: str | None, search: str, trials: int, batch: int, seed: int
) -> bool:
    """Refuse bad settings before any work; whether the search minimises."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be maximize or minimize, got {direction!r}")
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; use grid or optuna")
    if search == "optuna":
        if trials < 1 or batch < 1:
            raise ValueError(f"need trials >= 1 and batch >= 1; got {trials}, {batch}")
        if seed < 0:
            raise ValueError(f"the seed of an Optuna search must be >= 0, got {seed}")
    if direction is None:
        return objective in LOWER_IS_BETTER
    return direction == "minimize"


def _check_names(strategy: str, symbols: Sequence[str], axes: Sequence[Axis]) -> None:
    """A misspelt strategy or parameter fails here, with "did you mean", before any work."""
    declared = strategy_class(strategy).params()
    unknown = {axis.name: axis.first for axis in axes if axis.name not in declared}
    if unknown:
        create_strategy(strategy, symbols=symbols, params=unknown)  # raises, naming the closest


def _grid_search(
    data: BarData,
    *,
    strategy: str,
    axes: Sequence[Axis],
    jobs: Sequence[Callable[[ParamSet], Job]],
    pool: Pool,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, list[Searched]]:
    """Every valid combination on every window's train part, in one batch."""
    combos = grid({axis.name: axis.values() for axis in axes})
    combos, refused = _valid_combos(strategy, data.names, combos)
    if not combos:
        raise ParameterError(f"no combination of the parameter space is valid: {refused}")
    batch = [make(params) for make in jobs for params in combos]
    scored = pool.map(evaluate, data, batch)
    if progress is not None:
        progress(len(batch), len(batch) + len(jobs))
    n = len(combos)
    return n, [
        Searched(tuple(combos), tuple(score for score, _, _ in scored[k * n : (k + 1) * n]))
        for k in range(len(jobs))
    ]


def _refusal(strategy: str, symbols: Sequence[str]) -> Callable[[ParamSet], str]:
    """Why the strategy refuses a parameter set ("" if it takes it), remembered per set."""
    known: dict[tuple[object, ...], str] = {}

    def refusal(params: ParamSet) -> str:
        key = tuple(params.values())
        if key not in known:
            try:
                create_strategy(strategy, symbols=symbols, params=params)
                known[key] = ""
            except ParameterError as exc:
                known[key] = str(exc)
        return known[key]

    return refusal


def _check_searched(strategy: str, searched: Sequence[Searched], trials: int) -> None:
    for k, window in enumerate(searched):
        if not window.scores:
            raise ParameterError(
                f"window {k}: {strategy} refused all {trials} parameter sets Optuna asked for; "
                "narrow the space or ask for more trials"
            )


def _best(scores: Sequence[float], *, minimize: bool = False) -> int:
    """The index of the best score; the first of equal ones (the first if none has a figure)."""
    top = 0
    for k, score in enumerate(scores):
        if ranks_above(score, scores[top], minimize=minimize):
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
    if mean_in <= 0:  # a ratio to a loss (or to nothing) says nothing about robustness
        return None
    return (sum(outs) / len(outs)) / mean_in
