"""Where batches of backtests run: in process, a local process pool, or a Dask cluster.

``pool.map(fn, shared, items)`` returns ``[fn(shared, item) for item in items]`` in order,
whichever runs it: ``shared`` (the bars) travels to each worker once (the pool's
initializer, or ``Client.scatter`` to every Dask worker), items one by one. ``fn`` must
be a module-level function and both deterministic, so the answer is the same everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["DaskPool", "InlinePool", "LocalPool", "Pool", "make_pool"]

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_SHARED: list[object] = []  # a worker process's copy of ``shared`` (set by the initializer)


class Pool(Protocol):
    """Runs ``fn(shared, item)`` for each item; results in the order of ``items``."""

    @property
    def workers(self) -> int: ...

    def map(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]: ...

    def close(self) -> None: ...


class InlinePool:
    """Runs everything in this process (one worker)."""

    workers = 1

    def map(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]:
        return [fn(shared, item) for item in items]

    def close(self) -> None:
        return None


def _install(shared: object) -> None:
    _SHARED[:] = [shared]


def _call(job: tuple[Callable[[object, object], object], object]) -> object:
    fn, item = job
    return fn(_SHARED[0], item)


class LocalPool:
    """A pool of ``workers`` processes (spawned: no state leaks from the parent).

    The processes start on the first ``map`` and serve every later one with the same
    ``shared`` object (a walk-forward's rounds of trials): starting a worker imports the
    whole platform, seconds each. A different ``shared`` starts fresh ones; ``close()``
    stops them.
    """

    def __init__(self, workers: int | None = None) -> None:
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._executor: ProcessPoolExecutor | None = None
        self._shared: object = None
        self.starts = 0  # times worker processes were started

    @property
    def workers(self) -> int:
        return self._workers

    def map(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        executor = self._executor_for(shared)
        chunk = max(1, len(items) // (self._workers * 4))
        jobs = [(fn, item) for item in items]
        return list(executor.map(_call, jobs, chunksize=chunk))  # type: ignore[arg-type]

    def close(self) -> None:
        executor, self._executor, self._shared = self._executor, None, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _executor_for(self, shared: object) -> ProcessPoolExecutor:
        if self._executor is None or self._shared is not shared:
            self.close()
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=get_context("spawn"),
                initializer=_install,
                initargs=(shared,),
            )
            self._shared = shared
            self.starts += 1
        return self._executor


class DaskPool:
    """Batches on a Dask distributed cluster (``tcp://host:8786``) or a given ``Client``."""

    def __init__(self, address: str | Client) -> None:
        # Dask is imported when a cluster is asked for (0.6 s): every worker process of the
        # local pool imports this package, and most runs never use Dask.
        from distributed import Client  # noqa: PLC0415

        self._own = not isinstance(address, Client)
        self.client = Client(address) if isinstance(address, str) else address  # type: ignore[no-untyped-call]  # distributed is untyped

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def map(self, fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        [data] = self.client.scatter([shared], broadcast=True, hash=False)  # type: ignore[no-untyped-call]  # untyped
        futures = self.client.map(fn, [data] * len(items), list(items), pure=False)
        results: list[R] = self.client.gather(futures)  # type: ignore[no-untyped-call]  # untyped
        return results

    def close(self) -> None:
        if self._own:
            self.client.close()  # type: ignore[no-untyped-call]  # distributed is untyped


def make_pool(cluster: str | None = None, *, workers: int | None = None) -> Pool:
    """Dask at ``cluster`` when given; else ``workers`` local processes (1: in process)."""
    if cluster:
        return DaskPool(cluster)
    if workers is not None and workers <= 1:
        return InlinePool()
    return LocalPool(workers)
