"""The research table: backtests, walk-forwards and Monte Carlo runs, each one document."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from stockyard.store._models import Base, UtcDateTime

__all__ = ["ResearchRunRow"]


class ResearchRunRow(Base):
    """One stored research run. ``id`` is derived from ``document`` (the same run twice is
    the same row); ``summary`` holds the few figures a listing shows."""

    __tablename__ = "research_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    strategy: Mapped[str | None] = mapped_column(String(200))
    symbols: Mapped[list[str]] = mapped_column(JSON())
    summary: Mapped[dict[str, object]] = mapped_column(JSON())
    document: Mapped[bytes] = mapped_column(LargeBinary())
