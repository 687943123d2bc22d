"""Commands against a running system, through ``stockyard.client`` (``STOCKYARD_URL``,
``STOCKYARD_API_KEY``; defaults: the local hub and the local admin key file):
``positions``, ``orders``, ``fills``, ``pnl``, ``kill``, ``resume``, ``bots …``, ``jobs …``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import fail, print_json
from stockyard.client import ApiError, StockyardClient

__all__ = ["register"]

_BOTS_HELP = "The running node's bots: list, pause, resume, change parameters."
_JOBS_HELP = "Research jobs of the running hub: list, watch progress, cancel."
_JSON = typer.Option(False, "--json", help="Print JSON.")
_NODE = typer.Option(None, "--node", help="The node (default: the first).")
_TERMINAL = ("done", "failed", "canceled")


@contextmanager
def _client() -> Iterator[StockyardClient]:
    try:
        with StockyardClient() as client:
            yield client
    except ApiError as exc:
        fail(exc.message if exc.status == 0 else f"{exc.code}: {exc.message}", code=1)


def _show(
    model: BaseModel | Sequence[BaseModel], as_json: bool, table: Callable[[], Table | str]
) -> None:
    if as_json:
        if not isinstance(model, BaseModel):
            print_json([m.model_dump(mode="json") for m in model])
        else:
            print_json(model.model_dump(mode="json"))
        return
    shown = table()
    if isinstance(shown, str):
        typer.echo(shown)
    else:
        Console().print(shown)


def _table(title: str, columns: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    return table


def positions(node: str | None = _NODE, as_json: bool = _JSON) -> None:
    """Positions of the running node, marked at its last prices."""
    with _client() as client:
        found = client.positions(node=node)
    rows = [
        (p.symbol, p.qty, p.avg_entry_price, p.current_price, p.market_value, p.unrealized_pl)
        for p in found.positions
    ]
    columns = ("symbol", "qty", "avg price", "last", "value", "unrealized P&L")
    _show(found, as_json, lambda: _table(f"positions ({found.node})", columns, rows))


def orders(
    every: bool = typer.Option(False, "--all", help="The journal's newest orders, not only open."),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many."),
    node: str | None = _NODE,
    as_json: bool = _JSON,
) -> None:
    """Open orders (or, with --all, the newest orders) of the running node."""
    with _client() as client:
        found = client.orders(node=node, open_only=not every, limit=limit)
    rows = [
        (
            o.client_order_id,
            o.bot,
            o.symbol,
            o.side.value,
            o.type.value,
            o.qty,
            o.status,
            o.filled_qty,
        )
        for o in found.orders
    ]
    columns = ("client order id", "bot", "symbol", "side", "type", "qty", "status", "filled")
    _show(found, as_json, lambda: _table(f"orders ({found.node})", columns, rows))


def fills(
    limit: int = typer.Option(100, min=1, max=100_000, help="The newest this many."),
    node: str | None = _NODE,
    as_json: bool = _JSON,
) -> None:
    """Fills of the running node, oldest first."""
    with _client() as client:
        found = client.fills(node=node, limit=limit)
    rows = [
        (
            f"{f.timestamp:%Y-%m-%d %H:%M:%S}",
            f.client_order_id,
            f.symbol,
            f.side.value,
            f.qty,
            f.price,
        )
        for f in found.fills
    ]
    columns = ("time", "client order id", "symbol", "side", "qty", "price")
    _show(found, as_json, lambda: _table(f"fills ({found.node})", columns, rows))


def pnl(node: str | None = _NODE, as_json: bool = _JSON) -> None:
    """P&L of the running node per bot and per symbol."""
    with _client() as client:
        found = client.pnl(node=node)

    def tables() -> str:
        console = Console()
        for title, lines in (("per bot", found.by_bot), ("per symbol", found.by_symbol)):
            rows = [(x.name, x.realized, x.unrealized, x.fees) for x in lines]
            console.print(_table(f"P&L {title}", ("name", "realized", "unrealized", "fees"), rows))
        return ""

    _show(found, as_json, tables)


def kill(
    flatten: bool = typer.Option(False, "--flatten", help="Close every position too."),
    reason: str = typer.Option("operator (CLI)", help="Why, for the log and the audit."),
    node: str | None = _NODE,
    as_json: bool = _JSON,
) -> None:
    """Pull the kill switch: refuse new orders, cancel open ones; --flatten closes all."""
    with _client() as client:
        state = client.kill(reason, flatten=flatten, node=node)
    _show(state, as_json, lambda: f"halted: {state.reason}" + (" (flattening)" if flatten else ""))


def resume(node: str | None = _NODE, as_json: bool = _JSON) -> None:
    """Release the kill switch (admin key)."""
    with _client() as client:
        state = client.reset(node=node)
    _show(state, as_json, lambda: "trading resumed" if not state.halted else "still halted")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add positions, orders, fills, pnl, kill, resume, bots and jobs."""
    for name, command in (
        ("positions", positions),
        ("orders", orders),
        ("fills", fills),
        ("pnl", pnl),
        ("kill", kill),
        ("resume", resume),
    ):
        app.command(name)(command)
    bots = typer.Typer(help=_BOTS_HELP, no_args_is_help=True)
    app.add_typer(bots, name="bots")
    _bots(bots)
    jobs = typer.Typer(help=_JOBS_HELP, no_args_is_help=True)
    app.add_typer(jobs, name="jobs")
    _jobs(jobs)


def _bots(bots: typer.Typer) -> None:
    @bots.command("ls")
    def ls(node: str | None = _NODE, as_json: bool = _JSON) -> None:
        """List the bots with state and parameters."""
        with _client() as client:
            found = client.bots(node=node)
        rows = [
            (
                b.bot_id,
                b.strategy,
                ",".join(b.symbols),
                "paused" if b.paused else b.status,
                ", ".join(
                    f"{k}={v}{'*' if k in b.changeable else ''}" for k, v in b.params.items()
                ),
            )
            for b in found.bots
        ]
        columns = ("bot", "strategy", "symbols", "state", "params (* changeable)")
        _show(found, as_json, lambda: _table(f"bots ({found.node})", columns, rows))

    @bots.command("pause")
    def pause(bot: str, node: str | None = _NODE, as_json: bool = _JSON) -> None:
        """Pause a bot: no new entries; what it holds is still managed."""
        with _client() as client:
            view = client.pause(bot, node=node)
        _show(view, as_json, lambda: f"{view.bot_id} paused")

    @bots.command("resume")
    def resume_bot(bot: str, node: str | None = _NODE, as_json: bool = _JSON) -> None:
        """Resume a paused bot."""
        with _client() as client:
            view = client.resume(bot, node=node)
        _show(view, as_json, lambda: f"{view.bot_id} resumed")

    @bots.command("set")
    def set_params(
        bot: str,
        param: list[str] = typer.Option(..., "--param", help="name=value (repeat)."),
        node: str | None = _NODE,
        as_json: bool = _JSON,
    ) -> None:
        """Change parameters the bot declares changeable."""
        values: dict[str, object] = {}
        for pair in param:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                fail(f"--param wants name=value, got {pair!r}")
            values[name.strip()] = value.strip()
        with _client() as client:
            view = client.set_params(bot, values, node=node)
        _show(view, as_json, lambda: f"{view.bot_id}: {view.params}")


def _jobs(jobs: typer.Typer) -> None:
    @jobs.command("ls")
    def ls(as_json: bool = _JSON) -> None:
        """List research jobs, newest first."""
        with _client() as client:
            found = client.jobs()
        rows = [(j.id, j.kind, j.state.value, f"{j.progress:.0%}", j.message) for j in found]
        columns = ("job", "kind", "state", "progress", "message")
        _show(found, as_json, lambda: _table("jobs", columns, rows))

    @jobs.command("watch")
    def watch(job_id: str, as_json: bool = _JSON) -> None:
        """Follow a job's progress until it ends (JSON lines with --json)."""
        with _client() as client:
            job = client.job(job_id)
            if job.state.value not in _TERMINAL:
                for event in client.events("jobs", last_event_id=0):
                    if event.subject != job_id:
                        continue
                    if as_json:
                        print_json(event.data)
                    else:
                        done = float(str(event.data["progress"]))
                        typer.echo(f"{event.data['state']:<9} {done:6.1%}  {event.data['message']}")
                    if event.data["state"] in _TERMINAL:
                        break
            job = client.job(job_id)
        _show(job, as_json, lambda: f"{job.id}: {job.state.value} (result {job.result_id or '-'})")

    @jobs.command("cancel")
    def cancel(job_id: str, as_json: bool = _JSON) -> None:
        """Ask a job to stop."""
        with _client() as client:
            job = client.cancel_job(job_id)
        _show(job, as_json, lambda: f"{job.id}: {job.state.value}")
