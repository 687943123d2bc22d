"""The ``stockyard`` command: thin, parses arguments and calls the layers below."""

from __future__ import annotations

from pathlib import Path

import typer

from stockyard import __version__
from stockyard.cli._lazy import LazyCommand, LazyGroup

_CLI = "stockyard.cli."

# Every command, in the order `stockyard --help` lists them: the module that registers it
# (imported only when the command runs) and its line of help. tests/unit/cli keeps each
# line equal to the command's own.
_COMMANDS = {
    "up": LazyCommand(
        _CLI + "_up:register",
        "Start everything this install has, print where it runs, and idle until Ctrl-C.",
    ),
    "run": LazyCommand(
        _CLI + "_run_cmd:register",
        "Trade one strategy, or the [[bots]] of stockyard.toml, until Ctrl-C (or --duration).",
    ),
    "sandbox": LazyCommand(
        _CLI + "_sandbox_cmd:register",
        "Run the local Alpaca-compatible exchange in the foreground until Ctrl-C.",
    ),
    "stream": LazyCommand(
        _CLI + "_bus_cmd:register",
        "Show a live table of last quote, trade and bar per symbol, with message rates.",
    ),
    "walkforward": LazyCommand(
        _CLI + "_backtest_cmd:register",
        "Walk-forward optimisation: search each train part, trade the next test part.",
    ),
    "compare": LazyCommand(
        _CLI + "_backtest_cmd:register",
        "Several strategies or parameter sets on the same bars: metrics, correlation.",
    ),
    "sweep": LazyCommand(
        _CLI + "_research_cmd:register",
        "Sweep sma_cross over (fast, slow) pairs on the vectorised path (fills at next open).",
    ),
    "montecarlo": LazyCommand(
        _CLI + "_research_cmd:register",
        "Monte Carlo of a run (a results file, a stored backtest, or a backtest run first):\n"
        "trade bootstrap, permutation, block bootstrap, delay.",
    ),
    "doctor": LazyCommand(
        _CLI + "_doctor_cmd:register",
        "Check that this machine can run Stockyard; exit 0 only if every required check passes.",
    ),
    "data": LazyCommand(
        _CLI + "_data_remote:register_group",
        "Historical bars: generate synthetic data, import files, list and show what is stored.",
    ),
    "bus": LazyCommand(_CLI + "_bus_cmd:register", "The message bus."),
    "backtest": LazyCommand(
        _CLI + "_backtest_cmd:register",
        "Backtest a strategy on the event engine (same bots, risk and orders as live).",
    ),
    "health": LazyCommand(
        _CLI + "_health_cmd:register", "Health checks, metrics and alerts (the API on port 5555)."
    ),
    "config": LazyCommand(_CLI + "_config_cmd:register", "Show or check the effective settings."),
    "state": LazyCommand(
        _CLI + "_state_cmd:register",
        "Snapshot and restore the trading state (runs, orders, fills, ...).",
    ),
    "ml": LazyCommand(
        _CLI + "_ml_cmd:register",
        "Machine-learned bots' models: train from stored bars, list, show, promote, remove.",
    ),
    "node": LazyCommand(
        _CLI + "_node_cmd:register",
        "Run one account's trading node (its bots) until SIGTERM: a process of `stockyard up`.",
    ),
    "hub": LazyCommand(
        _CLI + "_hub_cmd:register",
        "Serve the hub (health, metrics, API v1, MCP, dashboard) on the health port until SIGTERM.",
    ),
    "feed": LazyCommand(
        _CLI + "_feed_cmd:register",
        "Publish the account's market data on the Redis bus until SIGTERM (one stream per key).",
    ),
    "ps": LazyCommand(
        _CLI + "_ps_cmd:register",
        "The processes of the running system: state, pid, uptime, restarts, CPU, memory.",
    ),
    "start": LazyCommand(
        _CLI + "_ps_cmd:register",
        "Start a process (or --all) and wait until its readiness probe answers.",
    ),
    "stop": LazyCommand(
        _CLI + "_ps_cmd:register",
        "Stop a process (or --all, in reverse dependency order), its whole process group.",
    ),
    "restart": LazyCommand(
        _CLI + "_ps_cmd:register", "Restart a process (or --all) and wait until it is ready again."
    ),
    "logs": LazyCommand(
        _CLI + "_ps_cmd:register", "A process's output as supervisord captured it (-f to follow)."
    ),
    "deploy": LazyCommand(
        _CLI + "_deploy_cmd:register",
        "Write systemd units or Kubernetes manifests for the process table.",
    ),
    "keys": LazyCommand(
        _CLI + "_keys_cmd:register", "API keys of the REST API: create (shown once), list, revoke."
    ),
    "audit": LazyCommand(
        _CLI + "_keys_cmd:register",
        "Show the audit log of control calls: who, what, arguments, result.",
    ),
    "positions": LazyCommand(
        _CLI + "_control_cmd:register", "Positions of the running node, marked at its last prices."
    ),
    "orders": LazyCommand(
        _CLI + "_control_cmd:register",
        "Open orders (or, with --all, the newest orders) of the running node.",
    ),
    "fills": LazyCommand(
        _CLI + "_control_cmd:register", "Fills of the running node, oldest first."
    ),
    "pnl": LazyCommand(
        _CLI + "_control_cmd:register", "P&L of the running node per bot and per symbol."
    ),
    "kill": LazyCommand(
        _CLI + "_control_cmd:register",
        "Pull the kill switch: refuse new orders, cancel open ones; --flatten closes all.",
    ),
    "resume": LazyCommand(_CLI + "_control_cmd:register", "Release the kill switch (admin key)."),
    "bots": LazyCommand(
        _CLI + "_control_cmd:register",
        "The running node's bots: list, pause, resume, change parameters.",
    ),
    "jobs": LazyCommand(
        _CLI + "_control_cmd:register",
        "Research jobs of the running hub: list, watch progress, cancel.",
    ),
    "mcp": LazyCommand(
        _CLI + "_mcp_cmd:register",
        "Serve the MCP server on stdio for an AI assistant, against the running system.",
    ),
}

_BENCHMARKS = {
    "logging": LazyCommand(
        _CLI + "_bench_cmd:register",
        "Per-call cost (median, p99 µs) and sustained entries/s to disk, lines counted.",
    ),
    "data": LazyCommand(
        _CLI + "_bench_cmd:register",
        "Parquet write/read rows/s, one symbol-month read, cache lookup and hit rate.",
    ),
    "node": LazyCommand(
        _CLI + "_run_cmd:register",
        "Node: bar → order latency (µs p50/p99) on the sandbox; bars/s, 10 bots × 50 symbols.",
    ),
    "sandbox": LazyCommand(
        _CLI + "_sandbox_cmd:register",
        "Order round trip (p50, p99 ms) and market-data messages/s through alpaca-py.",
    ),
    "bus": LazyCommand(
        _CLI + "_bus_cmd:register",
        "Publish-to-every-subscriber latency (p50, p99 µs) and deliveries/s.",
    ),
    "backtest": LazyCommand(
        _CLI + "_backtest_cmd:register",
        "Event engine bars/s: sma_cross, one symbol (docs/backtesting.md).",
    ),
    "walkforward": LazyCommand(
        _CLI + "_backtest_cmd:register",
        "Walk-forward speed-up on a 2-worker Dask LocalCluster against 1 worker.",
    ),
    "sweep": LazyCommand(
        _CLI + "_research_cmd:register",
        "sma_cross over 1,000 (fast, slow) pairs × 1,000,000 bars: orders per second.",
    ),
    "montecarlo": LazyCommand(
        _CLI + "_research_cmd:register",
        "Block bootstrap of 10,000 paths × 2,520 days: wall time.",
    ),
    "health": LazyCommand(
        _CLI + "_health_cmd:register",
        "A full scan of every check and the cached report p50/p99 (ms), /health requests/s.",
    ),
    "store": LazyCommand(
        _CLI + "_state_cmd:register",
        "Per-call µs of the order journal (record_intent, record_event, record_fill).",
    ),
    "oms": LazyCommand(
        _CLI + "_oms_cmd:register",
        "Order manager: µs/order on SimBroker; ms p50/p99 submit → fill on the sandbox.",
    ),
    "ml": LazyCommand(
        _CLI + "_ml_cmd:register",
        "ML: train_s (1M rows × 50 features), inference p99 ms per bar, a year's backtest.",
    ),
    "soak": LazyCommand(
        _CLI + "_soak_cmd:register",
        "Demo bots at 1,000 msg/s for minutes: orders, fills, memory growth, lost messages.",
    ),
    "orchestrator": LazyCommand(
        _CLI + "_bench_orchestrator_cmd:register",
        "Stop, start-to-ready and restart-after-kill -9 p95 (ms) per process kind.",
    ),
    "dashboard": LazyCommand(
        _CLI + "_dashboard_cmd:register",
        "Overview first paint (cold) and weight; order → fill marker drawn, p95 (ms).",
    ),
    "api": LazyCommand(
        _CLI + "_api_bench_cmd:register",
        "GET /api/v1/positions p99 (ms) at 2,000 req/s open loop; bus → SSE event p99 (ms).",
    ),
    "frozen": LazyCommand(
        _CLI + "_bench_cmd:register",
        "Frozen values on the order path: generated copy/constructor vs the standard library.",
    ),
}


class _Commands(LazyGroup):
    table = _COMMANDS


class _Benchmarks(LazyGroup):
    table = _BENCHMARKS
    bench = True


app = typer.Typer(
    cls=_Commands,
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
    # Imported here, not above: it loads the settings and logging layers, which `--version`
    # and `--help` never need (tests/unit/cli/test_startup.py keeps them out).
    from stockyard.cli._context import AppState  # noqa: PLC0415

    overrides: dict[str, object] = {"log.level": log_level, "log.format": log_format}
    ctx.obj = AppState(config_file=config, overrides=overrides)


bench_app = typer.Typer(
    cls=_Benchmarks, help="Run a benchmark and print its figures.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


def main() -> None:
    """Console-script entry point."""
    app()
