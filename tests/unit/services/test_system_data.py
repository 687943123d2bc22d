"""The System service's log tail (secrets redacted) and the Data service's catalog, bars
and fetch, with their clear errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from stockyard.data import ParquetStore
from stockyard.health import HealthRegistry, HealthService
from stockyard.obs import Redactor
from stockyard.resilience import BreakerRegistry, ErrorRegistry
from stockyard.services import (
    AccessService,
    Caller,
    DataService,
    FetchSpec,
    ServiceError,
    SystemService,
)
from stockyard.store import open_database


def _access(tmp_path: Path) -> AccessService:
    return AccessService(open_database(f"sqlite:///{tmp_path / 'state.db'}"))


def test_a_log_tail_is_redacted_and_an_unknown_component_is_a_404(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [f"line {i}" for i in range(5)] + [
        "token=hunter2hunter2 sent",
        "api_secret s3cr3tv4lue",
    ]
    (logs / "trading.log").write_text("\n".join(lines) + "\n")
    health = HealthService(
        registry=HealthRegistry([]),
        interval=60,
        timeout=1.0,
        rules=[],
        errors=ErrorRegistry(),
        breakers=BreakerRegistry(),
        metrics=CollectorRegistry(),
    )
    system = SystemService(
        health,
        auditor=_access(tmp_path).auditor,
        log_dir=logs,
        redactor=Redactor(["s3cr3tv4lue"]),
    )
    tail = system.logs("trading", lines=3)
    assert tail.lines[0] == "line 4"
    assert "hunter2hunter2" not in str(tail.lines)
    assert "s3cr3tv4lue" not in str(tail.lines)
    assert system.logs("risk").lines == []
    with pytest.raises(ServiceError) as unknown:
        system.logs("../../etc/passwd")
    assert unknown.value.status == 404
    assert system.breakers() == {}


def test_data_is_fetched_listed_and_read_back_and_bad_requests_are_refused(
    tmp_path: Path,
) -> None:
    access = _access(tmp_path)
    data = DataService(ParquetStore(tmp_path / "data"), auditor=access.auditor)
    spec = FetchSpec(symbols=["AAPL"], start=date(2024, 1, 2), end=date(2024, 1, 3))
    written = asyncio.run(data.fetch(spec, caller=Caller.local()))
    assert written["AAPL"] > 0
    (entry,) = data.catalog(symbol="AAPL")
    assert entry.timeframe == "1Min"
    bars = data.bars(
        "AAPL",
        start=datetime(2024, 1, 2, tzinfo=UTC),
        end=datetime(2024, 1, 4, tzinfo=UTC),
        limit=10,
    )
    assert len(bars.bars) == 10
    assert bars.bars[0].low <= bars.bars[0].close <= bars.bars[0].high
    for symbol, start in (
        ("aapl;", datetime(2024, 1, 2, tzinfo=UTC)),
        ("AAPL", bars.bars[0].timestamp),
    ):
        with pytest.raises(ServiceError) as bad:
            data.bars(symbol, start=start, end=datetime(2024, 1, 2, tzinfo=UTC))
        assert bad.value.status == 400
    assert [e.action for e in access.audit()] == ["data.fetch"]
