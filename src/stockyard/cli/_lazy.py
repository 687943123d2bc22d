"""Command groups that import a command's module only when that command runs.

Every command module pulls in the layers it drives (pandas, alpaca-py, Dask, FastAPI, …);
importing all of them made ``stockyard --help`` take seconds. A :class:`LazyGroup` lists
its commands from a table (name, module, one line of help) and imports a module when one of
its commands is invoked (or completed): ``--help`` imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import ClassVar

import typer
from typer._click import Command, Context  # typer >= 0.29 builds its groups on its own click
from typer.core import TyperCommand, TyperGroup

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command comes from: ``target`` is ``"module:function"``, a function taking
    ``(app, bench_app)`` that registers it (and maybe more) on those Typer apps; ``help``
    is its line in the listing (a test keeps it equal to the command's own)."""

    target: str
    help: str


def _load(target: str, name: str, *, bench: bool) -> Command:
    module, function = target.split(":")
    install: Callable[[typer.Typer, typer.Typer], None] = getattr(
        importlib.import_module(module), function
    )
    app, bench_app = typer.Typer(), typer.Typer()
    app.add_typer(bench_app, name="bench")
    install(app, bench_app)
    group = typer.main.get_group(app)
    if bench:
        subgroup = group.commands["bench"]
        assert isinstance(subgroup, TyperGroup)  # added just above
        group = subgroup
    command = group.commands.get(name)
    if command is None:
        raise LookupError(f"{target} does not register {name!r}")
    return command


class LazyGroup(TyperGroup):
    """A Typer group whose listed commands are imported when invoked; see the module doc.

    Subclasses set ``table`` (in listing order) and ``bench`` (whether ``table`` names
    ``stockyard bench`` subcommands). Commands registered the usual way are listed after.
    """

    table: ClassVar[Mapping[str, LazyCommand]] = {}
    bench: ClassVar[bool] = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.table, *(name for name in self.commands if name not in self.table)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        found = self.commands.get(cmd_name)
        if found is not None:
            return found
        entry = self.table.get(cmd_name)
        if entry is None:
            return None
        # Enough to list it (help, completion of its name); resolve_command loads the real one.
        return TyperCommand(name=cmd_name, help=entry.help)

    def load(self, cmd_name: str) -> Command | None:
        """The command itself, imported now if it has not been."""
        if cmd_name not in self.commands and cmd_name in self.table:
            target = self.table[cmd_name].target
            self.commands[cmd_name] = _load(target, cmd_name, bench=self.bench)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        name = args[0] if args else ""
        if name and self.load(name) is None and not name.startswith("-"):
            # TyperGroup would suggest among the commands loaded so far; suggest among all.
            close = get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)
