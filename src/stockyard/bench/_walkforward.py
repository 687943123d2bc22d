"""``stockyard bench walkforward``: the same walk-forward on a Dask ``LocalCluster`` of 1
and of 2 worker processes; the speed-up and whether the answers are identical."""

from __future__ import annotations

import time
from typing import Any

import orjson

from stockyard.backtest import DaskPool, random_walk, walk_forward

__all__ = ["run_walkforward_benchmark"]


def run_walkforward_benchmark(*, combinations: int = 200, bars: int = 20_000) -> dict[str, Any]:
    """Time a walk-forward of ``sma_cross`` over about ``combinations`` (fast, slow) pairs
    and ``bars`` one-minute bars (2 windows) on 1 and on 2 Dask worker processes."""
    # Dask is imported when used (0.6 s): every worker process imports this package.
    from distributed import Client, LocalCluster  # noqa: PLC0415

    data = random_walk(bars, seed=0)
    fasts = list(range(2, 2 + max(1, combinations // 10)))
    slows = list(range(40, 40 + 5 * max(1, combinations // len(fasts)), 5))
    space: dict[str, list[str | int | float]] = {"fast": list(fasts), "slow": list(slows)}
    timings: dict[int, float] = {}
    answers: list[bytes] = []
    for workers in (1, 2):
        with (
            LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]  # distributed is untyped
        ):
            pool = DaskPool(client)
            started = time.perf_counter()
            result = walk_forward(
                data,
                strategy="sma_cross",
                space=space,
                train=bars // 2,
                test=bars // 4,
                objective="total_return",
                pool=pool,
            )
            timings[workers] = time.perf_counter() - started
            answers.append(orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
    return {
        "combinations": len(fasts) * len(slows),
        "bars": bars,
        "workers": 2,
        "wall_s_1_worker": round(timings[1], 3),
        "wall_s_2_workers": round(timings[2], 3),
        "speedup": round(timings[1] / timings[2], 3),
        "identical": answers[0] == answers[1],
    }
