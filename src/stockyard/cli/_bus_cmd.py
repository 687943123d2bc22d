"""``stockyard stream``, ``stockyard bus stats`` and ``stockyard bench bus``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import redis.asyncio as aredis
import redis.exceptions
import typer
from pydantic import SecretStr
from rich.console import Console
from rich.live import Live
from rich.table import Table

from stockyard.bench import run_bus_benchmark
from stockyard.bus import (
    InProcessBus,
    LatestValueCache,
    MessageBus,
    RedisBus,
    describe_bus,
    redis_overview,
)
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import fail, parse_duration, print_json, state_of
from stockyard.config import ConfigError, Settings
from stockyard.core import Fill, Order, Position, Timeframe
from stockyard.data import HistoricalSource, ParquetStore, SyntheticSource
from stockyard.data.feeds import AlpacaFeed, BaseFeed, ReplayFeed, stream_base_url
from stockyard.resilience import StockyardError
from stockyard.services import jsonable

__all__ = ["register"]

_FeedFactory = Callable[[MessageBus], BaseFeed]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stream``, ``bus stats`` and ``bench bus`` to the ``stockyard`` command."""
    bus_app = typer.Typer(help="The message bus.", no_args_is_help=True)
    bus_app.command("stats")(bus_stats)
    app.add_typer(bus_app, name="bus")
    app.command("stream")(stream)
    bench_app.command("bus")(bench_bus)


def _redis_url(settings: Settings) -> str:
    url = settings.redis.connection_url()
    if url is None:
        fail("the redis bus needs redis.host (REDIS_HOST) or redis.url")
    return url


def bus_stats(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What Redis shows about the bus: pattern subscriptions, streams, groups, pending.

    An in-process bus lives inside the running node; its stats come from that node."""
    settings = state_of(ctx).settings()
    if settings.bus.backend == "inproc":
        info: dict[str, Any] = {
            "backend": "inproc",
            "note": "the in-process bus lives inside the running node; "
            "see its /health/metrics (stockyard_bus_*) for counters and latency",
        }
    else:
        try:
            info = asyncio.run(redis_overview(url=_redis_url(settings), prefix=settings.bus.prefix))
        except Exception as exc:  # redis-py connection errors; one line, not a traceback
            fail(f"redis is not reachable: {exc}", code=1)
    if as_json:
        print_json(info)
        return
    console = Console()
    if info["backend"] == "inproc":
        console.print(f"bus: inproc — {info['note']}")
        return
    console.print(
        f"bus: redis  ping {info['ping_ms']} ms  "
        f"pattern subscriptions {info['pattern_subscriptions']}"
    )
    table = Table(title="streams")
    for column in ("stream", "length", "group", "consumers", "pending", "last delivered"):
        table.add_column(column)
    for key, stream in info["streams"].items():
        for group in stream["groups"] or [
            {"name": "-", "consumers": 0, "pending": 0, "last_delivered_id": "-"}
        ]:
            table.add_row(
                key,
                str(stream["length"]),
                group["name"],
                str(group["consumers"]),
                str(group["pending"]),
                str(group["last_delivered_id"]),
            )
    console.print(table)


def _source(
    settings: Settings,
    symbols: list[str],
    start: datetime,
    end: datetime,
) -> HistoricalSource:
    root = settings.data.dir if settings.data.dir is not None else settings.home / "data"
    if root.exists():
        store = ParquetStore(root)
        if all(
            symbol in store.get_bars(symbols, Timeframe.MINUTE, start, end) for symbol in symbols
        ):
            return store
    return SyntheticSource(seed=0)


def _status(feed: BaseFeed) -> str:
    """One line under the table: what the live connection is doing (replay: empty)."""
    if not isinstance(feed, AlpacaFeed):
        return ""
    up = feed.connected
    text = f"{feed.name}: connected {', '.join(up)}" if up else f"{feed.name}: connecting…"
    if feed.reconnects:
        text += f"  reconnects {feed.reconnects}"
    if feed.connect_failures and not up:
        text += f"  ({feed.connect_failures} failed attempts, last: {feed.last_error})"
    counts = feed.guard.counts
    dropped = counts.malformed + counts.duplicate + counts.out_of_order
    if dropped:
        text += f"  dropped {dropped}"
    return text


def _table(
    cache: LatestValueCache,
    counts: dict[str, int],
    rates: dict[str, float],
    status: str = "",
) -> Table:
    table = Table(title="stockyard stream", caption=status or None)
    for column in ("symbol", "bid", "ask", "last", "size", "bar (close)", "bar time", "msg/s"):
        table.add_column(column, justify="right" if column != "symbol" else "left")
    for symbol in sorted(counts):
        quote, trade, bar = (
            cache.last_quote(symbol),
            cache.last_trade(symbol),
            cache.last_bar(symbol),
        )
        table.add_row(
            symbol,
            f"{quote.bid_price:.2f}" if quote else "-",
            f"{quote.ask_price:.2f}" if quote else "-",
            f"{trade.price:.2f}" if trade else "-",
            f"{trade.size:g}" if trade else "-",
            f"{bar.close:.2f}" if bar else "-",
            bar.timestamp.strftime("%Y-%m-%d %H:%M") if bar else "-",
            f"{rates.get(symbol, 0.0):.0f}",
        )
    return table


def _replay_factory(
    settings: Settings, symbols: list[str], *, speed: float, start: datetime
) -> _FeedFactory:
    end = start + timedelta(days=7)

    def make(bus: MessageBus) -> BaseFeed:
        return ReplayFeed(
            bus=bus,
            source=_source(settings, symbols, start, end),
            symbols=symbols,
            start=start,
            end=end,
            speed=speed,
            ticks=True,
        )

    return make


def _credentials(
    settings: Settings, feed: str, key: str | None, secret: str | None
) -> tuple[SecretStr, SecretStr]:
    """--key/--secret, else (sandbox) ``sandbox.*``, else ``alpaca.*`` (APCA_API_*)."""
    if (key is None) != (secret is None):
        fail("give both --key and --secret, or neither")
    if key is not None and secret is not None:
        return SecretStr(key), SecretStr(secret)
    pairs = [(settings.alpaca.key_id, settings.alpaca.secret_key)]
    if feed == "sandbox":
        pairs.insert(0, (settings.sandbox.key_id, settings.sandbox.secret_key))
    for k, s in pairs:
        if k is not None and s is not None:
            return k, s
    if feed == "sandbox":
        fail(
            "the sandbox's credentials are needed: pass --key and --secret as `stockyard "
            "sandbox` printed them, or set sandbox.key_id/secret_key (or APCA_API_KEY_ID/"
            "APCA_API_SECRET_KEY)"
        )
    fail("--feed alpaca needs alpaca.key_id and alpaca.secret_key (APCA_API_KEY_ID/SECRET_KEY)")


def _live_factory(
    settings: Settings, symbols: list[str], *, feed: str, key: str | None, secret: str | None
) -> _FeedFactory:
    key_id, secret_key = _credentials(settings, feed, key, secret)
    if feed == "sandbox":
        host = settings.sandbox.host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        host = f"[{host}]" if ":" in host else host
        url, stock_feed = f"ws://{host}:{settings.sandbox.port}", settings.alpaca.feed
    else:
        try:
            url, stock_feed = stream_base_url(settings.alpaca), settings.alpaca.feed
        except (ConfigError, StockyardError) as exc:
            fail(str(exc))

    def make(bus: MessageBus) -> BaseFeed:
        return AlpacaFeed(
            bus=bus,
            key_id=key_id,
            secret_key=secret_key,
            stream_url=url,
            stock_feed=stock_feed,
            symbols=symbols,
            name=feed,
        )

    return make


async def _stream(
    settings: Settings,
    *,
    make_feed: _FeedFactory,
    symbols: list[str],
    backend: str,
    duration: float | None,
) -> dict[str, Any]:
    bus: InProcessBus | RedisBus
    if backend == "redis":
        bus = await RedisBus(url=_redis_url(settings), prefix=settings.bus.prefix).start()
    else:
        bus = InProcessBus()
    cache = LatestValueCache(ttl=3600.0)
    cache.attach(bus)
    counts = dict.fromkeys(symbols, 0)

    def count(topic: str, message: Any) -> None:
        counts[message.symbol] = counts.get(message.symbol, 0) + 1

    bus.subscribe("md.>", count)
    feed = make_feed(bus)
    await feed.start()
    began, last_counts, last_t = time.monotonic(), dict(counts), time.monotonic()
    rates: dict[str, float] = {}
    try:
        with Live(
            _table(cache, counts, rates, _status(feed)), refresh_per_second=4, transient=False
        ) as live:
            while duration is None or time.monotonic() - began < duration:
                await asyncio.sleep(0.5)
                now = time.monotonic()
                rates = {s: (counts[s] - last_counts.get(s, 0)) / (now - last_t) for s in counts}
                last_counts, last_t = dict(counts), now
                live.update(_table(cache, counts, rates, _status(feed)))
                if feed.finished.is_set():
                    break
        await feed.stop()
        return {
            "feed": feed.stats(),
            "bus": bus.stats(),
            "cache": cache.stats(),
            "messages": counts,
        }
    finally:
        await feed.stop()
        await bus.close()


def stream(
    ctx: typer.Context,
    symbols: str | None = typer.Option(
        None, "--symbols", help="Comma-separated, e.g. AAPL,MSFT (--feed bus: default all)."
    ),
    feed: str | None = typer.Option(
        None,
        "--feed",
        help="replay, sandbox (a running `stockyard sandbox`), alpaca, or bus: what other "
        "processes publish on Redis (default: bus on a Redis bus, else replay).",
    ),
    bus: str | None = typer.Option(None, "--bus", help="inproc or redis (default: bus.backend)."),
    duration: str | None = typer.Option(
        None, "--duration", help="e.g. 10s, 5m (default: until done)."
    ),
    speed: float = typer.Option(600.0, "--speed", min=0.0, help="Replay speed (0: flat out)."),
    start: str | None = typer.Option(
        None, "--start", help="Replay start date (default: 8 days ago)."
    ),
    key: str | None = typer.Option(
        None, "--key", help="sandbox/alpaca API key id (default: from settings)."
    ),
    secret: str | None = typer.Option(
        None, "--secret", help="sandbox/alpaca API secret (default: from settings)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the final counters as JSON."),
    events: bool = typer.Option(
        False, "--events", help="Print each order, fill and position as a JSON line (no table)."
    ),
) -> None:
    """Show a live table of last quote, trade and bar per symbol, with message rates.

    On a Redis bus (``--feed bus``, its default there) it listens to what every process
    publishes: market data, and the orders, fills and positions of the nodes."""
    settings = state_of(ctx).settings()
    backend = bus or settings.bus.backend
    if backend not in ("inproc", "redis"):
        fail(f"unknown bus {backend!r}: use inproc or redis")
    feed = feed or ("bus" if backend == "redis" else "replay")
    if feed not in ("replay", "sandbox", "alpaca", "bus"):
        fail(f"unknown feed {feed!r}: use replay, sandbox, alpaca or bus")
    names = [s.strip().upper() for s in (symbols or "").split(",") if s.strip()]
    if feed == "bus":
        if backend != "redis":
            fail("--feed bus listens to other processes: it needs --bus redis")
        seconds = parse_duration(duration) if duration else None
        heard = asyncio.run(_listen(settings, symbols=names, duration=seconds, events=events))
        if as_json:
            print_json(heard)
        return
    if not names:
        fail("--symbols needs at least one symbol")
    try:
        begin = (
            datetime.fromisoformat(start).replace(tzinfo=UTC)
            if start
            else (datetime.now(UTC) - timedelta(days=8)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
        )
    except ValueError:
        fail(f"--start {start!r} is not a date (YYYY-MM-DD)")
    seconds = parse_duration(duration) if duration else None
    if feed == "replay":
        make_feed = _replay_factory(settings, names, speed=speed, start=begin)
    else:
        # alpaca-py reports connection trouble through logging: to the log files, not
        # over the live table (the table's caption shows the connection state).
        state_of(ctx).start_logging(console=False)
        make_feed = _live_factory(settings, names, feed=feed, key=key, secret=secret)
    result = asyncio.run(
        _stream(settings, make_feed=make_feed, symbols=names, backend=backend, duration=seconds)
    )
    if as_json:
        print_json(result)
    failure = result["feed"].get("failure")
    if failure:
        fail(str(failure), code=1)


def bench_bus(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    backend: str = typer.Option("inproc", "--backend", help="inproc or redis."),
    subscribers: int = typer.Option(100, "--subscribers", min=1, help="Subscribers in all."),
    messages: int = typer.Option(200_000, "--messages", min=1000, help="Messages timed."),
    processes: int = typer.Option(3, "--processes", min=1, help="Redis: subscriber processes."),
    redis_url: str = typer.Option("redis://127.0.0.1:6379/0", "--redis-url", help="Redis."),
) -> None:
    """Publish-to-every-subscriber latency (p50, p99 µs) and deliveries/s."""
    if backend not in ("inproc", "redis"):
        fail(f"unknown backend {backend!r}: use inproc or redis")
    kind: Literal["inproc", "redis"] = "redis" if backend == "redis" else "inproc"
    figures = run_bus_benchmark(
        backend=kind,
        subscribers=subscribers,
        messages=messages,
        redis_url=redis_url,
        processes=processes,
    )
    _show("bus", figures, as_json)


# -- stream --feed bus: what every process publishes on Redis --------------------------------

_EXEC_KINDS: dict[type, str] = {Order: "orders", Fill: "fills", Position: "positions"}


class _Heard:
    """What a listener heard: market data per symbol, executions by kind."""

    def __init__(self, symbols: list[str], *, events: bool) -> None:
        self.wanted = frozenset(symbols)
        self.counts: dict[str, int] = dict.fromkeys(symbols, 0)
        self.executions = dict.fromkeys(_EXEC_KINDS.values(), 0)
        self.events = events

    def on_market(self, topic: str, message: Any) -> None:
        symbol = getattr(message, "symbol", None)
        if isinstance(symbol, str) and (not self.wanted or symbol in self.wanted):
            self.counts[symbol] = self.counts.get(symbol, 0) + 1

    def on_execution(self, topic: str, message: object) -> None:
        kind = _EXEC_KINDS.get(type(message))
        if kind is None:
            return
        self.executions[kind] += 1
        if self.events:
            subject = getattr(message, "symbol", None)
            line = {"topic": kind, "bus_topic": topic, "subject": subject}
            sys.stdout.write(json.dumps(line | {"data": jsonable(message)}) + "\n")
            sys.stdout.flush()

    def caption(self) -> str:
        shown = "  ".join(f"{kind} {n}" for kind, n in self.executions.items())
        return f"redis bus: {shown}"


async def _listen(
    settings: Settings, *, symbols: list[str], duration: float | None, events: bool
) -> dict[str, Any]:
    """Listen to the Redis bus until ``duration`` (or SIGINT/SIGTERM): a consumer group of
    this listener's own (so it sees every execution event), removed when it stops."""
    bus = RedisBus(
        url=_redis_url(settings),
        prefix=settings.bus.prefix,
        name="stream",
        group=f"stream-{socket.gethostname()}-{os.getpid()}",
    )
    await bus.start()
    heard = _Heard(symbols, events=events)
    cache = LatestValueCache(ttl=3600.0)
    cache.attach(bus)
    bus.subscribe("md.>", heard.on_market)
    bus.subscribe("exec.>", heard.on_execution)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bus.ready()
        typer.echo(f"listening on {describe_bus(settings)}", err=True)
        await _until_stopped(stop, duration, heard, cache)
        return {"bus": bus.stats(), "messages": heard.counts, "executions": heard.executions}
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await bus.close()
        await _forget_group(_redis_url(settings), f"{bus.prefix}stream:exec", bus.group)


async def _forget_group(url: str, key: str, group: str) -> None:
    """Remove a listener's consumer group once its reader has stopped (a reader still
    running would make it again)."""
    client = aredis.Redis.from_url(url)
    try:
        with contextlib.suppress(redis.exceptions.RedisError, OSError):
            await client.xgroup_destroy(key, group)
    finally:
        await client.aclose()


async def _until_stopped(
    stop: asyncio.Event, duration: float | None, heard: _Heard, cache: LatestValueCache
) -> None:
    began = time.monotonic()
    last_counts, last_t = dict(heard.counts), began
    rates: dict[str, float] = {}
    live = None
    if not heard.events:
        live = Live(_table(cache, heard.counts, rates, heard.caption()), refresh_per_second=4)
        live.start()
    try:
        while duration is None or time.monotonic() - began < duration:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
            if stop.is_set():
                return
            if live is not None:
                now = time.monotonic()
                counts = heard.counts
                rates = {s: (n - last_counts.get(s, 0)) / (now - last_t) for s, n in counts.items()}
                last_counts, last_t = dict(counts), now
                live.update(_table(cache, counts, rates, heard.caption()))
    finally:
        if live is not None:
            live.stop()
