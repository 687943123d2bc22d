"""``stockyard keys create|ls|revoke`` and ``stockyard audit``: on the state database
directly, with or without a running system (as the local user, admin)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from stockyard.cli._context import fail, print_json, state_of
from stockyard.services import AccessService, Caller, ServiceError
from stockyard.store import open_database

__all__ = ["register"]

_HELP = "API keys of the REST API: create (shown once), list, revoke."


def _access(ctx: typer.Context) -> AccessService:
    return AccessService(open_database(state_of(ctx).settings()))


def _create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name for the key (who or what uses it)."),
    scope: str = typer.Option("read", help="read, trade or admin."),
    rate_exempt: bool = typer.Option(False, help="Exempt from rate limits (benchmarks)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a key; its secret is printed this once and stored only hashed."""
    try:
        made = _access(ctx).create_key(name, scope, caller=Caller.local(), rate_exempt=rate_exempt)
    except ServiceError as exc:
        fail(exc.message)
    if as_json:
        print_json(made.model_dump(mode="json"))
        return
    typer.echo(f"key {made.key.name} ({made.key.scope.value}), shown once:")
    typer.echo(made.secret)


def _ls(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List keys (never their secrets)."""
    found = _access(ctx).list_keys()
    if as_json:
        print_json([k.model_dump(mode="json") for k in found])
        return
    table = Table(title="API keys")
    for column in ("name", "id", "scope", "created", "last used", "state"):
        table.add_column(column)
    for k in found:
        table.add_row(
            k.name,
            k.key_id,
            k.scope.value,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            "-" if k.last_used_at is None else f"{k.last_used_at:%Y-%m-%d %H:%M}",
            "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


def _revoke(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The key's name or id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Revoke a key: it is refused from now on (within 2 s by a running hub)."""
    try:
        key = _access(ctx).revoke_key(name, caller=Caller.local())
    except ServiceError as exc:
        fail(exc.message)
    if as_json:
        print_json(key.model_dump(mode="json"))
        return
    typer.echo(f"revoked {key.name} ({key.key_id})")


def _audit(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, max=10_000, help="At most this many entries."),
    action: str | None = typer.Option(None, help="Only this action (e.g. kill.flatten)."),
    key: str | None = typer.Option(None, "--key", help="Only calls with this key name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the audit log of control calls: who, what, arguments, result."""
    found = _access(ctx).audit(limit=limit, action=action, key_name=key)
    if as_json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    table = Table(title="audit log (newest first)")
    for column in ("time", "key", "via", "action", "args", "ok", "result"):
        table.add_column(column, overflow="fold")
    for e in found:
        table.add_row(
            f"{e.time:%Y-%m-%d %H:%M:%S}",
            e.key_name,
            e.via,
            e.action,
            ", ".join(f"{k}={v}" for k, v in e.args.items()),
            "yes" if e.ok else "no",
            e.result[:120],
        )
    Console().print(table)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``keys`` (create, ls, revoke) and ``audit``."""
    keys = typer.Typer(help=_HELP, no_args_is_help=True)
    app.add_typer(keys, name="keys")
    keys.command("create")(_create)
    keys.command("ls")(_ls)
    keys.command("revoke")(_revoke)
    app.command("audit")(_audit)
