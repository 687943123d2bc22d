"""The state database: an engine and session factory from a URL, migrated on open.

SQLite (a file under home) by default, PostgreSQL by URL (psycopg 3). Migrations are
Alembic's, configured in code from the installed package: no ``alembic.ini`` at run time.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from stockyard.config import Settings
from stockyard.store._wal import WalCheckpointer

__all__ = ["MIGRATIONS", "Database", "SqliteSynchronous", "alembic_config", "open_database"]

MIGRATIONS = Path(__file__).parent / "_migrations"


def _normalise(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


SqliteSynchronous = Literal["NORMAL", "FULL"]


def _sqlite_pragmas(
    synchronous: SqliteSynchronous,
) -> Callable[[object, ConnectionPoolEntry], None]:
    def apply(dbapi: object, _record: ConnectionPoolEntry) -> None:
        if isinstance(dbapi, sqlite3.Connection):
            cursor = dbapi.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            # In WAL mode a commit has reached the OS when it returns, so it survives a kill
            # of the process with NORMAL; FULL also fsyncs each commit (power loss, ~10x cost).
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Checkpoints run on the database's own thread, not inside a commit (see _wal).
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

    return apply


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for ``engine``, built in code (no ``alembic.ini``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Database:
    """An engine and a session factory; ``migrate()`` brings the schema to the latest."""

    def __init__(
        self, url: str, *, echo: bool = False, sqlite_synchronous: SqliteSynchronous = "NORMAL"
    ) -> None:
        if sqlite_synchronous not in ("NORMAL", "FULL"):
            raise ValueError(
                f"sqlite_synchronous must be NORMAL or FULL, got {sqlite_synchronous!r}"
            )
        self.url = _normalise(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        file: Path | None = None
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            file = Path(parsed.database).expanduser()
            file.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url, echo=echo, pool_pre_ping=not self.is_sqlite)
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        self._file = file
        self._synchronous = sqlite_synchronous
        self._dedicated: list[sqlite3.Connection] = []
        if file is not None:
            with self.engine.connect():  # the file exists, in WAL mode, before the thread opens it
                pass
            self.checkpointer = WalCheckpointer(file)
            weakref.finalize(self, self.checkpointer.request_stop)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration (a no-op when already there)."""
        command.upgrade(alembic_config(self.engine), "head")

    def revision(self) -> str | None:
        """The schema's current migration id; None before the first migration."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head() -> str | None:
        """The newest migration id shipped with this version."""
        return ScriptDirectory.from_config(_script_config()).get_current_head()

    def dedicated_connection(self) -> sqlite3.Connection | None:
        """For a SQLite file: a driver connection of its own, outside the pool, with the same
        settings (the order journal's, so that an order's write skips the pool's checkout
        and reset); closed by ``dispose``. ``None`` for other databases. Not thread-safe by
        itself: its user serialises access (the journal holds a lock)."""
        if self._file is None:
            return None
        connection = sqlite3.connect(self._file, timeout=5.0, check_same_thread=False)
        _sqlite_pragmas(self._synchronous)(connection, None)  # type: ignore[arg-type]  # unused
        self._dedicated.append(connection)
        return connection

    def dispose(self) -> None:
        """Close every connection (after a last checkpoint of SQLite's log)."""
        for connection in self._dedicated:
            connection.close()
        self._dedicated.clear()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def open_database(
    source: Settings | str,
    *,
    migrate: bool = True,
    sqlite_synchronous: SqliteSynchronous = "NORMAL",
) -> Database:
    """The database of ``settings`` (or at a URL), migrated to the latest schema.

    ``sqlite_synchronous``: ``NORMAL`` (the default) keeps every commit through a crash or a
    kill of the process; ``FULL`` also through a power loss or an OS crash, at an fsync per
    commit. PostgreSQL ignores it (its commits are durable by its own settings).
    """
    url = source if isinstance(source, str) else source.database.sqlalchemy_url()
    database = Database(url, sqlite_synchronous=sqlite_synchronous)
    if migrate:
        database.migrate()
    return database
