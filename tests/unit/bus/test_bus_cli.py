"""``stream``, ``bus stats`` and ``bench bus`` through `register` (the lead wires it in)."""

from __future__ import annotations

import json

import pytest
import redis
import typer
from typer.testing import CliRunner

from stockyard.cli._bus_cmd import register


def make_app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    return app


@pytest.mark.parametrize(
    ("feed", "said"),
    [("sandbox", "the sandbox's credentials are needed"), ("alpaca", "needs alpaca.key_id")],
)
def test_stream_from_a_live_feed_without_credentials_says_how_to_give_them_and_exits_2(
    feed: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(make_app(), ["stream", "--symbols", "AAPL", "--feed", feed])
    assert result.exit_code == 2
    assert said in result.output


def test_stream_with_a_key_and_no_secret_exits_2_before_connecting() -> None:
    args = ["stream", "--symbols", "AAPL", "--feed", "sandbox", "--key", "K"]
    result = CliRunner().invoke(make_app(), args)
    assert result.exit_code == 2
    assert "give both --key and --secret" in result.output


def test_stream_replays_synthetic_data_and_reports_json() -> None:
    result = CliRunner().invoke(
        make_app(),
        ["stream", "--symbols", "AAPL,MSFT", "--speed", "0", "--duration", "1s", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{\n") :])
    assert report["feed"]["published"] > 0
    assert report["messages"]["AAPL"] > 0
    assert report["feed"]["malformed"] == 0


def test_bus_stats_for_an_in_process_bus_points_to_the_running_node() -> None:
    result = CliRunner().invoke(make_app(), ["bus", "stats", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["backend"] == "inproc"


@pytest.mark.redis
def test_bus_stats_for_redis_reads_streams_and_groups_from_redis(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.xadd(f"{redis_prefix}stream:exec", {"m": b"x"})
    client.xgroup_create(f"{redis_prefix}stream:exec", "recorder", id="0")
    client.close()
    monkeypatch.setenv("STOCKYARD_BUS__BACKEND", "redis")
    monkeypatch.setenv("STOCKYARD_BUS__PREFIX", redis_prefix)
    monkeypatch.setenv("STOCKYARD_REDIS__URL", redis_url)
    result = CliRunner().invoke(make_app(), ["bus", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stream = json.loads(result.output)["streams"][f"{redis_prefix}stream:exec"]
    assert stream["length"] == 1
    assert stream["groups"][0]["name"] == "recorder"
