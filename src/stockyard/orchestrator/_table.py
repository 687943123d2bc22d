"""The process table: the default processes of the system, merged with ``[processes.*]``."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from stockyard.config import (
    ConfigError,
    ProcessLimits,
    ProcessSettings,
    ReadinessProbe,
    Settings,
    account_of,
    broker_of,
)
from stockyard.orchestrator._paths import node_socket_path

__all__ = [
    "ProcessKind",
    "ProcessSpec",
    "ProcessTable",
    "account_name",
    "default_table",
    "local_url",
]

ProcessKind = Literal["sandbox", "node", "hub", "feed", "custom"]
Autorestart = Literal["always", "unexpected", "never"]


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One process, every field resolved (defaults filled in)."""

    name: str
    kind: ProcessKind
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    critical: bool = True
    autorestart: Autorestart = "unexpected"
    startsecs: float = 1.0
    startretries: int = 3
    stopsignal: str = "TERM"
    stopwaitsecs: float = 10.0
    depends_on: tuple[str, ...] = ()
    readiness: ReadinessProbe = field(default_factory=ReadinessProbe)
    limits: ProcessLimits = field(default_factory=ProcessLimits)

    @property
    def argv(self) -> tuple[str, ...]:
        """The command and its arguments."""
        return (self.command, *self.args)


def account_name(settings: Settings) -> str:
    """The account the node trades: ``sandbox``, ``paper`` or ``live`` (``node.broker``,
    else from ``alpaca.base_url``)."""
    return account_of(broker_of(settings))


def _stockyard(*args: str) -> tuple[str, tuple[str, ...]]:
    return sys.executable, ("-m", "stockyard", *args)


def default_table(settings: Settings) -> dict[str, ProcessSpec]:
    """The embedded system split into processes (DESIGN.md §8), before ``[processes.*]``."""
    table: dict[str, ProcessSpec] = {}
    node_deps: tuple[str, ...] = ()
    if broker_of(settings) == "sandbox":
        sandbox = settings.sandbox
        command, args = _stockyard("sandbox")
        probe = ReadinessProbe(http=f"{local_url(sandbox.host, sandbox.port)}/sandbox/status")
        # As in `up --single-process`: the embedded sandbox replays faster than real time, so
        # Alpaca's per-key limits (which `stockyard sandbox` alone applies) are off here.
        embedded = {
            "STOCKYARD_SANDBOX__RATE_LIMIT_PER_MIN": "0",
            "STOCKYARD_SANDBOX__STREAMS_PER_KEY": "32",
        }
        table["sandbox"] = ProcessSpec(
            "sandbox", "sandbox", command, args, env=embedded, readiness=probe
        )
        node_deps = ("sandbox",)
    if settings.bus.backend == "redis":
        command, args = _stockyard("feed")
        table["feed"] = ProcessSpec(
            "feed",
            "feed",
            command,
            args,
            depends_on=node_deps,
            readiness=ReadinessProbe(log="feed ready"),
        )
        node_deps = (*node_deps, "feed")
    account = account_name(settings)
    command, args = _stockyard("node", account)
    name = f"node@{account}"
    table[name] = ProcessSpec(
        name,
        "node",
        command,
        args,
        depends_on=node_deps,
        # Ready once its control socket accepts (the hub reaches the node through it).
        readiness=ReadinessProbe(unix=str(node_socket_path(settings.home, account))),
    )
    health = settings.health
    command, args = _stockyard("hub")
    table["hub"] = ProcessSpec(
        "hub",
        "hub",
        command,
        args,
        depends_on=(name,),
        readiness=ReadinessProbe(http=f"{local_url(health.host, health.api_port)}/livez"),
    )
    return table


def _host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reached on loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def local_url(host: str, port: int) -> str:
    """``http://host:port`` of a server bound to ``host`` (a wildcard bind via loopback)."""
    return f"http://{_host(host)}:{port}"


def _merged(name: str, base: ProcessSpec | None, given: ProcessSettings) -> ProcessSpec:
    if base is None:
        if given.command is None:
            raise ConfigError(
                f"bad setting processes.{name}.command: a new process needs a command",
                key=f"processes.{name}.command",
            )
        base = ProcessSpec(name, "custom", given.command)
    changes = {
        key: value
        for key in (
            "command",
            "args",
            "critical",
            "autorestart",
            "startsecs",
            "startretries",
            "stopsignal",
            "stopwaitsecs",
            "depends_on",
            "readiness",
            "limits",
        )
        if (value := getattr(given, key)) is not None
    }
    env = {**base.env, **given.env}
    fields = {f: getattr(base, f) for f in ProcessSpec.__dataclass_fields__}
    return ProcessSpec(**{**fields, **changes, "env": env})


class ProcessTable:
    """The processes of one system, in start order (every process after its dependencies)."""

    def __init__(self, specs: Mapping[str, ProcessSpec]) -> None:
        for spec in specs.values():
            for dep in spec.depends_on:
                if dep not in specs:
                    raise ConfigError(
                        f"bad setting processes.{spec.name}.depends_on: no process named {dep!r}",
                        key=f"processes.{spec.name}.depends_on",
                    )
        self._specs = {name: specs[name] for name in _start_order(specs)}

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessTable:
        """The default table with ``[processes.*]`` applied; ConfigError names a bad key."""
        table = default_table(settings)
        for name, given in settings.processes.items():
            if not given.enabled:
                table.pop(name, None)
                continue
            table[name] = _merged(name, table.get(name), given)
        for spec in table.values():  # a disabled process is no one's dependency
            kept = tuple(d for d in spec.depends_on if d in table or d not in _disabled(settings))
            if kept != spec.depends_on:
                table[spec.name] = _replace_deps(spec, kept)
        return cls(table)

    def __iter__(self) -> Iterator[ProcessSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> ProcessSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(self._specs)
            raise KeyError(f"no process named {name!r} (the table has {known})") from None

    @property
    def names(self) -> list[str]:
        """Names in start order."""
        return list(self._specs)

    def priority(self, name: str) -> int:
        """supervisord's priority: lower starts first and stops last (depth x 100 + 100)."""
        return 100 + 100 * self._depth(name)

    def _depth(self, name: str) -> int:
        deps = self._specs[name].depends_on
        return 0 if not deps else 1 + max(self._depth(d) for d in deps)


def _disabled(settings: Settings) -> set[str]:
    return {name for name, given in settings.processes.items() if not given.enabled}


def _replace_deps(spec: ProcessSpec, deps: tuple[str, ...]) -> ProcessSpec:
    fields = {f: getattr(spec, f) for f in ProcessSpec.__dataclass_fields__}
    return ProcessSpec(**{**fields, "depends_on": deps})


def _start_order(specs: Mapping[str, ProcessSpec]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise ConfigError(
                f"bad setting processes.{name}.depends_on: a cycle ({cycle})",
                key=f"processes.{name}.depends_on",
            )
        state[name] = "visiting"
        for dep in specs[name].depends_on:
            visit(dep, (*path, name))
        state[name] = "done"
        order.append(name)

    for name in specs:
        visit(name, ())
    return order
