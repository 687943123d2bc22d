"""Who may do what, and the record of what was done: API keys and the audit log.

``Caller`` names who calls a service (a key, or the local user at the terminal); every
control verb of every service records one audit entry through ``Auditor.call`` with its
arguments masked and its result, whichever face (REST, CLI, dashboard, MCP) it came from.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from stockyard.obs import REDACTED, Redactor, get_logger
from stockyard.services._errors import ServiceError
from stockyard.store import (
    ApiKey,
    ApiKeyError,
    AuditEntry,
    Database,
    KeyScope,
    SqlAuditLog,
    SqlKeyStore,
)

__all__ = [
    "AccessService",
    "AuditEntryView",
    "Auditor",
    "Caller",
    "KeyView",
    "NewKeyView",
    "mask",
]

T = TypeVar("T")
_log = get_logger("system")
_KEY_SHAPE = re.compile(r"sy_[0-9a-f]{6,32}_[A-Za-z0-9_-]{8,}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who calls: a key's id, name and scope, and through which face (``api``, ``cli``,
    ``dashboard``, ``mcp``)."""

    key_id: str | None
    name: str
    scope: KeyScope
    via: str = "api"
    rate_exempt: bool = False

    @classmethod
    def of_key(cls, key: ApiKey, *, via: str = "api") -> Caller:
        return cls(
            key_id=key.key_id,
            name=key.name,
            scope=key.scope,
            via=via,
            rate_exempt=key.rate_exempt,
        )

    @classmethod
    def local(cls, via: str = "cli") -> Caller:
        """The user at this machine's terminal (works on the store directly)."""
        return cls(key_id=None, name="local", scope=KeyScope.ADMIN, via=via)

    def require(self, needed: KeyScope) -> None:
        """ServiceError 403 unless this caller's scope covers ``needed``."""
        if not self.scope.allows(needed):
            raise ServiceError(
                "forbidden",
                f"this needs the {needed.value} scope; key {self.name!r} has {self.scope.value}",
                status=403,
            )


def mask(value: object, *, key: str = "") -> object:
    """``value`` with secrets masked: values of secret-named fields, API keys and
    secret-shaped text."""
    if key and Redactor.is_secret_key(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): mask(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return Redactor().text(_KEY_SHAPE.sub(REDACTED, value))
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


class KeyView(BaseModel):
    """A key as listed: never its secret."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    scope: KeyScope
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    rate_exempt: bool
    active: bool


class NewKeyView(BaseModel):
    """A key just made, with its secret: shown this once."""

    model_config = ConfigDict(frozen=True)

    key: KeyView
    secret: str


class AuditEntryView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    time: datetime
    key_id: str | None
    key_name: str
    via: str
    action: str
    args: dict[str, object]
    ok: bool
    result: str


def _key_view(key: ApiKey) -> KeyView:
    return KeyView(
        key_id=key.key_id,
        name=key.name,
        scope=key.scope,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        rate_exempt=key.rate_exempt,
        active=key.active,
    )


def _entry_view(entry: AuditEntry) -> AuditEntryView:
    return AuditEntryView(
        id=entry.id,
        time=entry.time,
        key_id=entry.key_id,
        key_name=entry.key_name,
        via=entry.via,
        action=entry.action,
        args=entry.args,
        ok=entry.ok,
        result=entry.result,
    )


def _summary(result: object) -> str:
    text = result.model_dump_json() if isinstance(result, BaseModel) else repr(result)
    return str(mask(text))


class Auditor:
    """Records control calls in the audit log (a failure to record is logged, never hides
    the call's own result)."""

    def __init__(self, log: SqlAuditLog) -> None:
        self.log = log

    def record(
        self, caller: Caller, action: str, args: Mapping[str, object], *, ok: bool, result: str
    ) -> None:
        try:
            self.log.record(
                key_id=caller.key_id,
                key_name=caller.name,
                via=caller.via,
                action=action,
                args={k: mask(v, key=k) for k, v in args.items()},
                ok=ok,
                result=result,
            )
        except Exception as exc:  # the audit store failing must not undo a done control call
            _log.error("audit entry not recorded", action=action, error=repr(exc))

    async def call(
        self,
        caller: Caller,
        action: str,
        args: Mapping[str, object],
        work: Callable[[], Awaitable[T]],
        *,
        scope: KeyScope = KeyScope.TRADE,
    ) -> T:
        """Check ``caller``'s scope, run ``work``, record the call and how it ended."""
        try:
            caller.require(scope)
            result = await work()
        except ServiceError as exc:
            self.record(caller, action, args, ok=False, result=str(exc))
            raise
        except Exception as exc:
            self.record(caller, action, args, ok=False, result=f"error: {exc!r}")
            raise
        self.record(caller, action, args, ok=True, result=_summary(result))
        return result


class AccessService:
    """API keys (create, list, revoke, verify) and the audit log (read)."""

    def __init__(self, database: Database, *, cache_s: float = 2.0) -> None:
        self.keys = SqlKeyStore(database)
        self.auditor = Auditor(SqlAuditLog(database))
        self._cache_s = cache_s
        self._verified: dict[str, tuple[float, ApiKey]] = {}

    def create_key(
        self, name: str, scope: KeyScope | str, *, caller: Caller, rate_exempt: bool = False
    ) -> NewKeyView:
        """Make a key (admin); its secret is in the answer and nowhere else."""
        args = {"name": name, "scope": str(scope), "rate_exempt": rate_exempt}
        try:
            caller.require(KeyScope.ADMIN)
            key, secret = self.keys.create(name, scope, rate_exempt=rate_exempt)
        except ApiKeyError as exc:
            self.auditor.record(caller, "keys.create", args, ok=False, result=str(exc))
            raise ServiceError("bad_key", str(exc), status=409) from None
        except ServiceError as exc:
            self.auditor.record(caller, "keys.create", args, ok=False, result=str(exc))
            raise
        self.auditor.record(caller, "keys.create", args, ok=True, result=f"key {key.key_id}")
        return NewKeyView(key=_key_view(key), secret=secret)

    def list_keys(self, *, include_revoked: bool = True) -> list[KeyView]:
        """Every key, without secrets."""
        return [_key_view(k) for k in self.keys.list(include_revoked=include_revoked)]

    def revoke_key(self, name_or_id: str, *, caller: Caller) -> KeyView:
        """Revoke a key by name or id (admin)."""
        args = {"key": name_or_id}
        try:
            caller.require(KeyScope.ADMIN)
            key = self.keys.revoke(name_or_id)
            self._verified.clear()
        except ApiKeyError as exc:
            self.auditor.record(caller, "keys.revoke", args, ok=False, result=str(exc))
            raise ServiceError("unknown_key", str(exc), status=404) from None
        except ServiceError as exc:
            self.auditor.record(caller, "keys.revoke", args, ok=False, result=str(exc))
            raise
        self.auditor.record(caller, "keys.revoke", args, ok=True, result=f"revoked {key.key_id}")
        return _key_view(key)

    def verify(self, presented: str) -> ApiKey | None:
        """The active key ``presented`` is, else None. A key found is remembered for
        ``cache_s`` seconds (a revocation here forgets it at once; one made by another
        process takes effect within ``cache_s``)."""
        digest = hashlib.sha256(presented.encode()).hexdigest()
        now = time.monotonic()
        cached = self._verified.get(digest)
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        key = self.keys.verify(presented)
        if key is None:
            self._verified.pop(digest, None)
        else:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = (now, key)
        return key

    def audit(
        self,
        *,
        limit: int = 100,
        action: str | None = None,
        key_name: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntryView]:
        """Audit entries, newest first."""
        found = self.auditor.log.entries(limit=limit, action=action, key_name=key_name, since=since)
        return [_entry_view(e) for e in found]
