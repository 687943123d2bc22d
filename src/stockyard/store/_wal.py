"""SQLite's write-ahead log, checkpointed off the trading path.

By default SQLite checkpoints inside whichever commit pushes the log past 1,000 pages: that
commit copies the log into the database file and syncs it, and an order's journal write that
normally takes a fraction of a millisecond takes several. The state database turns automatic
checkpoints off on its connections and runs them here instead, on a thread of their own with
a connection of their own, in ``PASSIVE`` mode (it never blocks a writer or a reader).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from stockyard.obs import get_logger

__all__ = ["WalCheckpointer"]

_log = get_logger("store")


class WalCheckpointer:
    """Checkpoints ``path``'s write-ahead log every ``every_s`` seconds until ``stop``."""

    def __init__(self, path: Path, *, every_s: float = 0.5) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be > 0, got {every_s}")
        self.path = path
        self.every_s = every_s
        self.checkpoints = 0  # passes that copied pages into the database file
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint:{path.name}", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the thread (after a last pass); safe to call more than once."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def request_stop(self) -> None:
        """Ask the thread to stop without waiting for it (from a finaliser)."""
        self._stop.set()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        except sqlite3.Error as exc:  # the file went away before we started
            _log.warning("wal checkpointer not started", path=str(self.path), error=repr(exc))
            return
        try:
            while not self._stop.wait(self.every_s):
                if not self._checkpoint(connection):
                    return
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> bool:
        """One passive pass; ``False`` when the database can no longer be reached."""
        if not self.path.exists():
            return False
        try:
            row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # locked past the timeout, or the file is gone
            _log.warning("wal checkpoint failed", path=str(self.path), error=repr(exc))
            return self.path.exists()
        if row is not None and row[2] > 0:
            self.checkpoints += 1
        return True
