"""API keys in the state database: made with a random secret, stored as its SHA-256 only.

A key reads ``sy_<key_id>_<secret>``: the id finds the row, the secret is compared by hash
in constant time. The whole key is shown once, when it is made; it cannot be read back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from stockyard.store._control_models import ApiKeyRow
from stockyard.store._db import Database

__all__ = ["ApiKey", "ApiKeyError", "KeyScope", "SqlKeyStore"]

_PREFIX = "sy_"


class KeyScope(StrEnum):
    """What a key may do: ``read`` < ``trade`` < ``admin`` (each includes the ones before)."""

    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: KeyScope) -> bool:
        """True when this scope covers ``needed``."""
        return self.rank >= needed.rank


_RANK = {KeyScope.READ: 0, KeyScope.TRADE: 1, KeyScope.ADMIN: 2}


class ApiKeyError(ValueError):
    """A key cannot be made or revoked as asked (duplicate name, unknown key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    name: str
    scope: KeyScope
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    rate_exempt: bool

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _of(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        scope=KeyScope(row.scope),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        rate_exempt=row.rate_exempt,
    )


class SqlKeyStore:
    """The ``api_keys`` table: ``create``, ``list``, ``revoke``, ``verify``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self, name: str, scope: KeyScope | str, *, rate_exempt: bool = False
    ) -> tuple[ApiKey, str]:
        """Make a key; answers it and the full secret (shown once, stored hashed)."""
        name = name.strip()
        if not name or len(name) > 128:
            raise ApiKeyError("a key needs a name of 1 to 128 characters")
        try:
            level = KeyScope(scope)
        except ValueError:
            raise ApiKeyError(f"scope must be read, trade or admin, got {scope!r}") from None
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            key_id=key_id,
            name=name,
            scope=level.value,
            secret_hash=_hash(secret),
            created_at=datetime.now(UTC),
            revoked_at=None,
            last_used_at=None,
            rate_exempt=rate_exempt,
        )
        try:
            with self._db.session() as session:
                session.add(row)
                session.flush()
                made = _of(row)
        except IntegrityError:
            raise ApiKeyError(f"a key named {name!r} exists already") from None
        return made, f"{_PREFIX}{key_id}_{secret}"

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first."""
        statement = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        if not include_revoked:
            statement = statement.where(ApiKeyRow.revoked_at.is_(None))
        with self._db.session() as session:
            return [_of(row) for row in session.scalars(statement)]

    def any_active(self) -> bool:
        """True when at least one key is not revoked."""
        statement = select(ApiKeyRow.key_id).where(ApiKeyRow.revoked_at.is_(None)).limit(1)
        with self._db.session() as session:
            return session.scalar(statement) is not None

    def revoke(self, name_or_id: str) -> ApiKey:
        """Revoke a key by name or id (revoking twice keeps the first time)."""
        with self._db.session() as session:
            row = session.scalar(
                select(ApiKeyRow).where(
                    (ApiKeyRow.name == name_or_id) | (ApiKeyRow.key_id == name_or_id)
                )
            )
            if row is None:
                raise ApiKeyError(f"no key named {name_or_id!r}")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            session.flush()
            return _of(row)

    def verify(self, presented: str) -> ApiKey | None:
        """The active key ``presented`` is, else None (malformed, unknown, wrong, revoked)."""
        if not presented.startswith(_PREFIX):
            return None
        key_id, sep, secret = presented[len(_PREFIX) :].partition("_")
        if not sep or not secret or len(key_id) > 32:
            return None
        with self._db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            return _of(row) if row.revoked_at is None else None

    def touch(self, key_id: str) -> None:
        """Record that a key was used now."""
        with self._db.session() as session:
            session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.key_id == key_id)
                .values(last_used_at=datetime.now(UTC))
            )
