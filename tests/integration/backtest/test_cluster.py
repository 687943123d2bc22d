"""Walk-forward and comparison batches give the same answer in process, on a local process
pool and on a real Dask cluster of worker processes."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from distributed import Client, LocalCluster

from stockyard.backtest import DaskPool, InlinePool, LocalPool, Pool, random_walk, walk_forward


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]  # distributed is untyped
    ):
        yield client


def _optuna_answer(pool: Pool) -> bytes:
    """Three rounds of 2 Optuna trials a window through ``pool``, then the test runs."""
    result = walk_forward(
        random_walk(4_000, seed=11),
        strategy="sma_cross",
        space={"fast": "2:20:2", "slow": "10:60:5"},
        train=2_000,
        test=1_000,
        objective="total_return",
        search="optuna",
        trials=6,
        batch=2,
        seed=0,
        pool=pool,
    )
    return orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)


def _answer(pool: Pool) -> bytes:
    result = walk_forward(
        random_walk(4_000, seed=8),
        strategy="sma_cross",
        space={"fast": [3, 5, 8], "slow": [20, 30]},
        train=2_000,
        test=1_000,
        objective="sharpe",
        pool=pool,
    )
    return orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)


def test_a_dask_cluster_and_a_local_pool_give_the_in_process_answer(dask_client: Client) -> None:
    expected = _answer(InlinePool())
    assert _answer(DaskPool(dask_client)) == expected
    pool = LocalPool(2)
    try:
        assert _answer(pool) == expected
    finally:
        pool.close()


def test_the_dask_pool_sees_both_workers(dask_client: Client) -> None:
    assert DaskPool(dask_client).workers == 2


def test_optuna_rounds_give_the_same_answer_on_every_pool(dask_client: Client) -> None:
    # The order trials are told in does not depend on which worker finished first.
    expected = _optuna_answer(InlinePool())
    assert _optuna_answer(DaskPool(dask_client)) == expected
    pool = LocalPool(2)
    try:
        assert _optuna_answer(pool) == expected
        assert pool.starts == 1  # every round on the same worker processes
    finally:
        pool.close()
