"""The process table as systemd units or Kubernetes manifests (supervising in supervisord's
place past one machine)."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stockyard.config import Settings
from stockyard.orchestrator._table import ProcessSpec, ProcessTable

__all__ = ["ExportedFile", "kubernetes_manifests", "systemd_units", "write_files"]

_SYSTEMD_RESTART = {"always": "always", "unexpected": "on-failure", "never": "no"}
_LABEL = "app.kubernetes.io/name"
_SECRET_KEYS = (
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
    "STOCKYARD_DATABASE__URL",
    "STOCKYARD_REDIS__PASSWORD",
)


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One file to write: its name under the output directory and its text."""

    name: str
    text: str


def _unit_name(name: str) -> str:
    # `@` names a template instance in systemd; a process name keeps it out.
    return "stockyard-" + name.replace("@", "-")


def _stockyard_args(spec: ProcessSpec) -> tuple[str, ...] | None:
    """The arguments after ``stockyard`` when the process is one of our entry points."""
    if spec.command == sys.executable and spec.args[:2] == ("-m", "stockyard"):
        return spec.args[2:]
    return None


def systemd_units(table: ProcessTable, settings: Settings) -> list[ExportedFile]:
    """A ``stockyard.target`` and one ``stockyard-NAME.service`` per process: dependencies
    as ``Requires``/``After``, restarts, stop signal and timeout, the whole control group
    killed, CPU and memory limits; secrets from ``/etc/stockyard/stockyard.env``."""
    files = [
        ExportedFile(
            "stockyard.target",
            "[Unit]\nDescription=Stockyard trading system (every process)\n"
            "Wants=" + " ".join(f"{_unit_name(s.name)}.service" for s in table) + "\n\n"
            "[Install]\nWantedBy=multi-user.target\n",
        )
    ]
    for spec in table:
        deps = " ".join(f"{_unit_name(d)}.service" for d in spec.depends_on)
        ours = _stockyard_args(spec)
        argv = ("/usr/bin/env", "stockyard", *ours) if ours is not None else spec.argv
        lines = [
            "[Unit]",
            f"Description=Stockyard {spec.name} ({spec.kind})",
            "PartOf=stockyard.target",
            f"After=network-online.target {deps}".rstrip(),
            f"StartLimitBurst={spec.startretries + 1}",
        ]
        if deps:
            lines.append(f"Requires={deps}")
        lines += [
            "",
            "[Service]",
            "Type=simple",
            f"ExecStart={shlex.join(argv)}",
            f"WorkingDirectory={settings.home}",
            f"Environment=STOCKYARD_HOME={settings.home}",
            *(f"Environment={k}={v}" for k, v in sorted(spec.env.items())),
            "EnvironmentFile=-/etc/stockyard/stockyard.env",
            f"Restart={_SYSTEMD_RESTART[spec.autorestart]}",
            "RestartSec=1",
            f"KillSignal=SIG{spec.stopsignal}",
            f"TimeoutStopSec={spec.stopwaitsecs:g}",
            "KillMode=control-group",
        ]
        if spec.limits.memory_mb is not None:
            lines.append(f"MemoryMax={int(spec.limits.memory_mb)}M")
        if spec.limits.cpu_percent is not None:
            lines.append(f"CPUQuota={spec.limits.cpu_percent:g}%")
        lines += ["", "[Install]", "WantedBy=stockyard.target", ""]
        files.append(ExportedFile(f"{_unit_name(spec.name)}.service", "\n".join(lines)))
    return files


def _k8s_name(name: str) -> str:
    return "stockyard-" + name.replace("@", "-").replace("_", "-").replace(".", "-").lower()


def _probes(spec: ProcessSpec, settings: Settings) -> dict[str, object]:
    if spec.kind == "hub":
        port = settings.health.api_port
        return {
            "livenessProbe": {"httpGet": {"path": "/livez", "port": port}, "periodSeconds": 10},
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": port}, "periodSeconds": 5},
            "ports": [{"containerPort": port, "name": "http"}],
        }
    if spec.kind == "sandbox":
        port = settings.sandbox.port
        return {
            "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10},
            "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 5},
            "ports": [{"containerPort": port, "name": "alpaca"}],
        }
    return {}


def _deployment(spec: ProcessSpec, settings: Settings, image: str) -> dict[str, object]:
    ours = _stockyard_args(spec)
    command = ["stockyard", *ours] if ours is not None else list(spec.argv)
    env = [{"name": "STOCKYARD_CONFIG", "value": "/etc/stockyard/stockyard.toml"}]
    env += [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    if spec.kind in ("hub", "sandbox"):  # reached from other pods through their Service
        section = "HEALTH" if spec.kind == "hub" else "SANDBOX"
        env.append({"name": f"STOCKYARD_{section}__HOST", "value": "0.0.0.0"})
    container: dict[str, object] = {
        "name": spec.name.replace("@", "-"),
        "image": image,
        "command": command,
        "env": env,
        "envFrom": [
            {"configMapRef": {"name": "stockyard-env"}},
            {"secretRef": {"name": "stockyard-keys"}},
        ],
        "volumeMounts": [{"name": "settings", "mountPath": "/etc/stockyard", "readOnly": True}],
        **_probes(spec, settings),
    }
    resources: dict[str, str] = {}
    if spec.limits.memory_mb is not None:
        resources["memory"] = f"{int(spec.limits.memory_mb)}Mi"
    if spec.limits.cpu_percent is not None:
        resources["cpu"] = f"{int(spec.limits.cpu_percent * 10)}m"
    if resources:
        container["resources"] = {"limits": resources}
    labels = {_LABEL: _k8s_name(spec.name), "app.kubernetes.io/part-of": "stockyard"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": _k8s_name(spec.name),
            "labels": labels,
            "annotations": {"stockyard/depends-on": ",".join(spec.depends_on)},
        },
        "spec": {
            "replicas": 1,
            # Never two pods of one process at once: a node holds its account alone.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {_LABEL: _k8s_name(spec.name)}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": int(spec.stopwaitsecs),
                    "containers": [container],
                    "volumes": [{"name": "settings", "configMap": {"name": "stockyard-settings"}}],
                },
            },
        },
    }


def _service(name: str, port: int, target: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {_LABEL: target},
            "ports": [{"port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }


def kubernetes_manifests(
    table: ProcessTable,
    settings: Settings,
    *,
    image: str = "stockyard:latest",
    settings_text: str = "",
) -> list[ExportedFile]:
    """JSON manifests (``kubectl apply -f DIR``): a ConfigMap with ``stockyard.toml`` and
    one with the environment (Redis and PostgreSQL named as the services ``redis`` and
    ``postgresql``), a Secret of the keys to fill in, a Deployment per process (the hub's
    liveness and readiness on ``/livez`` and ``/readyz``), Services for the hub and the
    sandbox."""
    env = {
        "REDIS_HOST": "redis",
        "REDIS_PORT": "6379",
        "STOCKYARD_BUS__BACKEND": settings.bus.backend,
        "HEALTH_API_PORT": str(settings.health.api_port),
    }
    objects: list[tuple[str, Mapping[str, object]]] = [
        (
            "configmap-settings",
            _object("ConfigMap", "stockyard-settings", data={"stockyard.toml": settings_text}),
        ),
        ("configmap-env", _object("ConfigMap", "stockyard-env", data=env)),
        (
            "secret-keys",
            _object(
                "Secret",
                "stockyard-keys",
                type="Opaque",
                # The keys to fill in; the database URL names the `postgresql` service.
                stringData=dict.fromkeys(_SECRET_KEYS, ""),
            ),
        ),
    ]
    for spec in table:
        objects.append((f"deployment-{_k8s_name(spec.name)}", _deployment(spec, settings, image)))
        if spec.kind == "hub":
            hub = _service("stockyard-hub", settings.health.api_port, _k8s_name(spec.name))
            objects.append(("service-hub", hub))
        if spec.kind == "sandbox":
            sandbox = _service("stockyard-sandbox", settings.sandbox.port, _k8s_name(spec.name))
            objects.append(("service-sandbox", sandbox))
    return [
        ExportedFile(f"{n:02d}-{name}.json", json.dumps(body, indent=2) + "\n")
        for n, (name, body) in enumerate(objects)
    ]


def _object(kind: str, name: str, **fields: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **fields}


def write_files(files: list[ExportedFile], out: Path) -> list[Path]:
    """Write ``files`` under ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file in files:
        path = out / file.name
        path.write_text(file.text, encoding="utf-8")
        written.append(path)
    return written
