"""The sandbox's state between runs: one JSON document (the exchange's snapshot and the
replay clock) in a SQL table, written in one transaction. SQLite file by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from stockyard.resilience import ErrorCategory, FatalError

__all__ = ["SandboxStateError", "StateStore"]

_COLUMNS = {"name", "saved_at", "data"}


class SandboxStateError(FatalError):
    """The saved state cannot be used (not a database, not the sandbox's, unreadable);
    the message is one line that says what to do."""


_metadata = MetaData()
_table = Table(
    "sandbox_state",
    _metadata,
    Column("name", String(64), primary_key=True),
    Column("saved_at", String(40), nullable=False),
    Column("data", Text, nullable=False),
)


class StateStore:
    """Load and save the sandbox's state under ``name`` at a SQLAlchemy ``url``."""

    def __init__(self, url: str, *, name: str = "default") -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        self._where = url.removeprefix("sqlite:///")
        self._engine: Engine = create_engine(url)
        self._name = name
        try:
            tables = inspect(self._engine).get_table_names()
            if _table.name in tables:
                found = {c["name"] for c in inspect(self._engine).get_columns(_table.name)}
                if not found >= _COLUMNS:
                    raise self.unusable(f"its {_table.name} table is not the sandbox's")
            _metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise self.unusable(_first_line(exc)) from None
        except SandboxStateError:
            self._engine.dispose()
            raise

    def unusable(self, why: str) -> SandboxStateError:
        """The one-line refusal for a state file that cannot be used, saying why."""
        return SandboxStateError(
            f"sandbox state {self._where} cannot be used ({why}): move it away, "
            "or set sandbox.state_file to another path",
            category=ErrorCategory.DATABASE,
        )

    @classmethod
    def at(cls, path: Path, *, name: str = "default") -> StateStore:
        """A SQLite file at ``path``."""
        return cls(f"sqlite:///{path.expanduser()}", name=name)

    def load(self) -> dict[str, object] | None:
        """The last saved state, or ``None``."""
        try:
            with self._engine.connect() as conn:
                query = select(_table.c.data).where(_table.c.name == self._name)
                row = conn.execute(query).first()
        except SQLAlchemyError as exc:
            raise self.unusable(_first_line(exc)) from None
        if row is None:
            return None
        try:
            data = json.loads(row[0])
        except (TypeError, ValueError):
            raise self.unusable("the saved state is not JSON") from None
        if not isinstance(data, dict):
            raise self.unusable("the saved state is not a JSON object")
        return data

    def save(self, data: dict[str, object]) -> None:
        """Replace the saved state in one transaction."""
        text = json.dumps(data, separators=(",", ":"), default=str)
        saved_at = datetime.now(UTC).isoformat()
        with self._engine.begin() as conn:
            conn.execute(delete(_table).where(_table.c.name == self._name))
            conn.execute(_table.insert().values(name=self._name, saved_at=saved_at, data=text))

    def clear(self) -> None:
        """Forget the saved state (``--reset``)."""
        with self._engine.begin() as conn:
            conn.execute(delete(_table).where(_table.c.name == self._name))

    def close(self) -> None:
        self._engine.dispose()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]
