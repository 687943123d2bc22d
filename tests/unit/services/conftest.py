"""An in-memory process supervisor with the interface ``ProcessService`` drives (ours, not
supervisord's): processes that start, stop and restart with new pids, an unknown name as
``KeyError``, and a supervisord that stops answering."""

from __future__ import annotations

from stockyard.orchestrator import ProcessInfo, SupervisorUnavailableError


class MemorySupervisor:
    """The ``ProcessControl`` interface over a dict of process states."""

    def __init__(self, *names: str) -> None:
        self.states = dict.fromkeys(names, "STOPPED")
        self.pids: dict[str, int | None] = dict.fromkeys(names)
        self.spawns = dict.fromkeys(names, 0)
        self.answering = True
        self._next_pid = 1000

    def _check(self, name: str | None = None) -> None:
        if not self.answering:
            raise SupervisorUnavailableError("no supervisord on the socket")
        if name is not None and name not in self.states:
            raise KeyError(f"no process named {name!r} (the table has {', '.join(self.states)})")

    def _info(self, name: str) -> ProcessInfo:
        running = self.states[name] == "RUNNING"
        return ProcessInfo(
            name=name,
            kind="custom",
            critical=False,
            state=self.states[name],
            pid=self.pids[name],
            uptime_s=0.0 if running else None,
            restarts=max(self.spawns[name] - 1, 0),
            exitstatus=0,
            description="",
            cpu_percent=0.0,
            rss_bytes=0,
            threads=1 if running else 0,
            open_files=0,
        )

    def processes(self) -> list[ProcessInfo]:
        self._check()
        return [self._info(name) for name in self.states]

    def start(self, name: str) -> ProcessInfo:
        self._check(name)
        if self.states[name] != "RUNNING":
            self._next_pid += 1
            self.states[name], self.pids[name] = "RUNNING", self._next_pid
            self.spawns[name] += 1
        return self._info(name)

    def stop(self, name: str) -> ProcessInfo:
        self._check(name)
        self.states[name], self.pids[name] = "STOPPED", None
        return self._info(name)

    def restart(self, name: str) -> ProcessInfo:
        self.stop(name)
        return self.start(name)

    def start_all(self) -> list[ProcessInfo]:
        return [self.start(name) for name in self.states]

    def stop_all(self) -> list[ProcessInfo]:
        return [self.stop(name) for name in reversed(self.states)]
