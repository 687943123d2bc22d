"""A secret set in the environment appears in no log file, whatever logs it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from stockyard.config import LogSettings, load_settings
from stockyard.obs import (
    Redactor,
    bind_context,
    configure_logging,
    get_logger,
    log_trade,
    register_secrets,
    shutdown_logging,
)

SECRET = "sk-live-8f3e1c2d9a7b"
DB_PASSWORD = "pg-pass-55aa"


def test_a_secret_from_the_environment_appears_in_no_file_and_not_on_the_console(
    tmp_path: Path,
) -> None:
    env = {
        "APCA_API_SECRET_KEY": SECRET,
        "STOCKYARD_DATABASE__URL": f"postgresql://trader:{DB_PASSWORD}@db/stockyard",
    }
    settings = load_settings(env=env)
    console = io.StringIO()
    configure_logging(
        LogSettings(dir=tmp_path, console=True, level="DEBUG"),
        secrets=settings.secret_values(),
        environ=env,
        console_stream=console,
    )
    log = get_logger("execution")
    log.info(f"connecting with {SECRET}")  # in the message
    log.info("connecting", note=SECRET)  # in an innocently named field
    log.info("headers", headers={"APCA-API-SECRET-KEY": SECRET})  # nested in a value
    log.info("dsn", url=settings.database.connection_url())  # inside a URL
    log.debug("auth", api_secret="whatever-value-here")  # a field named like a secret
    with bind_context(credential=SECRET):
        log.warning("bound")
    log_trade(symbol="AAPL", side="buy", qty=1, price=1, memo=SECRET)
    try:
        raise ConnectionError(f"login failed for key {SECRET}")
    except ConnectionError:
        log.exception("broker down")
    logging.getLogger("alpaca.trading").error("token %s rejected", SECRET)
    shutdown_logging()

    files = list(tmp_path.glob("*.log*"))
    assert {f.name for f in files} >= {"trading_system.log", "errors.log", "execution.log"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
        assert DB_PASSWORD not in text, path.name
        assert "whatever-value-here" not in text, path.name
    assert SECRET not in console.getvalue()
    everything = (tmp_path / "trading_system.log").read_text()
    assert everything.count("****") >= 8
    assert "login failed for key ****" in everything


def test_secrets_registered_at_run_time_are_redacted_from_then_on(tmp_path: Path) -> None:
    configure_logging(LogSettings(dir=tmp_path, console=False), environ={})
    register_secrets("bearer-token-made-at-start")
    get_logger("api").info("token issued: bearer-token-made-at-start")
    shutdown_logging()
    text = (tmp_path / "api.log").read_text()
    assert "bearer-token-made-at-start" not in text


def test_secret_shapes_in_free_text_are_redacted() -> None:
    redact = Redactor().text
    assert redact("Authorization: Bearer abc.def-123") == "Authorization: Bearer ****"
    assert redact("redis://:p4ssw0rd@host:6379/0") == "redis://:****@host:6379/0"
    assert redact("login password=hunter22 user=bob") == "login password=**** user=bob"
    assert redact('{"token": "abcdefgh"}') == '{"token": "****"}'
    assert redact("plain text with key=value") == "plain text with key=value"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["1", "abc"]).text("a 1 abc") == "a 1 abc"


def test_redacting_a_whole_batch_never_bleeds_into_the_next_line(tmp_path: Path) -> None:
    configure_logging(LogSettings(dir=tmp_path, console=False), environ={})
    log = get_logger("api")
    for i in range(50):
        log.info(f"issued token={SECRET}")
        log.info("next line intact", seq=i)
    shutdown_logging()
    lines = (tmp_path / "trading_system.log").read_text().splitlines()
    assert len(lines) == 100
    assert all(line.endswith("token=****") for line in lines[0::2])
    assert all("next line intact seq=" in line for line in lines[1::2])
