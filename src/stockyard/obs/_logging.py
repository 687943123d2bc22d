"""Unified logging: structlog in front, the standard library's rotating files behind.

The calling thread pays for a level check, a context merge and one queue put; everything
else (rendering, redaction, statistics, disk) happens on the writer thread (``_writer``).
Third-party libraries that log through the standard library reach the same files through
a bridge handler on the root logger.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TextIO

import structlog
from rich.console import Console

from stockyard.config import LogSettings
from stockyard.obs._redact import Redactor, secret_env_values
from stockyard.obs._render import (
    LEVEL_NUMBERS,
    console_renderer,
    render_json,
    render_plain,
)
from stockyard.obs._stats import LogStats
from stockyard.obs._writer import ConsoleSink, FileLayout, LogWriter

__all__ = [
    "COMPONENTS",
    "Logger",
    "bind_context",
    "configure_logging",
    "flush_logs",
    "get_logger",
    "log_performance",
    "log_trade",
    "logging_stats",
    "register_secrets",
    "shutdown_logging",
]

# One component a layer; each gets its own file. Others are accepted and get theirs too.
COMPONENTS = (
    "system",
    "config",
    "data_pipeline",
    "bus",
    "trading",
    "execution",
    "risk",
    "ai_bots",
    "backtest",
    "sandbox",
    "orchestrator",
    "api",
    "health",
)

_CAPTURED = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Libraries whose INFO lines describe their own plumbing (migration banners, each HTTP
# request: the hub's calls to its nodes' sockets would fill its log), not our system.
_QUIET = {"alembic": logging.WARNING, "httpx": logging.WARNING}
_STDLIB_COMPONENTS = {"uvicorn": "api", "fastapi": "api", "alpaca": "execution", "redis": "bus"}


class _Level:
    """The current threshold, shared by every logger so a reconfigure reaches them all."""

    value = LEVEL_NUMBERS["info"]


_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "stockyard_log_context", default=MappingProxyType({})
)


@dataclass(slots=True)
class _State:
    writer: LogWriter
    redactor: Redactor
    stats: LogStats


_lock = threading.Lock()
_state: _State | None = None
_put = None  # the writer queue's put; set by _install


class _QueueLogger:
    """structlog's final "logger": hands the event to the writer thread."""

    __slots__ = ("component",)

    def __init__(self, component: str) -> None:
        self.component = component

    def _emit(self, level: str, event_dict: dict[str, Any]) -> None:
        event = event_dict.pop("event", "")
        put = _put if _put is not None else _ensure_default()
        put((time.time(), level, self.component, str(event), event_dict))

    def debug(self, event_dict: dict[str, Any]) -> None:
        self._emit("debug", event_dict)

    def info(self, event_dict: dict[str, Any]) -> None:
        self._emit("info", event_dict)

    def warning(self, event_dict: dict[str, Any]) -> None:
        self._emit("warning", event_dict)

    def error(self, event_dict: dict[str, Any]) -> None:
        self._emit("error", event_dict)

    def critical(self, event_dict: dict[str, Any]) -> None:
        self._emit("critical", event_dict)


def _merge_context(_logger: object, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    bound = _context.get()
    if bound:
        return {**bound, **event_dict}
    return event_dict


def _capture_exception(_logger: object, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # The traceback exists only on the calling thread: take the exception object now.
    exc_info = event_dict.get("exc_info")
    if exc_info is not None and not isinstance(exc_info, BaseException):
        current = sys.exc_info()[1] if exc_info is True else None
        if isinstance(exc_info, tuple) and len(exc_info) == 3:
            current = exc_info[1]
        if current is None:
            del event_dict["exc_info"]
        else:
            event_dict["exc_info"] = current
    return event_dict


def _as_argument(_logger: object, _name: str, event_dict: dict[str, Any]) -> Any:
    return (event_dict,), {}


_PROCESSORS: list[Any] = [_merge_context, _capture_exception, _as_argument]


class Logger(structlog.BoundLoggerBase):
    """A component's logger: ``log.info("order sent", symbol="AAPL", qty=100)``."""

    def debug(self, event: str, **kw: Any) -> None:
        if _Level.value <= 10:
            self._proxy_to_logger("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        if _Level.value <= 20:
            self._proxy_to_logger("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        if _Level.value <= 30:
            self._proxy_to_logger("warning", event, **kw)

    warn = warning

    def error(self, event: str, **kw: Any) -> None:
        if _Level.value <= 40:
            self._proxy_to_logger("error", event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        kw.setdefault("exc_info", True)
        self.error(event, **kw)

    def critical(self, event: str, **kw: Any) -> None:
        self._proxy_to_logger("critical", event, **kw)

    def is_enabled_for(self, level: str) -> bool:
        return LEVEL_NUMBERS[level] >= _Level.value


def get_logger(component: str, **context: Any) -> Logger:
    """A logger for one component (``trading``, ``data_pipeline``, ...), context bound."""
    return Logger(_QueueLogger(component), _PROCESSORS, context)


@contextlib.contextmanager
def bind_context(**context: Any) -> Iterator[None]:
    """Carry ``context`` (bot, order id, symbol, ...) into every line logged inside the block,
    on this thread or asyncio task."""
    token = _context.set({**_context.get(), **context})
    try:
        yield
    finally:
        _context.reset(token)


_trading = get_logger("trading")
_system = get_logger("system")


def log_trade(
    *,
    symbol: str,
    side: str,
    qty: Decimal | int | float,
    price: Decimal | float,
    order_id: str | None = None,
    strategy: str | None = None,
    **extra: Any,
) -> None:
    """A structured trade event (``kind=trade``) in the trading log."""
    _trading.info(
        "trade",
        kind="trade",
        symbol=symbol,
        side=side,
        qty=str(qty),
        price=str(price),
        order_id=order_id,
        strategy=strategy,
        **extra,
    )


def log_performance(
    *, name: str, value: float, unit: str, component: str = "system", **extra: Any
) -> None:
    """A structured performance measurement (``kind=performance``)."""
    logger = _system if component == "system" else get_logger(component)
    logger.info("performance", kind="performance", metric=name, value=value, unit=unit, **extra)


# -- configuration -------------------------------------------------------------------------


class _StdlibBridge(logging.Handler):
    """Routes standard-library log records (uvicorn, alpaca-py, ...) into our writer."""

    def emit(self, record: logging.LogRecord) -> None:
        put = _put if _put is not None else _ensure_default()
        root = record.name.split(".", 1)[0]
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info and record.exc_info[1] is not None:
            fields["exc_info"] = record.exc_info[1]
        level = record.levelname.lower()
        if level not in LEVEL_NUMBERS:
            level = "warning" if record.levelno >= logging.WARNING else "info"
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        put((record.created, level, _STDLIB_COMPONENTS.get(root, "system"), message, fields))


_bridge = _StdlibBridge()


def configure_logging(
    settings: LogSettings,
    *,
    secrets: list[str] | tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
    console_stream: TextIO | None = None,
) -> None:
    """Start (or restart) logging: files under ``settings.dir``, console, redaction.

    ``secrets`` are values never to be written (the settings' keys); secret-looking
    environment variables are added. Entries queued before a restart are written first.
    """
    redactor = Redactor([*secrets, *secret_env_values(os.environ if environ is None else environ)])
    render = render_json if settings.format == "json" else render_plain
    console = None
    if settings.console:
        stream = console_stream if console_stream is not None else sys.stderr
        console_render = (
            render_json if settings.format == "json" else console_renderer(Console(file=stream))
        )
        console = ConsoleSink(
            stream,
            lambda entry: redactor.text(console_render(entry)),
            level=LEVEL_NUMBERS[(settings.console_level or settings.level).lower()],
        )
    layout = None
    if settings.dir is not None:
        layout = FileLayout(
            directory=settings.dir,
            all_max_bytes=int(settings.file_max_mb * 1024 * 1024),
            errors_max_bytes=int(settings.errors_max_mb * 1024 * 1024),
            component_max_bytes=int(settings.component_max_mb * 1024 * 1024),
            backups=settings.backups,
        )
    stats = LogStats()
    writer = LogWriter(
        layout=layout, render=render, redactor=redactor, stats=stats, console=console
    )
    _install(_State(writer, redactor, stats), LEVEL_NUMBERS[settings.level.lower()])


def _install(state: _State, level: int) -> None:
    global _state, _put  # noqa: PLW0603 - one module-level sink; the hot path reads one global
    with _lock:
        old = _state
        _state = state
        _put = state.writer.put
        _Level.value = level
        root = logging.getLogger()
        if _bridge not in root.handlers:
            root.addHandler(_bridge)
        root.setLevel(level)
        # Servers that install handlers of their own (uvicorn's default config) would print
        # past our files and redaction: send their records through the root bridge instead.
        for name in _CAPTURED:
            captured = logging.getLogger(name)
            captured.handlers.clear()
            captured.propagate = True
        for name, quiet_level in _QUIET.items():
            logging.getLogger(name).setLevel(max(level, quiet_level))
    if old is not None:
        old.writer.close()


def _ensure_default() -> Any:
    """Before ``configure_logging``: warnings and errors to stderr, no files."""
    with _lock:
        if _state is not None:
            return _state.writer.put
    configure_logging(LogSettings(level="WARNING", dir=None))
    assert _put is not None
    return _put


def register_secrets(*values: str) -> None:
    """Add secret values (tokens made at run time) to redact from now on."""
    if _state is not None:
        _state.redactor.add(values)


def flush_logs(timeout: float = 10.0) -> bool:
    """Block until everything logged so far is on disk (tests, shutdown)."""
    return _state.writer.flush(timeout) if _state is not None else True


def logging_stats() -> dict[str, Any]:
    """Counts by level and component, entries/s, the last error, queue depth."""
    if _state is None:
        return LogStats().snapshot()
    writer = _state.writer
    return _state.stats.snapshot(queue_depth=writer.depth(), console_dropped=writer.console_dropped)


def shutdown_logging() -> None:
    """Write everything queued and close the files. Registered to run at exit."""
    global _state, _put
    with _lock:
        state, _state, _put = _state, None, None
        logging.getLogger().removeHandler(_bridge)
    if state is not None:
        state.writer.close()


atexit.register(shutdown_logging)
