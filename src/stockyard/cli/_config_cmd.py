"""``stockyard config show|check``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import fail, print_json, state_of
from stockyard.config import ConfigError, describe_settings

config_app = typer.Typer(help="Show or check the effective settings.", no_args_is_help=True)


@config_app.command("show")
def show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print every setting, secrets masked, with where its value came from."""
    state = state_of(ctx)
    try:
        rows = describe_settings(config_file=state.config_file, overrides=state.overrides)
    except ConfigError as exc:
        fail(str(exc))
    if as_json:
        print_json([{"key": r.key, "value": r.value, "source": r.source} for r in rows])
        return
    table = Table(title="stockyard settings", show_lines=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value")
    table.add_column("from", style="dim")
    for row in rows:
        table.add_row(row.key, row.value, row.source)
    Console().print(table)


@config_app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the settings: exit 0 when valid, 2 with one line naming the bad key."""
    settings = state_of(ctx).settings()
    typer.echo(f"settings valid (home {settings.home})")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the ``config`` group to ``app`` (no benchmark)."""
    app.add_typer(config_app, name="config")
