"""What every command shares: the settings (loaded once, errors as one line) and output."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from stockyard.config import ConfigError, Settings, load_settings
from stockyard.obs import configure_logging

__all__ = [
    "AppState",
    "fail",
    "parse_duration",
    "parse_moment",
    "print_json",
    "progress_bar",
    "state_of",
]

BAD_INPUT = 2


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """One clear line on stderr, then exit (2 for bad input)."""
    typer.echo(f"stockyard: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, sort_keys=False))


@dataclass
class AppState:
    """Options given before the command (``stockyard --config X doctor``)."""

    config_file: Path | None = None
    overrides: dict[str, object] = field(default_factory=dict)
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(
                    config_file=self.config_file, overrides=self.overrides
                )
            except ConfigError as exc:
                fail(str(exc))
        return self._settings

    def start_logging(self, *, console: bool = True) -> Settings:
        settings = self.settings()
        log = settings.log if console else settings.log.model_copy(update={"console": False})
        configure_logging(log, secrets=settings.secret_values(), console_stream=sys.stderr)
        return settings


def state_of(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``90``, ``30s``, ``10m``, ``2h`` → seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration: use e.g. 30s, 10m, 2h")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_moment(text: str, *, name: str, end: bool = False) -> datetime:
    """``2024-01-02`` (a UTC day; a date-only end includes that day) or an ISO datetime
    (``Z`` or an offset; naive means UTC). A bad value exits 2 naming the option."""
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--{name}: {text!r} is not a date (YYYY-MM-DD) or ISO datetime")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def progress_bar() -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
