"""What every command shares: the settings (loaded once, errors as one line) and output."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import typer

from stockyard.config import ConfigError, Settings, load_settings
from stockyard.obs import configure_logging

__all__ = ["AppState", "fail", "parse_duration", "print_json", "state_of"]

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
