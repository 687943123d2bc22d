"""The system as supervised processes (floor 5; DESIGN.md §8).

supervisord is the parent: it spawns, reaps, restarts and rotates logs. This package is the
thin typed layer over it: the process table from settings (``ProcessTable``), the
supervisord configuration, the XML-RPC client on its Unix socket (``SupervisorRPC``), the
``Supervisor`` facade (processes, start, stop, restart, tail), readiness probes, resources
(psutil, children included), health checks, alerts and events, and exports to systemd units
and Kubernetes manifests.
"""

from stockyard.orchestrator._config import render_supervisord_config
from stockyard.orchestrator._daemon import SupervisordProcess
from stockyard.orchestrator._export import (
    ExportedFile,
    kubernetes_manifests,
    systemd_units,
    write_files,
)
from stockyard.orchestrator._monitor import (
    PROCESS_ALERT_TOPIC,
    PROCESS_TOPIC,
    ProcessEvent,
    ProcessMonitor,
    process_checks,
    process_rules,
)
from stockyard.orchestrator._paths import (
    MAX_SOCKET_PATH,
    FileLock,
    LockedError,
    RunPaths,
    node_socket_path,
)
from stockyard.orchestrator._probe import LogMark, probe_once
from stockyard.orchestrator._resources import Resources, ResourceSampler, process_tree
from stockyard.orchestrator._rpc import (
    RawProcessInfo,
    SupervisorRefusedError,
    SupervisorRPC,
    SupervisorUnavailableError,
)
from stockyard.orchestrator._supervisor import NotReadyError, ProcessInfo, Supervisor
from stockyard.orchestrator._table import (
    ProcessKind,
    ProcessSpec,
    ProcessTable,
    account_name,
    default_table,
    local_url,
)

__all__ = [
    "MAX_SOCKET_PATH",
    "PROCESS_ALERT_TOPIC",
    "PROCESS_TOPIC",
    "ExportedFile",
    "FileLock",
    "LockedError",
    "LogMark",
    "NotReadyError",
    "ProcessEvent",
    "ProcessInfo",
    "ProcessKind",
    "ProcessMonitor",
    "ProcessSpec",
    "ProcessTable",
    "RawProcessInfo",
    "ResourceSampler",
    "Resources",
    "RunPaths",
    "Supervisor",
    "SupervisorRPC",
    "SupervisorRefusedError",
    "SupervisorUnavailableError",
    "SupervisordProcess",
    "account_name",
    "default_table",
    "kubernetes_manifests",
    "local_url",
    "node_socket_path",
    "probe_once",
    "process_checks",
    "process_rules",
    "process_tree",
    "render_supervisord_config",
    "systemd_units",
    "write_files",
]
