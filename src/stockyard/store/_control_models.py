"""The tables of control: API keys (hashed) and the audit log of control calls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stockyard.store._models import Base, UtcDateTime

__all__ = ["ApiKeyRow", "AuditRow"]

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ApiKeyRow(Base):
    """One API key: its public id, name, scope and the SHA-256 of its secret part."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rate_exempt: Mapped[bool] = mapped_column(default=False)


class AuditRow(Base):
    """One control call: who, what, its arguments (secrets masked), how it ended."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_key_name_time", "key_name", "time"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    key_name: Mapped[str] = mapped_column(String(128))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[object] = mapped_column(JSON())
    ok: Mapped[bool] = mapped_column()
    result: Mapped[str] = mapped_column(Text())
