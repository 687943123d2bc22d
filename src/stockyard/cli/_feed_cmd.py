"""``stockyard feed``: the one process that holds the account's market-data stream (Alpaca
allows one per key) and publishes it on the Redis bus for the nodes."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

import typer
from pydantic import SecretStr

from stockyard.bus import RedisBus, bus_from_settings
from stockyard.cli._context import fail, state_of
from stockyard.config import ConfigError, Settings
from stockyard.data.feeds import AlpacaFeed
from stockyard.obs import flush_logs, get_logger, shutdown_logging
from stockyard.orchestrator import local_url

__all__ = ["register"]

_log = get_logger("system")


def _feed_settings(settings: Settings) -> Settings:
    alpaca = settings.alpaca
    if alpaca.is_sandbox:
        key = settings.sandbox.key_id or alpaca.key_id
        secret = settings.sandbox.secret_key or alpaca.secret_key
        base = local_url(settings.sandbox.host, settings.sandbox.port)
        update: dict[str, object] = {"base_url": base, "stream_url": None}
        if key is not None and secret is not None:
            update |= {
                "key_id": SecretStr(key.get_secret_value()),
                "secret_key": SecretStr(secret.get_secret_value()),
            }
        alpaca = alpaca.model_copy(update=update)
    return settings.model_copy(update={"alpaca": alpaca})


async def _publish(settings: Settings) -> None:
    bus = bus_from_settings(settings, name="feed")
    if not isinstance(bus, RedisBus):
        fail('`stockyard feed` publishes on Redis: set bus.backend = "redis" and redis.host')
    await bus.start()
    symbols = settings.sandbox.symbols
    feed = AlpacaFeed.from_settings(_feed_settings(settings).alpaca, bus=bus, symbols=symbols)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await feed.start()
        _log.info("feed publishing", symbols=list(symbols))
        # The readiness probe of `feed` waits for this line in the captured output.
        sys.stdout.write(f"feed ready: {', '.join(symbols)}\n")
        sys.stdout.flush()
        gc.freeze()  # start-up's objects live as long as the process (a fast exit)
        await stop.wait()
    finally:
        await feed.stop()
        await bus.close()


def feed(ctx: typer.Context) -> None:
    """Publish the account's market data on the Redis bus until SIGTERM (one stream per key)."""
    settings = state_of(ctx).start_logging()
    try:
        asyncio.run(_publish(settings))
    except ConfigError as exc:
        fail(str(exc))
    finally:
        flush_logs()
        shutdown_logging()


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard feed`` (no benchmark)."""
    app.command("feed")(feed)
