"""``stockyard bench logging``: the calling thread's cost, and sustained lines to disk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from stockyard.config import LogSettings
from stockyard.obs import (
    configure_logging,
    flush_logs,
    get_logger,
    logging_stats,
    shutdown_logging,
)

__all__ = ["run_logging_benchmark"]

_MARK = "bench-entry"
_BACKLOG = 50_000  # the harness (not the logger) pauses above this queue depth


def _count_lines(directory: Path) -> int:
    count = 0
    for path in directory.glob("trading_system.log*"):
        with path.open("rb") as handle:
            for line in handle:
                if _MARK.encode() in line:
                    count += 1
    return count


def run_logging_benchmark(
    *, directory: Path, calls: int = 200_000, seconds: float = 10.0
) -> dict[str, Any]:
    """Measure per-call cost (files and console attached, console to the null device) and
    entries/s written over ``seconds``, then count the lines on disk to prove none were lost.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(os.devnull, "w", encoding="utf-8") as null:
        configure_logging(
            LogSettings(dir=directory, level="INFO", backups=100, file_max_mb=50),
            console_stream=null,
        )
        try:
            log = get_logger("trading", bot="bench")
            clock = time.perf_counter_ns
            samples = [0] * calls
            for i in range(calls):
                begin = clock()
                log.info(_MARK, symbol="AAPL", qty=100, price=189.25, seq=i)
                samples[i] = clock() - begin
            flush_logs(120)

            produced = calls
            started = time.perf_counter()
            deadline = started + seconds
            sequence = calls
            while time.perf_counter() < deadline:
                for _ in range(1000):
                    log.info(_MARK, symbol="MSFT", qty=5, price=411.5, seq=sequence)
                    sequence += 1
                produced += 1000
                while logging_stats()["queue_depth"] > _BACKLOG:
                    time.sleep(0.001)
            flush_logs(120)
            elapsed = time.perf_counter() - started
            sustained = (produced - calls) / elapsed
        finally:
            shutdown_logging()
    written = _count_lines(directory)
    samples.sort()
    return {
        "median_us": round(samples[calls // 2] / 1000, 3),
        "p99_us": round(samples[int(calls * 0.99)] / 1000, 3),
        "sustained_per_s": round(sustained),
        "sustained_s": round(elapsed, 2),
        "entries": produced,
        "lost": produced - written,
    }
