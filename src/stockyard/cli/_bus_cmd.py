"""``stockyard stream``, ``stockyard bus stats`` and ``stockyard bench bus``."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from stockyard.bus import (
    InProcessBus,
    LatestValueCache,
    RedisBus,
    redis_overview,
    run_bus_benchmark,
)
from stockyard.cli._bench_cmd import _show
from stockyard.cli._context import fail, parse_duration, print_json, state_of
from stockyard.config import Settings
from stockyard.core import Timeframe
from stockyard.data import HistoricalSource, ParquetStore, SyntheticSource
from stockyard.data.feeds import ReplayFeed

__all__ = ["register"]

_NOT_YET = "feed {feed!r} is not available until the sandbox feed adapter lands; use --feed replay"


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


def _table(cache: LatestValueCache, counts: dict[str, int], rates: dict[str, float]) -> Table:
    table = Table(title="stockyard stream")
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


async def _stream(
    settings: Settings,
    *,
    symbols: list[str],
    backend: str,
    duration: float | None,
    speed: float,
    start: datetime,
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
    end = start + timedelta(days=7)
    feed = ReplayFeed(
        bus=bus,
        source=_source(settings, symbols, start, end),
        symbols=symbols,
        start=start,
        end=end,
        speed=speed,
        ticks=True,
    )
    await feed.start()
    began, last_counts, last_t = time.monotonic(), dict(counts), time.monotonic()
    rates: dict[str, float] = {}
    try:
        with Live(_table(cache, counts, rates), refresh_per_second=4, transient=False) as live:
            while duration is None or time.monotonic() - began < duration:
                await asyncio.sleep(0.5)
                now = time.monotonic()
                rates = {s: (counts[s] - last_counts.get(s, 0)) / (now - last_t) for s in counts}
                last_counts, last_t = dict(counts), now
                live.update(_table(cache, counts, rates))
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
    symbols: str = typer.Option(..., "--symbols", help="Comma-separated, e.g. AAPL,MSFT."),
    feed: str = typer.Option("replay", "--feed", help="replay, sandbox or alpaca."),
    bus: str | None = typer.Option(None, "--bus", help="inproc or redis (default: bus.backend)."),
    duration: str | None = typer.Option(
        None, "--duration", help="e.g. 10s, 5m (default: until done)."
    ),
    speed: float = typer.Option(600.0, "--speed", min=0.0, help="Replay speed (0: flat out)."),
    start: str | None = typer.Option(
        None, "--start", help="Replay start date (default: 8 days ago)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the final counters as JSON."),
) -> None:
    """Show a live table of last quote, trade and bar per symbol, with message rates."""
    if feed in ("sandbox", "alpaca"):
        fail(_NOT_YET.format(feed=feed))
    if feed != "replay":
        fail(f"unknown feed {feed!r}: use replay, sandbox or alpaca")
    settings = state_of(ctx).settings()
    backend = bus or settings.bus.backend
    if backend not in ("inproc", "redis"):
        fail(f"unknown bus {backend!r}: use inproc or redis")
    names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
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
    result = asyncio.run(
        _stream(
            settings, symbols=names, backend=backend, duration=seconds, speed=speed, start=begin
        )
    )
    if as_json:
        print_json(result)


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
