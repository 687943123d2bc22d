"""Turning a log entry into one line of text: plain key=value, JSON, or coloured console."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style

__all__ = ["LEVEL_NUMBERS", "Entry", "console_renderer", "render_json", "render_plain"]

# (unix time, level name, component, event, fields)
Entry = tuple[float, str, str, str, dict[str, Any]]

LEVEL_NUMBERS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}

_second_cache: dict[int, str] = {}


def _timestamp(ts: float) -> str:
    # Formatting a datetime costs ~1 µs; the second prefix changes rarely, so cache it.
    second = int(ts)
    prefix = _second_cache.get(second)
    if prefix is None:
        if len(_second_cache) > 4:
            _second_cache.clear()
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_cache[second] = prefix
    return f"{prefix}.{int((ts - second) * 1_000_000):06d}Z"


def _format_exception(value: object) -> str:
    if isinstance(value, BaseException):
        return "".join(traceback.format_exception(value)).rstrip()
    return str(value)


def _body(component: str, event: str, fields: Mapping[str, Any]) -> str:
    head = f"{component:<13} {event}"
    if not fields:
        return head
    # One comprehension, no helper call per field: this runs 100,000 times a second.
    pairs = " ".join(
        [
            f"{k}={v}"
            if type(v) is not str or (v and " " not in v and "=" not in v)
            else f"{k}={v!r}"
            for k, v in fields.items()
            if k != "exc_info"
        ]
    )
    line = f"{head} {pairs}" if pairs else head
    exc = fields.get("exc_info")
    if exc is not None:
        line = f"{line}\n{_format_exception(exc)}"
    return line


def render_plain(entry: Entry) -> str:
    ts, level, component, event, fields = entry
    return f"{_timestamp(ts)} {level.upper():<8} {_body(component, event, fields)}"


def _json_default(value: object) -> object:
    if isinstance(value, BaseException):
        return _format_exception(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def render_json(entry: Entry) -> str:
    ts, level, component, event, fields = entry
    record: dict[str, Any] = {
        "timestamp": _timestamp(ts),
        "level": level,
        "component": component,
        "event": event,
    }
    for key, value in fields.items():
        record["exception" if key == "exc_info" else key] = value
    return orjson.dumps(record, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


_LEVEL_STYLES = {
    "debug": Style(color="bright_black"),
    "info": Style(color="green"),
    "warning": Style(color="yellow", bold=True),
    "error": Style(color="red", bold=True),
    "critical": Style(color="white", bgcolor="red", bold=True),
}


_COLOR_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
    "windows": ColorSystem.WINDOWS,
}


def console_renderer(console: Console) -> Callable[[Entry], str]:
    """Plain lines with the level coloured by rich, when the console supports colour.

    Styles are rendered to escape codes once, here: rich's per-line rendering costs tens of
    microseconds, far too slow for a log line.
    """
    system = _COLOR_SYSTEMS.get(console.color_system or "")

    def paint(style: Style, text: str) -> str:
        return style.render(text, color_system=system) if system is not None else text

    labels = {level: paint(style, f"{level.upper():<8}") for level, style in _LEVEL_STYLES.items()}
    dim = Style(dim=True)

    def render(entry: Entry) -> str:
        ts, level, component, event, fields = entry
        clock = paint(dim, time.strftime("%H:%M:%S", time.localtime(ts)))
        return f"{clock} {labels.get(level, level)} {_body(component, event, fields)}"

    return render
