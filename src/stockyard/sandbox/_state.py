"""The sandbox's state between runs: one JSON document (the exchange's snapshot and the
replay clock) in a SQL table, written in one transaction. SQLite file by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, delete, select
from sqlalchemy.engine import Engine

__all__ = ["StateStore"]

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
        self._engine: Engine = create_engine(url)
        self._name = name
        _metadata.create_all(self._engine)

    @classmethod
    def at(cls, path: Path, *, name: str = "default") -> StateStore:
        """A SQLite file at ``path``."""
        return cls(f"sqlite:///{path.expanduser()}", name=name)

    def load(self) -> dict[str, object] | None:
        """The last saved state, or ``None``."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_table.c.data).where(_table.c.name == self._name)).first()
        if row is None:
            return None
        data = json.loads(row[0])
        return data if isinstance(data, dict) else None

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
