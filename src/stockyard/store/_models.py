"""The tables. One declarative base for the whole state database; later layers add theirs
(orders, fills, ...) here, each with an Alembic migration in ``_migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import MetaData
from sqlalchemy.types import TypeDecorator

__all__ = ["AlertRow", "Base", "MetricSampleRow", "UtcDateTime"]

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class MetricSampleRow(Base):
    """One sampled metric value (health history)."""

    __tablename__ = "metric_samples"
    __table_args__ = (Index("ix_metric_samples_component_time", "component", "time"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    component: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float())
    unit: Mapped[str | None] = mapped_column(String(32))


class AlertRow(Base):
    """One alert, updated in place when it is resolved or acknowledged."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(128), index=True)
    subject: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text())
    value: Mapped[object] = mapped_column(JSON(), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
