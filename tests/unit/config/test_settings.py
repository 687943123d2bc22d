from __future__ import annotations

from pathlib import Path

import pytest

from stockyard.config import ConfigError, describe_settings, load_settings


def test_defaults_place_logs_data_and_state_under_home(tmp_path: Path) -> None:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.log.dir == tmp_path / "logs"
    assert settings.data.dir == tmp_path / "data"
    assert settings.database.connection_url() == f"sqlite:///{tmp_path / 'state.db'}"
    assert settings.health.api_port == 5555
    assert settings.health.check_interval == 30
    assert settings.sandbox.port == 8765
    assert settings.alpaca.is_sandbox


def test_seed_environment_names_keep_working(tmp_path: Path) -> None:
    env = {
        "LOG_LEVEL": "debug",
        "LOG_DIR": str(tmp_path / "elsewhere"),
        "HEALTH_CHECK_INTERVAL": "5",
        "HEALTH_API_PORT": "6000",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6380",
        "APCA_API_KEY_ID": "PKTESTKEYID",
        "APCA_API_SECRET_KEY": "not-a-real-secret",
        "APCA_API_BASE_URL": "https://paper-api.alpaca.markets",
    }
    settings = load_settings(env=env)
    assert settings.log.level == "DEBUG"
    assert settings.log.dir == tmp_path / "elsewhere"
    assert settings.health.check_interval == 5.0
    assert settings.health.api_port == 6000
    assert settings.redis.connection_url() == "redis://127.0.0.1:6380/0"
    assert settings.alpaca.key_id is not None
    assert settings.alpaca.key_id.get_secret_value() == "PKTESTKEYID"
    assert not settings.alpaca.is_sandbox
    assert not settings.alpaca.is_live


def test_prefixed_environment_beats_seed_names_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text('[log]\nlevel = "ERROR"\nformat = "json"\n[health]\napi_port = 7000\n')
    env = {"LOG_LEVEL": "WARNING", "STOCKYARD_LOG__LEVEL": "DEBUG"}
    settings = load_settings(config_file=config, env=env)
    assert settings.log.level == "DEBUG"
    assert settings.log.format == "json"
    assert settings.health.api_port == 7000


def test_command_line_overrides_win(tmp_path: Path) -> None:
    settings = load_settings(env={"LOG_LEVEL": "ERROR"}, overrides={"log.level": "debug"})
    assert settings.log.level == "DEBUG"


def test_config_file_is_found_through_stockyard_config(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('[bus]\nbackend = "redis"\n')
    assert load_settings(env={"STOCKYARD_CONFIG": str(config)}).bus.backend == "redis"


def test_show_says_where_each_value_came_from_and_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text("[health]\ncheck_interval = 12\n")
    env = {"APCA_API_SECRET_KEY": "shhh-very-secret", "STOCKYARD_BUS__BACKEND": "redis"}
    rows = {row.key: row for row in describe_settings(config_file=config, env=env)}
    assert rows["health.check_interval"].source == f"file {config}"
    assert rows["bus.backend"].source == "env STOCKYARD_BUS__BACKEND"
    assert rows["alpaca.secret_key"].source == "env APCA_API_SECRET_KEY"
    assert rows["alpaca.secret_key"].value == "********"
    assert rows["log.level"].source == "default"
    assert all("shhh-very-secret" not in row.value for row in rows.values())


def test_database_password_is_masked_but_the_url_is_shown() -> None:
    env = {"STOCKYARD_DATABASE__URL": "postgresql://trader:hunter2hunter2@db:5432/stockyard"}
    rows = {row.key: row for row in describe_settings(env=env)}
    assert rows["database.url"].value == "postgresql://trader:********@db:5432/stockyard"
    settings = load_settings(env=env)
    assert "hunter2hunter2" in settings.secret_values()
    assert settings.database.sqlalchemy_url().startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"LOG_LEVEL": "LOUD"},
            "bad setting log.level = 'LOUD' (from env LOG_LEVEL): Input should be",
        ),
        (
            {"HEALTH_API_PORT": "99999"},
            "bad setting health.api_port = '99999' (from env HEALTH_API_PORT)",
        ),
        ({"HEALTH_CHECK_INTERVAL": "-1"}, "bad setting health.check_interval = '-1'"),
        ({"STOCKYARD_BUS__BACKEND": "kafka"}, "bad setting bus.backend = 'kafka'"),
        (
            {"STOCKYARD_LOG__LEVL": "DEBUG"},
            "unknown setting log.levl (env STOCKYARD_LOG__LEVL); did you mean log.level?",
        ),
    ],
)
def test_a_bad_value_is_refused_with_one_line_naming_the_key(
    env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text("[redis]\nport = 0\n")
    with pytest.raises(ConfigError, match=rf"redis.port = 0 \(from file {config}\)"):
        load_settings(config_file=config, env={})


def test_unknown_key_in_the_file_gets_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "stockyard.toml"
    config.write_text("[helth]\napi_port = 1\n")
    with pytest.raises(
        ConfigError, match=r"unknown setting helth.api_port .*did you mean health.api_port"
    ):
        load_settings(config_file=config, env={})


def test_invalid_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[log\nlevel=")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(config_file=broken, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "absent.toml", env={})


def test_a_secret_is_never_echoed_in_a_validation_error() -> None:
    env = {"STOCKYARD_REDIS__URL": "", "STOCKYARD_DATA__S3__ACCESS_KEY_ID": "AKIA-SECRET-VALUE"}
    env["STOCKYARD_REDIS__PORT"] = "not-a-port"
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    assert "AKIA-SECRET-VALUE" not in str(caught.value)


def test_settings_are_frozen() -> None:
    settings = load_settings(env={})
    with pytest.raises(ValueError, match="frozen"):
        settings.log.level = "DEBUG"  # type: ignore[misc]


def test_redis_host_alone_chooses_the_redis_bus_and_an_explicit_backend_wins() -> None:
    assert load_settings(env={"REDIS_HOST": "127.0.0.1"}).bus.backend == "redis"
    kept = {"REDIS_HOST": "127.0.0.1", "STOCKYARD_BUS__BACKEND": "inproc"}
    assert load_settings(env=kept).bus.backend == "inproc"
    assert load_settings(env={}).bus.backend == "inproc"
