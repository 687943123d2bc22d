"""CPU, memory, threads and open files of a process and all its children (psutil)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import psutil

__all__ = ["ResourceSampler", "Resources", "process_tree"]


@dataclass(frozen=True, slots=True)
class Resources:
    """One sample of a process tree; ``cpu_percent`` is 100 per busy core."""

    cpu_percent: float
    rss_bytes: int
    threads: int
    open_files: int
    processes: int


def process_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every descendant still alive (empty when ``pid`` is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class ResourceSampler:
    """Samples process trees; keeps each ``psutil.Process`` between samples so that CPU %
    is measured over the time since the previous sample (the first sample reads 0)."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}

    def _tracked(self, pid: int) -> list[psutil.Process]:
        out = []
        for process in process_tree(pid):
            known = self._known.get(process.pid)
            if known is None or not _same(known, process):
                self._known[process.pid] = known = process
            out.append(known)
        return out

    def prime(self, pids: list[int]) -> None:
        """Start the CPU clock of these trees (call, wait a little, then ``sample``)."""
        for pid in pids:
            for process in self._tracked(pid):
                with contextlib.suppress(psutil.Error):
                    process.cpu_percent(None)

    def sample(self, pid: int) -> Resources:
        """The tree of ``pid`` now; zeros when it is gone."""
        cpu, rss, threads, files, count = 0.0, 0, 0, 0, 0
        for process in self._tracked(pid):
            try:
                with process.oneshot():
                    cpu += process.cpu_percent(None)
                    rss += process.memory_info().rss
                    threads += process.num_threads()
                    files += len(process.open_files())
                count += 1
            except psutil.Error:  # it ended between the listing and the sample
                continue
        return Resources(round(cpu, 1), rss, threads, files, count)

    def forget_dead(self) -> None:
        """Drop processes that have ended."""
        self._known = {pid: p for pid, p in self._known.items() if p.is_running()}


def _same(a: psutil.Process, b: psutil.Process) -> bool:
    try:
        return a.create_time() == b.create_time()
    except psutil.Error:
        return False
