"""The supervisord configuration for a process table (``supervisord.conf`` under run/)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from stockyard.orchestrator._paths import RunPaths
from stockyard.orchestrator._table import ProcessSpec, ProcessTable

__all__ = ["render_supervisord_config"]

_AUTORESTART = {"always": "true", "unexpected": "unexpected", "never": "false"}
LOG_MAX_BYTES = "50MB"
LOG_BACKUPS = 10


def _quoted(value: str) -> str:
    # supervisord expands %(name)s in values: a literal % is written %%.
    return value.replace("%", "%%")


def _environment(env: Mapping[str, str]) -> str:
    parts = []
    for key, value in sorted(env.items()):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{key}="{_quoted(escaped)}"')
    return ",".join(parts)


def _seconds(value: float) -> int:
    # supervisord takes whole seconds; a positive fraction rounds up, never to 0.
    return max(int(-(-value // 1)), 1 if value > 0 else 0)


def _program(spec: ProcessSpec, table: ProcessTable, paths: RunPaths) -> list[str]:
    log = str(paths.process_log(spec.name))
    lines = [
        f"[program:{spec.name}]",
        f"command={_quoted(shlex.join(spec.argv))}",
        f"directory={_quoted(str(paths.home))}",
        # `stockyard up` starts each process in dependency order once its dependencies are ready.
        "autostart=false",
        f"autorestart={_AUTORESTART[spec.autorestart]}",
        f"startsecs={_seconds(spec.startsecs)}",
        f"startretries={spec.startretries}",
        f"stopsignal={spec.stopsignal}",
        f"stopwaitsecs={_seconds(spec.stopwaitsecs)}",
        "stopasgroup=true",
        "killasgroup=true",
        f"priority={table.priority(spec.name)}",
        "redirect_stderr=true",
        f"stdout_logfile={_quoted(log)}",
        f"stdout_logfile_maxbytes={LOG_MAX_BYTES}",
        f"stdout_logfile_backups={LOG_BACKUPS}",
    ]
    env = {"PYTHONUNBUFFERED": "1", **spec.env}  # supervisord adds SUPERVISOR_PROCESS_NAME
    lines.append(f"environment={_environment(env)}")
    return lines


def render_supervisord_config(table: ProcessTable, paths: RunPaths) -> str:
    """The whole ``supervisord.conf``: the Unix socket, supervisord's own log and pid file,
    and one ``[program:NAME]`` per process (whole process groups stopped and killed, output
    captured and rotated under the logs directory). Secrets are not written here: the
    processes inherit them from ``stockyard up``'s environment."""
    head = [
        "; written by `stockyard up` from the process table; edits are overwritten",
        "[unix_http_server]",
        f"file={_quoted(str(paths.socket))}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={_quoted(str(paths.supervisord_log))}",
        f"logfile_maxbytes={LOG_MAX_BYTES}",
        f"logfile_backups={LOG_BACKUPS}",
        "loglevel=info",
        f"pidfile={_quoted(str(paths.pid_file))}",
        f"childlogdir={_quoted(str(paths.process_log_dir))}",
        "nodaemon=true",
        "silent=true",
        f"directory={_quoted(str(paths.home))}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    body: list[str] = []
    for spec in table:
        body.extend(_program(spec, table, paths))
        body.append("")
    return "\n".join(head + body)
