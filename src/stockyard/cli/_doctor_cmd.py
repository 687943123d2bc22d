"""``stockyard doctor``: the system-readiness test."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import print_json, state_of
from stockyard.data import data_checks
from stockyard.obs import CheckStatus, DoctorRegistry, builtin_checks

_STYLES = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "bold red",
    CheckStatus.SKIP: "dim",
}


def doctor_registry() -> DoctorRegistry:
    """Every layer's readiness checks, in order."""
    return DoctorRegistry([*builtin_checks(), *data_checks()])


def doctor(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    report_dir: Path | None = typer.Option(
        None, "--report-dir", help="Where to write the report (default: HOME/reports)."
    ),
) -> None:
    """Check that this machine can run Stockyard; exit 0 only if every required check passes.

    Writes integration_test_report_<UTC timestamp>.json.
    """
    settings = state_of(ctx).settings()
    report = doctor_registry().run(settings)
    path = report.write(report_dir or settings.home / "reports")
    if as_json:
        print_json({**report.to_dict(), "report_file": str(path)})
    else:
        table = Table(title="stockyard doctor")
        table.add_column("check", style="cyan", no_wrap=True)
        table.add_column("status")
        table.add_column("detail")
        table.add_column("ms", justify="right", style="dim")
        for outcome in report.outcomes:
            label = outcome.status.value if outcome.required else f"{outcome.status.value} (info)"
            table.add_row(
                outcome.name,
                f"[{_STYLES[outcome.status]}]{label}[/]",
                outcome.detail,
                f"{outcome.duration_ms:.0f}",
            )
        console = Console()
        console.print(table)
        verdict = (
            "[green]ready[/]"
            if report.ok
            else "[bold red]not ready[/]: " + ", ".join(o.name for o in report.failed)
        )
        console.print(f"{verdict}  (report: {path})")
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard doctor`` to ``app`` (no benchmark)."""
    app.command("doctor")(doctor)
