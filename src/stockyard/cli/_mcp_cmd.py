"""``stockyard mcp``: the MCP server on stdio for a desktop AI assistant."""

from __future__ import annotations

import typer

from stockyard.cli._context import fail, state_of
from stockyard.client import default_key
from stockyard.mcp import NoSystemError, serve_stdio


def mcp(
    ctx: typer.Context,
    allow_live: bool = typer.Option(
        False, "--allow-live", help="Let the assistant place orders on a live node (under the cap)."
    ),
    url: str | None = typer.Option(
        None, "--url", help="The hub (default: STOCKYARD_URL, else the local hub)."
    ),
) -> None:
    """Serve the MCP server on stdio for an AI assistant, against the running system."""
    settings = state_of(ctx).start_logging(console=False)  # stdout is the MCP channel
    try:
        serve_stdio(settings, url=url, key=default_key(), allow_live=allow_live)
    except NoSystemError as exc:
        fail(str(exc), code=1)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard mcp`` to ``app`` (no benchmark)."""
    app.command("mcp")(mcp)
