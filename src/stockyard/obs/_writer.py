"""The background writer: the calling thread only enqueues, this thread touches the disk.

Files never drop an entry. The console is for people and cannot show 100,000 lines a second,
so it has its own small thread and a bounded buffer: when it falls behind, the oldest lines
are dropped from the console only, counted, and stay in the files.
"""

from __future__ import annotations

import collections
import logging.handlers
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stockyard.obs._redact import REDACTED, Redactor
from stockyard.obs._render import LEVEL_NUMBERS, Entry
from stockyard.obs._stats import LogStats

__all__ = ["ConsoleSink", "FileLayout", "LogWriter"]

_MB = 1024 * 1024
_BATCH = 4096
_SAFE_NAME = re.compile(r"[^a-z0-9_]+")
_SEPARATOR = "\x1e"  # ASCII record separator: joins a batch for one redaction pass


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """The standard library's rotating file, written a batch of lines at a time."""

    def write_lines(self, lines: list[str]) -> None:
        """Append lines, rolling over between lines whenever the file would pass its size."""
        if self.stream is None:
            self.stream = self._open()
        if self.maxBytes <= 0:
            self.stream.write("\n".join(lines) + "\n")
            return
        # Sizes are counted in characters, near enough to bytes for rotation.
        room = self.maxBytes - self.stream.tell()
        text = "\n".join(lines) + "\n"
        if len(text) <= room:  # the common case: the whole batch fits
            self.stream.write(text)
            return
        chunk: list[str] = []
        for line in lines:
            size = len(line) + 1
            if size > room and (chunk or self.stream.tell() > 0):
                if chunk:
                    self.stream.write("\n".join(chunk) + "\n")
                    chunk = []
                self.doRollover()
                if self.stream is None:
                    self.stream = self._open()
                room = self.maxBytes
            chunk.append(line)
            room -= size
        if chunk:
            self.stream.write("\n".join(chunk) + "\n")

    def flush_now(self) -> None:
        if self.stream is not None:
            self.stream.flush()


@dataclass(frozen=True, slots=True)
class FileLayout:
    """Where the log files go and when they rotate."""

    directory: Path
    all_max_bytes: int = 50 * _MB
    errors_max_bytes: int = 10 * _MB
    component_max_bytes: int = 20 * _MB
    backups: int = 5


@dataclass(slots=True)
class _Flush:
    done: threading.Event


class ConsoleSink:
    """Lines for people, written by a thread of its own from a bounded buffer."""

    def __init__(
        self,
        stream: TextIO,
        render: Callable[[Entry], str],
        *,
        level: int,
        capacity: int = 10_000,
    ) -> None:
        self.stream = stream
        self.render = render
        self.level = level
        self.dropped = 0
        self._buffer: collections.deque[Entry] = collections.deque()
        self._capacity = capacity
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stockyard-console", daemon=True)
        self._thread.start()

    def offer(self, entries: list[Entry]) -> None:
        with self._wake:
            buffer = self._buffer
            for entry in entries:
                if len(buffer) >= self._capacity:
                    buffer.popleft()
                    self.dropped += 1
                buffer.append(entry)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._buffer and not self._stopping:
                    self._wake.wait()
                entries = list(self._buffer)
                self._buffer.clear()
                stopping = self._stopping
            if entries:
                self._emit(entries)
            if stopping and not entries:
                return

    def _emit(self, entries: list[Entry]) -> None:
        text = "\n".join(self.render(e) for e in entries) + "\n"
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken console must not stop logging
            self.dropped += len(entries)

    def close(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout)


class LogWriter:
    """Drains the queue in batches, renders, redacts, and writes every file."""

    def __init__(
        self,
        *,
        layout: FileLayout | None,
        render: Callable[[Entry], str],
        redactor: Redactor,
        stats: LogStats,
        console: ConsoleSink | None = None,
    ) -> None:
        self.queue: queue.SimpleQueue[Entry | _Flush | None] = queue.SimpleQueue()
        self.put = self.queue.put  # bound once: the calling thread's only cost
        self._layout = layout
        self._render = render
        self._redactor = redactor
        self._stats = stats
        self._console = console
        self._files: dict[str, _RotatingFile] = {}
        self._plain_keys: set[str] = set()
        if layout is not None:
            layout.directory.mkdir(parents=True, exist_ok=True)
            self._file("trading_system", layout.all_max_bytes)
            self._file("errors", layout.errors_max_bytes)
        self._thread = threading.Thread(target=self._run, name="stockyard-log-writer", daemon=True)
        self._thread.start()

    @property
    def console_dropped(self) -> int:
        return self._console.dropped if self._console is not None else 0

    def depth(self) -> int:
        return self.queue.qsize()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything enqueued so far is on disk. False on timeout."""
        if not self._thread.is_alive():
            return False
        done = threading.Event()
        self.queue.put(_Flush(done))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write everything still queued, then stop. Safe to call twice."""
        if self._thread.is_alive():
            self.queue.put(None)
            self._thread.join(timeout)
        if self._console is not None:
            self._console.close(timeout)
        for handler in self._files.values():
            handler.close()
        self._files.clear()

    # -- the writer thread ---------------------------------------------------------------

    def _file(self, name: str, max_bytes: int) -> _RotatingFile:
        handler = self._files.get(name)
        if handler is None:
            assert self._layout is not None
            path = self._layout.directory / f"{name}.log"
            handler = _RotatingFile(
                path,
                maxBytes=max_bytes,
                backupCount=self._layout.backups,
                encoding="utf-8",
                delay=True,
            )
            self._files[name] = handler
        return handler

    def _run(self) -> None:
        get, get_nowait = self.queue.get, self.queue.get_nowait
        while True:
            item = get()
            batch: list[Entry] = []
            controls: list[_Flush | None] = []
            while True:
                if isinstance(item, tuple):
                    batch.append(item)
                else:
                    controls.append(item)
                    break  # write what came before a control item, then honour it
                if len(batch) >= _BATCH:
                    break
                try:
                    item = get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for control in controls:
                if control is None:
                    self._drain_rest()
                    return
                control.done.set()

    def _drain_rest(self) -> None:
        rest: list[Entry] = []
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                rest.append(item)
            elif item is not None:
                item.done.set()
        if rest:
            self._write(rest)

    def _scrub_fields(self, entry: Entry) -> Entry:
        fields = entry[4]
        if not fields or fields.keys() <= self._plain_keys:  # the common case, checked in C
            return entry
        hidden = None
        for key in fields:
            if key in self._plain_keys:
                continue
            if not Redactor.is_secret_key(key):
                self._plain_keys.add(key)
                continue
            hidden = hidden or dict(fields)
            hidden[key] = REDACTED
        return entry if hidden is None else (entry[0], entry[1], entry[2], entry[3], hidden)

    def _render_batch(self, entries: list[Entry]) -> list[str]:
        """Render every entry, then redact the whole batch in one pass (one regex scan of
        one string costs far less than one per line)."""
        render = self._render
        lines = [render(entry) for entry in entries]
        text = _SEPARATOR.join(lines)
        if text.count(_SEPARATOR) != len(lines) - 1:
            return [self._redactor.text(line) for line in lines]  # a line holds the separator
        return self._redactor.text(text).split(_SEPARATOR)

    def _write(self, raw_batch: list[Entry]) -> None:
        batch = [self._scrub_fields(entry) for entry in raw_batch]
        everything = self._render_batch(batch)
        errors: list[str] = []
        by_component: dict[str, list[str]] = {}
        shown: list[Entry] = []
        console = self._console
        console_level = console.level if console is not None else 100
        levels = LEVEL_NUMBERS
        for entry, line in zip(batch, everything, strict=True):
            level = levels.get(entry[1], 20)
            if level >= 40:
                errors.append(line)
            lines = by_component.get(entry[2])
            if lines is None:
                lines = by_component[entry[2]] = []
            lines.append(line)
            if level >= console_level:
                shown.append(entry)
        if self._layout is not None:
            self._write_file("trading_system", self._layout.all_max_bytes, everything)
            if errors:
                self._write_file("errors", self._layout.errors_max_bytes, errors)
            for component, lines in by_component.items():
                name = _SAFE_NAME.sub("_", component.lower()) or "unnamed"
                if name in ("trading_system", "errors"):
                    name = f"{name}_component"
                self._write_file(name, self._layout.component_max_bytes, lines)
            for handler in self._files.values():
                handler.flush_now()
        if shown and console is not None:
            console.offer(shown)  # the console's renderer redacts its own lines
        self._stats.record_batch(batch)

    def _write_file(self, name: str, max_bytes: int, lines: list[str]) -> None:
        try:
            self._file(name, max_bytes).write_lines(lines)
        except OSError as exc:  # a full disk must not kill the writer; count it in stats
            self._stats.record_batch([(0.0, "error", "system", f"log write failed: {exc}", {})])
