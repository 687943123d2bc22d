"""Alpaca's ``adjustment`` end to end: alpaca-py against our sandbox (which honours it), bars
adjusted by default, stored with their adjustment, and raw ones never mixed in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from tests.integration.sandbox.conftest import KEY, SECRET, START, Harness, _start, make_config

from stockyard.backtest import load_bars
from stockyard.config import load_settings
from stockyard.core import Timeframe
from stockyard.data import AlpacaSource, BarOrigin, MixedBarsError, ParquetStore, origin_of
from stockyard.sandbox._reference import CorporateAction, ReferenceData
from stockyard.services import (
    AccessService,
    Caller,
    DataService,
    FetchSpec,
    JobState,
    ResearchService,
)
from stockyard.store import KeyScope, open_database

WINDOW = (START - timedelta(days=7), START)


@pytest.fixture
def split_sandbox() -> Iterator[Harness]:
    """A sandbox where AAPL split 4:1 on the session it starts in."""
    split = CorporateAction(type="forward_split", symbol="AAPL", ex_date=date(2024, 3, 4),
                            old_rate=Decimal(1), new_rate=Decimal(4))  # fmt: skip
    yield from _start(make_config(reference=ReferenceData(corporate_actions=(split,))))


def _source(sandbox: Harness, adjustment: str = "all") -> AlpacaSource:
    return AlpacaSource(key_id=KEY, secret_key=SECRET, url=sandbox.server.base_url,
                        adjustment=adjustment, origin="sandbox")  # fmt: skip


def test_bars_are_split_adjusted_by_default_and_raw_on_request(split_sandbox: Harness) -> None:
    adjusted = _source(split_sandbox).get_bars(["AAPL"], Timeframe.DAY, *WINDOW)["AAPL"]
    raw = _source(split_sandbox, "raw").get_bars(["AAPL"], Timeframe.DAY, *WINDOW)["AAPL"]
    assert adjusted.num_rows == raw.num_rows >= 3
    closes = adjusted.column("close").to_numpy(), raw.column("close").to_numpy()
    np.testing.assert_allclose(closes[0], closes[1] / 4, rtol=1e-6)
    assert origin_of(adjusted) == BarOrigin("sandbox", "all", "iex feed")
    assert origin_of(raw) == BarOrigin("sandbox", "raw", "iex feed")


def test_auto_fetches_keeps_the_adjustment_and_never_mixes_raw_bars_in(
    split_sandbox: Harness, tmp_path: Path
) -> None:
    settings = load_settings(env={
        "STOCKYARD_HOME": str(tmp_path), "APCA_API_BASE_URL": split_sandbox.server.base_url,
        "APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET})  # fmt: skip
    ask = {"data": None, "symbols": ["AAPL"], "timeframe": Timeframe.DAY, "start": WINDOW[0],
           "end": WINDOW[1], "store_root": tmp_path / "data", "settings": settings}  # fmt: skip
    fetched = load_bars(**ask)  # type: ignore[arg-type]
    assert fetched.provenance["AAPL"].source == "alpaca"
    assert fetched.provenance["AAPL"].origin.adjustment == "all"
    # the sandbox speaks Alpaca's protocol, but its bars are never called Alpaca's
    assert fetched.provenance["AAPL"].describe() == (
        "the local sandbox (iex feed), split- and dividend-adjusted"
    )
    store = ParquetStore(tmp_path / "data")
    assert store.origin("AAPL", Timeframe.DAY) == BarOrigin("sandbox", "all", "iex feed")
    again = load_bars(**ask)  # type: ignore[arg-type]
    assert again.provenance["AAPL"].source == "local"  # kept, and read back as it was
    assert again.provenance["AAPL"].describe() == (
        "the local sandbox via local store (iex feed), split- and dividend-adjusted"
    )
    np.testing.assert_array_equal(again.symbols[0].close, fetched.symbols[0].close)

    raw = _source(split_sandbox, "raw").get_bars(["AAPL"], Timeframe.DAY, *WINDOW)["AAPL"]
    with pytest.raises(MixedBarsError, match=r"sandbox \(all\).*refusing to add sandbox \(raw\)"):
        store.write("AAPL", Timeframe.DAY, raw)
    with pytest.raises(ValueError, match="--adjustment all"):
        load_bars(**ask, adjustment="raw")  # type: ignore[arg-type]
    np.testing.assert_array_equal(load_bars(**ask).symbols[0].close, fetched.symbols[0].close)  # type: ignore[arg-type]


def test_a_fetch_job_through_the_chain_keeps_the_sandboxs_bars_in_the_store(
    split_sandbox: Harness, tmp_path: Path
) -> None:
    settings = load_settings(env={
        "STOCKYARD_HOME": str(tmp_path), "APCA_API_BASE_URL": split_sandbox.server.base_url,
        "APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET})  # fmt: skip
    database = open_database(f"sqlite:///{tmp_path / 'state.db'}")
    auditor = AccessService(database).auditor
    research = ResearchService(
        database=database, data_dir=tmp_path / "data", auditor=auditor, settings=settings
    )
    store = ParquetStore(tmp_path / "data")
    data = DataService(store, auditor=auditor, jobs=research, settings=settings)
    spec = FetchSpec(symbols=["AAPL"], start=WINDOW[0].date(), end=WINDOW[1].date(),
                     timeframe="1Day", source="chain")  # fmt: skip
    caller = Caller(key_id=None, name="tester", scope=KeyScope.TRADE, via="api")
    try:
        job = asyncio.run(data.fetch_job(spec, caller=caller))
        deadline = time.monotonic() + 60
        while (view := research.job(job.id)).state in (JobState.QUEUED, JobState.RUNNING):
            assert time.monotonic() < deadline, f"the fetch job did not end: {view}"
            time.sleep(0.05)
    finally:
        research.close()
    assert view.state is JobState.DONE, view.error
    assert view.result is not None
    assert view.result["from"] == {"AAPL": "alpaca"}  # none in the store: Alpaca's protocol
    rows = view.result["rows"]
    assert isinstance(rows, dict)
    assert rows["AAPL"] >= 3
    assert store.origin("AAPL", Timeframe.DAY) == BarOrigin("sandbox", "all", "iex feed")
    # the same at once (POST /data/fetch): now the local store answers
    again = asyncio.run(data.fetch(spec, caller=caller))
    assert again == {"AAPL": rows["AAPL"]}
