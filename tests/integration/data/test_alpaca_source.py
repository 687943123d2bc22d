"""AlpacaSource: the real alpaca-py client against a fake Alpaca data API on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from stockyard.cli._data_remote import register
from stockyard.config import AlpacaSettings
from stockyard.core import BAR_SCHEMA, Timeframe
from stockyard.data import ParquetStore
from stockyard.data._alpaca import AlpacaSource, bars_from_alpaca_json
from stockyard.obs import shutdown_logging
from stockyard.resilience import (
    ApiError,
    FatalError,
    InvalidDataError,
    NetworkError,
    RateLimitedError,
    ValidationError,
)

if TYPE_CHECKING:
    from conftest import FakeAlpacaData

DAY = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def source_for(server: FakeAlpacaData, **kwargs: object) -> AlpacaSource:
    options: dict[str, object] = {
        "key_id": server.key_id,
        "secret_key": server.secret_key,
        "url": server.url,
    }
    options.update(kwargs)
    return AlpacaSource(**options)  # type: ignore[arg-type]


def test_a_multi_page_answer_is_gathered_completely_for_every_symbol(
    alpaca_server: FakeAlpacaData,
) -> None:
    alpaca_server.page_size = 7
    aapl = alpaca_server.add_bars("AAPL", "1Min", start=DAY, count=40, step=MINUTE)
    alpaca_server.add_bars("MSFT", "1Min", start=DAY, count=25, step=MINUTE, price=300.0)

    tables = source_for(alpaca_server).get_bars(
        ["AAPL", "MSFT"], Timeframe.MINUTE, DAY, DAY + timedelta(hours=1)
    )

    assert set(tables) == {"AAPL", "MSFT"}
    assert tables["AAPL"].num_rows == 40
    assert tables["MSFT"].num_rows == 25
    assert tables["AAPL"].schema == BAR_SCHEMA
    first = tables["AAPL"].slice(0, 1).to_pylist()[0]
    assert first["timestamp"] == DAY
    assert first["open"] == aapl[0]["o"]
    assert first["volume"] == 1000.0
    assert first["trade_count"] == 10
    assert first["vwap"] == aapl[0]["vw"]
    requests = alpaca_server.bar_requests()
    assert len(requests) == 10  # ceil(65 / 7): every page was asked for
    assert all(r["feed"] == "iex" and r["timeframe"] == "1Min" for r in requests)
    assert "page_token" not in requests[0]
    assert all("page_token" in r for r in requests[1:])


def test_end_is_exclusive_even_though_alpaca_includes_it(alpaca_server: FakeAlpacaData) -> None:
    alpaca_server.add_bars("AAPL", "1Min", start=DAY, count=10, step=MINUTE)

    tables = source_for(alpaca_server).get_bars(
        ["AAPL"], Timeframe.MINUTE, DAY + 2 * MINUTE, DAY + 5 * MINUTE
    )

    stamps = tables["AAPL"].column("timestamp").to_pylist()
    assert stamps == [DAY + 2 * MINUTE, DAY + 3 * MINUTE, DAY + 4 * MINUTE]


def test_crypto_symbols_go_to_the_crypto_endpoint_and_stocks_to_the_stock_one(
    alpaca_server: FakeAlpacaData,
) -> None:
    alpaca_server.add_bars("BTC/USD", "1Hour", start=DAY, count=5, step=timedelta(hours=1))
    alpaca_server.add_bars("SPY", "1Hour", start=DAY, count=3, step=timedelta(hours=1))

    tables = source_for(alpaca_server, feed="sip").get_bars(
        ["BTC/USD", "SPY"], Timeframe.HOUR, DAY, DAY + timedelta(days=1)
    )

    assert tables["BTC/USD"].num_rows == 5
    assert tables["BTC/USD"].column("volume").to_pylist()[:2] == [0.125, 0.25]
    assert tables["SPY"].num_rows == 3
    paths = dict(alpaca_server.requests)
    assert paths["/v1beta3/crypto/us/bars"]["symbols"] == "BTC/USD"
    assert paths["/v2/stocks/bars"]["symbols"] == "SPY"
    assert paths["/v2/stocks/bars"]["feed"] == "sip"


def test_a_symbol_without_bars_is_absent(alpaca_server: FakeAlpacaData) -> None:
    alpaca_server.add_bars("AAPL", "1Day", start=DAY, count=2, step=timedelta(days=1))

    tables = source_for(alpaca_server).get_bars(
        ["AAPL", "NOPE"], Timeframe.DAY, DAY, DAY + timedelta(days=5)
    )

    assert set(tables) == {"AAPL"}


def test_wrong_keys_are_a_fatal_error(alpaca_server: FakeAlpacaData) -> None:
    source = AlpacaSource(key_id="wrong", secret_key="wrong", url=alpaca_server.url)

    with pytest.raises(FatalError) as caught:
        source.get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE)

    assert not caught.value.retryable
    assert caught.value.context["status"] == 401
    assert "not authorized" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, RateLimitedError), (500, ApiError), (503, ApiError), (504, ApiError)],
)
def test_rate_limits_and_server_errors_are_retryable_and_not_retried_by_alpaca_py(
    alpaca_server: FakeAlpacaData, status: int, kind: type[Exception]
) -> None:
    alpaca_server.failures.append((status, {"code": status * 100000, "message": "try later"}))

    with pytest.raises(kind) as caught:
        source_for(alpaca_server).get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE)

    assert getattr(caught.value, "retryable", False)
    assert len(alpaca_server.requests) == 1  # no hidden sleep-and-retry inside alpaca-py


def test_a_bad_request_is_a_validation_error(alpaca_server: FakeAlpacaData) -> None:
    alpaca_server.failures.append((422, {"code": 42210000, "message": "invalid symbol"}))

    with pytest.raises(ValidationError):
        source_for(alpaca_server).get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_a_retryable_network_error(closed_port: int) -> None:
    source = AlpacaSource(key_id="k", secret_key="s", url=f"http://127.0.0.1:{closed_port}")

    with pytest.raises(NetworkError) as caught:
        source.get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE)

    assert caught.value.retryable


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_server_that_never_answers_times_out_as_a_network_error(silent_server: str) -> None:
    source = AlpacaSource(key_id="k", secret_key="s", url=silent_server, timeout=0.3)

    with pytest.raises(NetworkError):
        source.get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE)


def test_from_settings_uses_the_data_url_keys_and_feed(alpaca_server: FakeAlpacaData) -> None:
    alpaca_server.add_bars("AAPL", "1Min", start=DAY, count=3, step=MINUTE)
    settings = AlpacaSettings(
        key_id=alpaca_server.key_id,
        secret_key=alpaca_server.secret_key,
        base_url="https://paper-api.alpaca.markets",
        data_url=alpaca_server.url,
        feed="sip",
    )

    tables = AlpacaSource.from_settings(settings).get_bars(
        ["AAPL"], Timeframe.MINUTE, DAY, DAY + timedelta(hours=1)
    )

    assert tables["AAPL"].num_rows == 3
    assert alpaca_server.bar_requests()[0]["feed"] == "sip"


def test_from_settings_without_keys_is_refused_outside_the_sandbox() -> None:
    settings = AlpacaSettings(base_url="https://paper-api.alpaca.markets")

    with pytest.raises(ValidationError, match="APCA_API_KEY_ID"):
        AlpacaSource.from_settings(settings)


def test_alpaca_json_becomes_a_bar_table_with_nulls_for_missing_fields() -> None:
    table = bars_from_alpaca_json(
        [
            {"t": "2024-01-02T14:31:00Z", "o": 2, "h": 3, "l": 1, "c": 2.5, "v": 7},
            {"t": "2024-01-02T14:30:00.5Z", "o": 1, "h": 2, "l": 1, "c": 2, "v": 3.5, "n": 4},
        ]
    )

    assert table.schema == BAR_SCHEMA
    rows = table.to_pylist()
    assert [r["timestamp"] for r in rows] == [
        datetime(2024, 1, 2, 14, 30, 0, 500000, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 31, tzinfo=UTC),
    ]
    assert rows[0]["trade_count"] == 4
    assert rows[1]["trade_count"] is None
    assert rows[1]["vwap"] is None
    assert table.column("timestamp").type == pa.timestamp("ns", tz="UTC")


def test_a_malformed_bar_from_alpaca_is_invalid_data(alpaca_server: FakeAlpacaData) -> None:
    rows = alpaca_server.add_bars("AAPL", "1Min", start=DAY, count=3, step=MINUTE)
    rows[1]["l"] = 1_000_000.0  # low above high

    with pytest.raises(InvalidDataError, match="AAPL"):
        source_for(alpaca_server).get_bars(["AAPL"], Timeframe.MINUTE, DAY, DAY + MINUTE * 3)


# -- stockyard data fetch ------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[typer.Typer]:
    app = typer.Typer()
    register(app)
    yield app
    shutdown_logging()  # the command starts file logging under the test's home


def cli_env(tmp_path: Path, server: FakeAlpacaData, **extra: str) -> dict[str, str | None]:
    return {
        "STOCKYARD_HOME": str(tmp_path / "home"),
        "APCA_API_KEY_ID": server.key_id,
        "APCA_API_SECRET_KEY": server.secret_key,
        "APCA_API_BASE_URL": "https://paper-api.alpaca.markets",
        "STOCKYARD_ALPACA__DATA_URL": server.url,
        "STOCKYARD_DATA__SOURCES": "local,alpaca",
        **extra,
    }


def test_fetch_from_alpaca_stores_the_bars_and_prints_rows_per_symbol(
    cli: typer.Typer, tmp_path: Path, alpaca_server: FakeAlpacaData
) -> None:
    alpaca_server.page_size = 25
    alpaca_server.add_bars("AAPL", "1Min", start=DAY, count=60, step=MINUTE)
    alpaca_server.add_bars("BTC/USD", "1Min", start=DAY, count=30, step=MINUTE)
    args = ["fetch", "--source", "alpaca", "--symbols", "AAPL,BTC/USD,MSFT"]
    args += ["--start", "2024-01-02", "--end", "2024-01-02"]

    result = CliRunner().invoke(cli, args, env=cli_env(tmp_path, alpaca_server))
    again = CliRunner().invoke(cli, [*args, "--json"], env=cli_env(tmp_path, alpaca_server))

    assert result.exit_code == 0, result.output
    assert "AAPL" in result.stdout
    assert "60 bars (1Min) from alpaca" in result.stdout
    assert "30 bars (1Min) from alpaca" in result.stdout
    stored = ParquetStore(tmp_path / "home" / "data").catalog()
    assert {(e.symbol, e.rows) for e in stored} == {("AAPL", 60), ("BTC/USD", 30)}
    report = json.loads(again.stdout)
    assert [(s["symbol"], s["rows"]) for s in report["symbols"]] == [
        ("AAPL", 60),
        ("BTC/USD", 30),
        ("MSFT", 0),
    ]
    assert report["end"] == "2024-01-03T00:00:00+00:00"  # a date-only end includes the day


def test_fetch_through_the_chain_reads_alpaca_once_then_the_local_store(
    cli: typer.Typer, tmp_path: Path, alpaca_server: FakeAlpacaData
) -> None:
    alpaca_server.add_bars("SPY", "1Day", start=DAY, count=3, step=timedelta(days=1))
    args = ["fetch", "--symbols", "SPY", "--timeframe", "1Day", "--json"]
    args += ["--start", "2024-01-02T00:00:00", "--end", "2024-01-05T00:00:00"]

    first = CliRunner().invoke(cli, args, env=cli_env(tmp_path, alpaca_server))
    second = CliRunner().invoke(cli, args, env=cli_env(tmp_path, alpaca_server))

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["symbols"][0]["source"] == "alpaca"
    assert json.loads(second.stdout)["symbols"][0] == {
        "symbol": "SPY",
        "rows": 3,
        "source": "local",
        "error": None,
    }
    assert len(alpaca_server.bar_requests()) == 1


def test_fetch_with_wrong_keys_reports_the_failure_and_exits_1(
    cli: typer.Typer, tmp_path: Path, alpaca_server: FakeAlpacaData
) -> None:
    env = cli_env(tmp_path, alpaca_server, APCA_API_SECRET_KEY="wrong")
    args = ["fetch", "--source", "alpaca", "--symbols", "AAPL"]

    result = CliRunner().invoke(
        cli, [*args, "--start", "2024-01-02", "--end", "2024-01-03"], env=env
    )

    assert result.exit_code == 1
    assert "AAPL" in result.stderr
    assert "not authorized" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "ftp"], "--source"),
        (["--timeframe", "7Parsecs"], "unknown timeframe"),
        (["--start", "2024-02-01", "--end", "2024-01-01"], "--end must not be before"),
        (["--start", "yesterday"], "--start"),
        (["--symbols", " , "], "--symbols"),
    ],
)
def test_fetch_rejects_bad_input_with_one_line_and_exit_2(
    cli: typer.Typer,
    tmp_path: Path,
    alpaca_server: FakeAlpacaData,
    args: list[str],
    message: str,
) -> None:
    base = {"--symbols": "AAPL", "--start": "2024-01-02", "--end": "2024-01-03"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["fetch", *[part for kv in {**base, **given}.items() for part in kv]]

    result = CliRunner().invoke(cli, argv, env=cli_env(tmp_path, alpaca_server))

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert alpaca_server.requests == []
