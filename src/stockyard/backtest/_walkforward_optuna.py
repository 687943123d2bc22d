"""Optuna's TPE search of every walk-forward window, run through a ``Pool`` in rounds.

Each window has its own study, its ``TPESampler`` seeded from ``seed`` and the window's
index. A round asks every study for ``batch`` trials (ask-and-tell), runs all of them in one
``pool.map`` and tells the scores back in ask order. So the trials asked — and the answer —
depend only on the seed and ``batch``, never on how many workers ran a round or which
finished first: in process, a local pool and Dask give the same bytes. Optuna's constant
liar (on by default) keeps the trials of one round apart.

Each stepped range is an int or float distribution with its step, choices a categorical
one. A parameter set the strategy refuses (``fast >= slow``) is told as pruned without a
backtest, and so is one with no figure for the objective: TPE ranks pruned trials below
every complete one and steers away. A set asked again is told its first score without a
second backtest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import TPESampler
from optuna.study import StudyDirection
from optuna.trial import Trial, TrialState

from stockyard.backtest._cluster import Pool
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._walkforward_jobs import Job, Searched, evaluate
from stockyard.backtest._walkforward_space import Axis, ParamSet, ParamValue

__all__ = ["optuna_search", "window_seed"]


def window_seed(seed: int, window: int) -> int:
    """The sampler seed of window ``window`` of a search seeded ``seed`` (``seed >= 0``)."""
    return int(np.random.SeedSequence([seed, window]).generate_state(1)[0])


def _sampler(seed: int) -> TPESampler:
    # Optuna 5's defaults, spelt out: a search must not change when a default does.
    return TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=10)


def _distribution(axis: Axis) -> BaseDistribution:
    if not axis.stepped:
        return CategoricalDistribution(axis.choices)
    if axis.integral:
        return IntDistribution(int(axis.low), int(axis.high), step=int(axis.step))
    return FloatDistribution(float(axis.low), float(axis.high), step=float(axis.step))


def _snap(axis: Axis, value: ParamValue) -> ParamValue:
    """Optuna's value as the grid writes it (a float step's ``0.1 * 3`` noise removed)."""
    if not axis.stepped or axis.integral:
        return value
    k = round((float(value) - float(axis.low)) / float(axis.step))
    return axis.at(min(max(k, 0), len(axis) - 1))


@dataclass(slots=True)
class _Window:
    study: optuna.Study
    params: list[ParamSet] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    refused: int = 0
    seen: dict[tuple[ParamValue, ...], float] = field(default_factory=dict)


def optuna_search(
    data: BarData,
    *,
    axes: Sequence[Axis],
    jobs: Sequence[Callable[[ParamSet], Job]],
    refusal: Callable[[ParamSet], str],
    trials: int,
    batch: int,
    seed: int,
    minimize: bool,
    pool: Pool,
    progress: Callable[[int], None] | None = None,
) -> list[Searched]:
    """Search each window (``jobs[k]`` makes window ``k``'s train job for a parameter set)
    with ``trials`` trials, ``batch`` at a time; ``refusal`` says why a set is invalid ("")."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial on the terminal
    space = {axis.name: _distribution(axis) for axis in axes}
    direction = StudyDirection.MINIMIZE if minimize else StudyDirection.MAXIMIZE
    studies = [
        _Window(optuna.create_study(direction=direction, sampler=_sampler(window_seed(seed, k))))
        for k in range(len(jobs))
    ]
    done = 0
    while done < trials:
        size = min(batch, trials - done)
        asked: list[tuple[_Window, Trial, ParamSet, int]] = []  # job index, -1: refused
        batch_jobs: list[Job] = []
        for window, make_job in zip(studies, jobs, strict=True):
            queued: dict[tuple[ParamValue, ...], int] = {}
            for _ in range(size):
                trial = window.study.ask(space)
                params = {axis.name: _snap(axis, trial.params[axis.name]) for axis in axes}
                key = tuple(params.values())
                if refusal(params):
                    asked.append((window, trial, params, -1))
                    continue
                if key not in window.seen and key not in queued:
                    queued[key] = len(batch_jobs)
                    batch_jobs.append(make_job(params))
                asked.append((window, trial, params, queued.get(key, -2)))
        scored = pool.map(evaluate, data, batch_jobs)
        for window, trial, params, index in asked:
            if index == -1:
                window.refused += 1
                window.study.tell(trial, state=TrialState.PRUNED)
                continue
            key = tuple(params.values())
            score = scored[index][0] if index >= 0 else window.seen[key]
            window.seen.setdefault(key, score)
            window.params.append(params)
            window.scores.append(score)
            if score == -np.inf:  # no figure for the objective
                window.study.tell(trial, state=TrialState.PRUNED)
            else:
                window.study.tell(trial, score)
        done += size
        if progress is not None:
            progress(done * len(jobs))
    return [Searched(tuple(w.params), tuple(w.scores), w.refused) for w in studies]
