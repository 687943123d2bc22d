"""The Parquet store on a real S3-protocol server (moto, loopback); sync; the doctor checks."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import numpy as np
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from stockyard.cli._data_remote import register
from stockyard.config import S3Settings, Settings, load_settings
from stockyard.core import BAR_SCHEMA, Timeframe
from stockyard.data import ParquetStore
from stockyard.data._chain import make_chain
from stockyard.data._checks import check_data_store, check_s3, data_checks
from stockyard.data._s3 import make_s3_store, s3_root
from stockyard.data._sync import sync_stores
from stockyard.obs import CheckStatus, shutdown_logging

MINUTE = timedelta(minutes=1)
JAN2 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def bars(start: datetime, count: int, step: timedelta = MINUTE, price: float = 100.0) -> pa.Table:
    stamps = [start + i * step for i in range(count)]
    close = price + np.arange(count) * 0.01
    return pa.table(
        {
            "timestamp": pa.array(stamps, BAR_SCHEMA.field("timestamp").type),
            "open": close,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
            "volume": np.full(count, 10.0),
            "trade_count": pa.array(np.full(count, 2), pa.int64()),
            "vwap": close,
        },
        schema=BAR_SCHEMA,
    )


def keys(settings: S3Settings) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key_id.get_secret_value(),  # type: ignore[union-attr]
        aws_secret_access_key=settings.secret_access_key.get_secret_value(),  # type: ignore[union-attr]
        region_name=settings.region,
    )
    listed = client.list_objects_v2(Bucket=settings.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet"))


def settings_for(tmp_path: Path, s3: S3Settings | None, **extra: object) -> Settings:
    overrides: dict[str, object] = {"home": str(tmp_path / "home"), **extra}
    if s3 is not None:
        for key in ("endpoint_url", "bucket", "prefix", "region"):
            overrides[f"data.s3.{key}"] = getattr(s3, key)
        overrides["data.s3.access_key_id"] = s3.access_key_id.get_secret_value()  # type: ignore[union-attr]
        overrides["data.s3.secret_access_key"] = s3.secret_access_key.get_secret_value()  # type: ignore[union-attr]
    return load_settings(env={}, overrides=overrides)


def rows(
    store: ParquetStore, symbols: Sequence[str], start: datetime, end: datetime
) -> dict[str, int]:
    return {s: t.num_rows for s, t in store.get_bars(symbols, Timeframe.MINUTE, start, end).items()}


def test_bars_round_trip_through_the_bucket_in_the_local_layout(s3_settings: S3Settings) -> None:
    store = make_s3_store(s3_settings)
    aapl, btc = bars(JAN2, 90), bars(JAN2, 30, price=40_000.0)

    store.write("AAPL", Timeframe.MINUTE, aapl)
    store.write("BTC/USD", Timeframe.MINUTE, btc)
    got = store.get_bars(
        ["AAPL", "BTC/USD", "MSFT"], Timeframe.MINUTE, JAN2, JAN2 + timedelta(days=1)
    )

    assert store.name == "s3"
    assert store.root == s3_root(s3_settings) == f"{s3_settings.bucket}/market"
    assert got["AAPL"].equals(aapl)
    assert got["BTC/USD"].equals(btc)
    assert "MSFT" not in got
    assert keys(s3_settings) == [
        "market/crypto/1Min/BTC-USD/2024.parquet",
        "market/stock/1Min/AAPL/2024.parquet",
    ]


def test_an_overlapping_append_is_deduplicated(s3_settings: S3Settings) -> None:
    store = make_s3_store(s3_settings)
    store.write("AAPL", Timeframe.MINUTE, bars(JAN2, 60))

    result = store.write("AAPL", Timeframe.MINUTE, bars(JAN2 + 30 * MINUTE, 60, price=200.0))

    table = store.get_bars(["AAPL"], Timeframe.MINUTE, JAN2, JAN2 + timedelta(hours=3))["AAPL"]
    assert table.num_rows == 90
    assert result.rows_deduplicated == 30
    assert table.column("close").to_pylist()[30] == 200.0  # the newer row won


def test_a_read_touches_only_the_years_it_needs(s3_settings: S3Settings) -> None:
    store = make_s3_store(s3_settings)
    new_year = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    store.write("BTC/USD", Timeframe.MINUTE, bars(new_year, 120))  # spans 2023 and 2024
    # Ruin the 2023 partition: a read of 2024 alone must never open it.
    broken = f"{store.root}/crypto/1Min/BTC-USD/2023.parquet"
    with store.filesystem.open_output_stream(broken) as sink:
        sink.write(b"not parquet")

    got = rows(
        store, ["BTC/USD"], datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    )

    assert got == {"BTC/USD": 60}


def test_the_catalog_lists_what_the_bucket_holds(s3_settings: S3Settings) -> None:
    store = make_s3_store(s3_settings)
    store.write("AAPL", Timeframe.MINUTE, bars(JAN2, 10))
    store.write("SPY", Timeframe.DAY, bars(JAN2, 3, step=timedelta(days=1)))

    catalog = {(e.symbol, str(e.timeframe)): e for e in store.catalog()}

    assert set(catalog) == {("AAPL", "1Min"), ("SPY", "1Day")}
    assert catalog["AAPL", "1Min"].rows == 10
    assert catalog["AAPL", "1Min"].start == JAN2
    assert catalog["AAPL", "1Min"].end == JAN2 + 9 * MINUTE
    assert catalog["SPY", "1Day"].bytes > 0


def test_sync_copies_then_skips_identical_files_then_merges_changed_ones(
    s3_settings: S3Settings, tmp_path: Path
) -> None:
    local = ParquetStore(tmp_path / "data")
    remote = make_s3_store(s3_settings)
    local.write("AAPL", Timeframe.MINUTE, bars(JAN2, 50))
    local.write("MSFT", Timeframe.MINUTE, bars(JAN2, 20))

    first = sync_stores(local, remote)
    second = sync_stores(local, remote)
    remote.write("AAPL", Timeframe.MINUTE, bars(JAN2 + 50 * MINUTE, 10))  # only in S3
    local.write("AAPL", Timeframe.MINUTE, bars(JAN2 - 10 * MINUTE, 10))  # only local
    third = sync_stores(local, remote, symbols=["AAPL"])
    back = sync_stores(remote, local)

    assert (first.count("copied"), first.count("skipped")) == (2, 0)
    assert (second.count("copied"), second.count("skipped")) == (0, 2)
    assert [(f.symbol, f.action) for f in third.files] == [("AAPL", "merged")]
    span = (JAN2 - timedelta(hours=1), JAN2 + timedelta(hours=2))
    assert rows(remote, ["AAPL", "MSFT"], *span) == {"AAPL": 70, "MSFT": 20}
    assert {f.symbol: f.action for f in back.files} == {"AAPL": "merged", "MSFT": "skipped"}
    assert rows(local, ["AAPL"], *span) == {"AAPL": 70}
    assert back.to_dict()["skipped"] == 1


def test_a_chain_with_s3_configured_serves_from_s3_and_keeps_a_local_copy(
    s3_settings: S3Settings, tmp_path: Path
) -> None:
    make_s3_store(s3_settings).write("AAPL", Timeframe.MINUTE, bars(JAN2, 390))
    settings = settings_for(tmp_path, s3_settings, **{"data.sources": "local,s3"})
    chain = make_chain(settings)

    result = chain.fetch(["AAPL"], Timeframe.MINUTE, JAN2, JAN2 + 390 * MINUTE)
    again = chain.fetch(["AAPL"], Timeframe.MINUTE, JAN2, JAN2 + 390 * MINUTE)

    assert [s.name for s in chain.sources] == ["local", "s3"]
    assert result.origin == {"AAPL": "s3"}
    assert again.origin == {"AAPL": "local"}


# -- doctor checks -------------------------------------------------------------------------


def test_the_doctor_registers_a_required_store_check_and_an_s3_check() -> None:
    assert [(c.name, c.required) for c in data_checks()] == [
        ("data.store", True),
        ("data.s3", True),
    ]


def test_the_store_check_passes_on_a_writable_directory_and_leaves_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, None, **{"data.dir": str(tmp_path / "bars")})

    result = check_data_store(settings)

    assert result.status is CheckStatus.PASS
    assert result.observed["free_bytes"] > 0
    assert list((tmp_path / "bars").iterdir()) == []


def test_the_store_check_fails_when_the_directory_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    settings = settings_for(tmp_path, None, **{"data.dir": str(blocker / "bars")})

    result = check_data_store(settings)

    assert result.status is CheckStatus.FAIL
    assert str(blocker) in result.detail


def test_the_s3_check_skips_when_s3_is_not_configured(tmp_path: Path) -> None:
    assert check_s3(settings_for(tmp_path, None)).status is CheckStatus.SKIP


def test_the_s3_check_passes_against_the_bucket(s3_settings: S3Settings, tmp_path: Path) -> None:
    result = check_s3(settings_for(tmp_path, s3_settings))

    assert result.status is CheckStatus.PASS, result.detail
    assert result.observed["latency_ms"] >= 0


def test_the_s3_check_fails_on_a_missing_bucket(s3_settings: S3Settings, tmp_path: Path) -> None:
    missing = s3_settings.model_copy(update={"bucket": "no-such-bucket"})

    result = check_s3(settings_for(tmp_path, missing))

    assert result.status is CheckStatus.FAIL
    assert "no-such-bucket" in result.detail


def test_the_s3_check_fails_quickly_when_nothing_listens(
    s3_settings: S3Settings, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = s3_settings.model_copy(update={"endpoint_url": f"http://127.0.0.1:{port}"})

    result = check_s3(settings_for(tmp_path, dead))

    assert result.status is CheckStatus.FAIL
    assert "unreachable" in result.detail


# -- stockyard data sync -------------------------------------------------------------------


@pytest.fixture
def cli() -> Iterator[typer.Typer]:
    app = typer.Typer()
    register(app)
    yield app
    shutdown_logging()  # the command starts file logging under the test's home


def s3_env(tmp_path: Path, s3: S3Settings) -> dict[str, str | None]:
    return {
        "STOCKYARD_HOME": str(tmp_path / "home"),
        "STOCKYARD_DATA__S3__ENDPOINT_URL": s3.endpoint_url,
        "STOCKYARD_DATA__S3__BUCKET": s3.bucket,
        "STOCKYARD_DATA__S3__PREFIX": s3.prefix,
        "STOCKYARD_DATA__S3__ACCESS_KEY_ID": s3.access_key_id.get_secret_value(),  # type: ignore[union-attr]
        "STOCKYARD_DATA__S3__SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(),  # type: ignore[union-attr]
    }


def test_sync_to_s3_and_back_from_the_command_line(
    cli: typer.Typer, s3_settings: S3Settings, tmp_path: Path
) -> None:
    local = ParquetStore(tmp_path / "home" / "data")
    local.write("AAPL", Timeframe.MINUTE, bars(JAN2, 30))
    local.write("MSFT", Timeframe.MINUTE, bars(JAN2, 30))
    env = s3_env(tmp_path, s3_settings)

    up = CliRunner().invoke(cli, ["sync", "--to", "s3", "--symbols", "AAPL"], env=env)
    only_aapl = keys(s3_settings)
    again = CliRunner().invoke(cli, ["sync", "--to", "s3", "--json"], env=env)
    down = CliRunner().invoke(cli, ["sync", "--from", "s3", "--json"], env=env)

    assert up.exit_code == 0, up.output
    assert "1 copied, 0 merged, 0 skipped" in up.stdout
    assert only_aapl == ["market/stock/1Min/AAPL/2024.parquet"]
    assert {f["symbol"]: f["action"] for f in json.loads(again.stdout)["files"]} == {
        "AAPL": "skipped",
        "MSFT": "copied",
    }
    assert json.loads(down.stdout)["skipped"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "s3", "--from", "s3"], "exactly one of"),
        ([], "exactly one of"),
        (["--to", "ftp"], "only 's3'"),
    ],
)
def test_sync_rejects_bad_input_with_one_line_and_exit_2(
    cli: typer.Typer, s3_settings: S3Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["sync", *args], env=s3_env(tmp_path, s3_settings))

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sync_without_s3_configured_says_which_setting_is_missing(
    cli: typer.Typer, tmp_path: Path
) -> None:
    env = {"STOCKYARD_HOME": str(tmp_path / "home"), "STOCKYARD_DATA__S3__BUCKET": None}

    result = CliRunner().invoke(cli, ["sync", "--to", "s3"], env=env)

    assert result.exit_code == 2
    assert "data.s3.bucket" in result.stderr
