"""The ``stockyard`` command: thin, parses arguments and calls the layers below."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard import __version__
from stockyard.cli._backtest_cmd import register as register_backtest
from stockyard.cli._bench_cmd import bench_app
from stockyard.cli._bus_cmd import register as register_bus
from stockyard.cli._config_cmd import config_app
from stockyard.cli._context import AppState
from stockyard.cli._data import data_app
from stockyard.cli._data_remote import register as register_remote_data
from stockyard.cli._doctor_cmd import doctor
from stockyard.cli._health_cmd import register as register_health
from stockyard.cli._oms_cmd import register as register_oms
from stockyard.cli._research_cmd import register as register_research
from stockyard.cli._run_cmd import register as register_run
from stockyard.cli._sandbox_cmd import register as register_sandbox
from stockyard.cli._state_cmd import register as register_state
from stockyard.cli._up import up

app = typer.Typer(
    name="stockyard",
    help="Stockyard: an algorithmic trading platform for Alpaca.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stockyard {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", "-c", envvar="STOCKYARD_CONFIG", help="Settings file (stockyard.toml)."
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING, ..."),
    log_format: str | None = typer.Option(
        None, "--log-format", help="console (for people) or json (JSON lines)."
    ),
    _version_flag: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    overrides: dict[str, object] = {"log.level": log_level, "log.format": log_format}
    ctx.obj = AppState(config_file=config, overrides=overrides)


# Registration order is the order `stockyard --help` lists the commands in.
app.command("up")(up)
register_run(app, bench_app)  # run
register_sandbox(app, bench_app)  # sandbox
app.add_typer(data_app, name="data")
register_remote_data(data_app)  # data fetch, data sync
register_bus(app, bench_app)  # stream, bus
register_backtest(app, bench_app)  # backtest, walkforward, compare
register_research(app, bench_app)  # sweep, montecarlo
register_health(app, bench_app)  # health
app.command("doctor")(doctor)
app.add_typer(config_app, name="config")
register_state(app, bench_app)  # state
register_oms(app, bench_app)  # bench oms only
app.add_typer(bench_app, name="bench")


def main() -> None:
    """Console-script entry point."""
    app()
