"""``stockyard sandbox``: the local Alpaca-compatible exchange, in the foreground; and
``stockyard bench sandbox``. The lead wires both with ``register(app, bench_app)``."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime

import typer
from rich.console import Console

import stockyard.bench
from stockyard.cli._context import fail, print_json, state_of
from stockyard.config import Settings
from stockyard.data import HistoricalSource, ParquetStore, SyntheticSource
from stockyard.execution import ExchangeConfig
from stockyard.sandbox import (
    ReferenceData,
    SandboxConfig,
    SandboxServer,
    SandboxStateError,
    StreamLimits,
    load_faults,
    load_reference,
    parse_speed,
)

__all__ = ["register", "sandbox_config", "shown_secret"]


def _credentials(settings: Settings, key: str | None, secret: str | None) -> tuple[str, str, bool]:
    """(key, secret, generated): the flag, else ``sandbox.*``, else ``alpaca.*``, else new."""
    for k, s in (
        (key, secret),
        (settings.sandbox.key_id, settings.sandbox.secret_key),
        (settings.alpaca.key_id, settings.alpaca.secret_key),
    ):
        k_text = k if isinstance(k, str) or k is None else k.get_secret_value()
        s_text = s if isinstance(s, str) or s is None else s.get_secret_value()
        if k_text and s_text:
            return k_text, s_text, False
        if (k_text is None) != (s_text is None) and (key or secret):
            fail("give both --key and --secret, or neither")
    return f"SANDBOX{secrets.token_hex(6).upper()}", secrets.token_urlsafe(24), True


def _source(settings: Settings, name: str, seed: int) -> HistoricalSource:
    if name == "synthetic":
        return SyntheticSource(seed=seed)
    if name in ("local", "auto"):
        if settings.data.dir is None:
            fail("data.dir is not set")
        store = ParquetStore(settings.data.dir)
        if name == "local" or any(e.timeframe.is_intraday for e in store.catalog()):
            return store
        return SyntheticSource(seed=seed)
    fail(f"--source must be auto, synthetic or local, got {name!r}")


def _local_defaults(store: HistoricalSource) -> tuple[tuple[str, ...], datetime | None]:
    if not isinstance(store, ParquetStore):
        return (), None
    entries = [e for e in store.catalog() if e.timeframe.is_intraday]
    if not entries:
        fail(f"the local store at {store.root} has no minute bars: try `stockyard data ...`")
    return tuple(sorted({e.symbol for e in entries})), min(e.start for e in entries)


def _start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--start must be a date or an RFC 3339 time, got {text!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def sandbox_config(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    source: str | None = None,
    symbols: str | None = None,
    start: str | None = None,
    speed: str | None = None,
    key: str | None = None,
    secret: str | None = None,
    faults: str | None = None,
    reset: bool = False,
    seed: int | None = None,
) -> tuple[SandboxConfig, tuple[str, str, bool]]:
    """The sandbox's configuration from settings and flags, and (key, secret, generated).

    Exits with one line (code 2) on a bad value. ``stockyard up`` uses it with no flags.
    """
    conf = settings.sandbox
    seed_value = conf.seed if seed is None else seed
    data = _source(settings, source or conf.source, seed_value)
    chosen, local_start = _local_defaults(data)
    if symbols:
        chosen = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
    creds = _credentials(settings, key, secret)
    try:
        config = SandboxConfig(
            key_id=creds[0],
            secret_key=creds[1],
            host=host or conf.host,
            port=conf.port if port is None else port,
            symbols=chosen or conf.symbols,
            source=data,
            start=_start(start) or local_start,
            speed=parse_speed(speed or conf.speed),
            seed=seed_value,
            cash=conf.cash,
            faults=load_faults(faults or conf.faults),
            exchange=ExchangeConfig.from_settings(settings.exchange, fill_on_submit=True),
            state_path=conf.state_file or settings.home / "sandbox.db",
            reset=reset,
            limits=StreamLimits(sip=conf.sip),
            reference=load_reference(conf.reference_file)
            if conf.reference_file
            else ReferenceData(),
        )
    except (ValueError, OSError) as exc:
        fail(str(exc))
    return config, creds


def data_name(config: SandboxConfig) -> str:
    return config.source.name if config.source is not None else "synthetic"


def shown_secret(creds: tuple[str, str, bool]) -> str:
    """A generated secret is shown once, in full; a configured one masked."""
    secret_text = creds[1]
    masked = f"{secret_text[:3]}…" if len(secret_text) > 8 else "…"
    return secret_text if creds[2] else f"{masked} (as configured)"


def sandbox(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Interface to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8765; 0 picks a free one)."),
    source: str | None = typer.Option(
        None, help="auto (default: the store if it has minute bars), synthetic or local."
    ),
    symbols: str | None = typer.Option(None, help="Comma-separated, e.g. AAPL,MSFT,BTC/USD."),
    start: str | None = typer.Option(None, help="Replay from (date or RFC 3339 time)."),
    speed: str | None = typer.Option(None, help="Simulated s per real s (60), max, or 0."),
    key: str | None = typer.Option(None, "--key", help="API key id clients must send."),
    secret: str | None = typer.Option(None, "--secret", help="API secret clients must send."),
    faults: str | None = typer.Option(None, help="Fault profile name or JSON/TOML file."),
    reset: bool = typer.Option(False, "--reset", help="Start clean: forget saved state."),
    seed: int | None = typer.Option(None, help="Seed of synthetic data, ticks and faults."),
) -> None:
    """Run the local Alpaca-compatible exchange in the foreground until Ctrl-C."""
    settings = state_of(ctx).start_logging()
    config, creds = sandbox_config(
        settings,
        host=host,
        port=port,
        source=source,
        symbols=symbols,
        start=start,
        speed=speed,
        key=key,
        secret=secret,
        faults=faults,
        reset=reset,
        seed=seed,
    )
    # Alpaca's limits for clients pointed at a standalone sandbox (`stockyard up` runs without).
    conf = settings.sandbox
    config = dataclasses.replace(
        config,
        rate_limit_per_min=conf.rate_limit_per_min,
        limits=dataclasses.replace(config.limits, connections_per_key=conf.streams_per_key),
    )
    try:
        server = SandboxServer(config, log_level="warning")
    except (OSError, SandboxStateError) as exc:
        fail(str(exc))
    console = Console(stderr=True)
    console.print(f"[bold]stockyard sandbox[/] on {server.base_url}  (Ctrl-C stops it)")
    console.print(f"  trading + market data REST  {server.base_url}")
    console.print(
        f"  market data streams         {server.stream_url}/v2/iex, /v2/sip, /v1beta3/crypto/us"
    )
    console.print(f"  trading stream              {server.stream_url}/stream")
    console.print(f"  APCA-API-KEY-ID             {creds[0]}")
    console.print(f"  APCA-API-SECRET-KEY         {shown_secret(creds)}")
    if creds[2]:
        console.print(
            "  (generated for this run and shown once; set sandbox.key_id/secret_key "
            "or pass --key/--secret to keep them)"
        )
    console.print(
        f"  replaying {', '.join(config.symbols)} from {data_name(config)} at speed "
        f"{speed or settings.sandbox.speed}; state in {config.state_path}"
    )
    server.run()
    typer.echo("sandbox stopped cleanly", err=True)


def bench_sandbox(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    orders: int = typer.Option(1000, min=10, help="Orders timed submit → fill event."),
    clients: int = typer.Option(10, min=1, help="Market-data stream clients."),
    seconds: float = typer.Option(5.0, min=1.0, help="Stream throughput phase length."),
) -> None:
    """Order round trip (p50, p99 ms) and market-data messages/s through alpaca-py."""
    figures = stockyard.bench.run_sandbox_benchmark(orders=orders, clients=clients, seconds=seconds)
    if as_json:
        print_json({**figures, "benchmark": "sandbox"})
        return
    for name, value in figures.items():
        typer.echo(f"{name:>24}  {value}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``stockyard sandbox`` to ``app`` and ``stockyard bench sandbox`` to ``bench_app``."""
    app.command("sandbox")(sandbox)
    bench_app.command("sandbox")(bench_sandbox)
