"""The process table: the system split into processes, merged with ``[processes.*]``."""

from __future__ import annotations

import sys

import pytest

from stockyard.config import ConfigError, ProcessSettings, Settings, load_settings
from stockyard.orchestrator import ProcessSpec, ProcessTable, node_socket_path


def _settings(**env: str) -> Settings:
    return load_settings(env=env)


def test_the_default_table_is_sandbox_then_node_then_hub() -> None:
    settings = _settings()
    table = ProcessTable.from_settings(settings)
    assert table.names == ["sandbox", "node@sandbox", "hub"]
    node = table["node@sandbox"]
    assert node.argv == (sys.executable, "-m", "stockyard", "node", "sandbox")
    assert node.depends_on == ("sandbox",)
    assert node.readiness.unix == str(node_socket_path(settings.home, "sandbox"))
    assert table["hub"].readiness.http is not None
    assert table["hub"].readiness.http.endswith(":5555/livez")
    assert [table.priority(n) for n in table.names] == [100, 200, 300]


def test_a_paper_account_has_no_sandbox_and_redis_adds_the_feed() -> None:
    settings = _settings(
        APCA_API_BASE_URL="https://paper-api.alpaca.markets",
        STOCKYARD_BUS__BACKEND="redis",
        REDIS_HOST="127.0.0.1",
    )
    table = ProcessTable.from_settings(settings)
    assert table.names == ["feed", "node@paper", "hub"]
    assert table["node@paper"].depends_on == ("feed",)


def test_settings_override_a_default_process_and_add_a_new_one() -> None:
    settings = Settings(
        processes={
            "hub": ProcessSettings(startretries=9, critical=False),
            "worker": ProcessSettings(command="sleep", args=("5",), depends_on=("hub",)),
            "sandbox": ProcessSettings(enabled=False),
        }
    )
    table = ProcessTable.from_settings(settings)
    assert table.names == ["node@sandbox", "hub", "worker"]
    assert table["node@sandbox"].depends_on == ()
    assert (table["hub"].startretries, table["hub"].critical) == (9, False)
    assert table["hub"].kind == "hub"
    assert table["worker"].argv == ("sleep", "5")


def test_an_unknown_dependency_is_refused_naming_the_key() -> None:
    settings = Settings(processes={"worker": ProcessSettings(command="x", depends_on=("nope",))})
    with pytest.raises(
        ConfigError, match=r"processes\.worker\.depends_on: no process named 'nope'"
    ):
        ProcessTable.from_settings(settings)


def test_a_dependency_cycle_is_refused_naming_it() -> None:
    specs = {
        "a": ProcessSpec("a", "custom", "x", depends_on=("b",)),
        "b": ProcessSpec("b", "custom", "x", depends_on=("a",)),
    }
    with pytest.raises(ConfigError, match="a cycle"):
        ProcessTable(specs)


def test_a_new_process_needs_a_command() -> None:
    settings = Settings(processes={"worker": ProcessSettings(args=("1",))})
    with pytest.raises(ConfigError, match=r"processes\.worker\.command"):
        ProcessTable.from_settings(settings)


def test_an_unknown_name_is_a_key_error_listing_the_table() -> None:
    table = ProcessTable.from_settings(_settings())
    with pytest.raises(KeyError, match="the table has sandbox, node@sandbox, hub"):
        table["nope"]
