"""``stockyard deploy systemd|kubernetes --out DIR``: the process table as systemd units or
Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard.cli._context import fail, print_json, state_of
from stockyard.config import ConfigError
from stockyard.orchestrator import (
    ProcessTable,
    kubernetes_manifests,
    systemd_units,
    write_files,
)

__all__ = ["register"]


def deploy(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="systemd or kubernetes."),
    out: Path = typer.Option(..., "--out", help="Directory to write the files into."),
    image: str = typer.Option("stockyard:latest", "--image", help="Container image (kubernetes)."),
    as_json: bool = typer.Option(False, "--json", help="List the written files as JSON."),
) -> None:
    """Write systemd units or Kubernetes manifests for the process table."""
    state = state_of(ctx)
    settings = state.settings()
    try:
        table = ProcessTable.from_settings(settings)
    except ConfigError as exc:
        fail(str(exc))
    if target == "systemd":
        files = systemd_units(table, settings)
    elif target == "kubernetes":
        text = state.config_file.read_text(encoding="utf-8") if state.config_file else ""
        files = kubernetes_manifests(table, settings, image=image, settings_text=text)
    else:
        fail(f"deploy target must be systemd or kubernetes, got {target!r}")
    try:
        written = write_files(files, out)
    except OSError as exc:
        fail(f"cannot write into {out}: {exc}", code=1)
    if as_json:
        print_json({"target": target, "processes": table.names, "files": [str(p) for p in written]})
    else:
        for path in written:
            typer.echo(str(path))


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard deploy`` (no benchmark)."""
    app.command("deploy")(deploy)
