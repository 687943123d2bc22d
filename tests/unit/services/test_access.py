"""Keys through the Access service, and the audit log: who, what, masked arguments, result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stockyard.services import AccessService, Caller, ServiceError, mask
from stockyard.store import KeyScope, open_database


def access(tmp_path: Path) -> AccessService:
    return AccessService(open_database(f"sqlite:///{tmp_path / 'state.db'}"))


def test_only_an_admin_makes_keys_and_each_attempt_is_audited(tmp_path: Path) -> None:
    service = access(tmp_path)
    made = service.create_key("reader", KeyScope.READ, caller=Caller.local())
    key = service.verify(made.secret)
    assert key is not None
    reader = Caller.of_key(key)
    with pytest.raises(ServiceError) as refused:
        service.create_key("sneaky", KeyScope.ADMIN, caller=reader)
    assert refused.value.status == 403
    entries = service.audit()
    assert [(e.action, e.key_name, e.ok) for e in entries] == [
        ("keys.create", "reader", False),
        ("keys.create", "local", True),
    ]
    assert made.secret not in str([e.model_dump() for e in entries])
    assert all(made.secret not in k.model_dump_json() for k in service.list_keys())


def test_arguments_are_masked_before_they_are_stored(tmp_path: Path) -> None:
    service = access(tmp_path)
    caller = Caller.local("api")
    secret = "sy_0123456789ab_abcdefghijklmnopqrstuvwxyz"

    async def work() -> str:
        return "done"

    asyncio.run(
        service.auditor.call(
            caller,
            "test.call",
            {"api_key": "hunter2-hunter2", "note": f"key {secret}", "qty": 5},
            work,
        )
    )
    entry = service.audit()[0]
    assert entry.args == {"api_key": "****", "note": "key ****", "qty": 5}
    assert entry.ok
    assert mask({"password": "x", "nested": {"token": "y"}}) == {
        "password": "****",
        "nested": {"token": "****"},
    }


def test_a_failed_call_is_audited_with_its_reason_and_raises(tmp_path: Path) -> None:
    service = access(tmp_path)

    async def work() -> str:
        raise ServiceError("no_node", "no trading node is running", status=503)

    with pytest.raises(ServiceError):
        asyncio.run(service.auditor.call(Caller.local(), "kill.halt", {}, work))
    entry = service.audit()[0]
    assert (entry.action, entry.ok) == ("kill.halt", False)
    assert "no trading node" in entry.result
