"""One typed section per component. Frozen, keyword-only, unknown keys rejected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = [
    "AlertSettings",
    "AlpacaSettings",
    "ApiSettings",
    "BusSettings",
    "DataSettings",
    "DatabaseSettings",
    "HealthSettings",
    "LogSettings",
    "McpSettings",
    "RedisSettings",
    "RiskSettings",
    "S3Settings",
    "SandboxSettings",
    "Section",
    "StrategySettings",
]


def split_list(value: object) -> object:
    """A list from the environment: ``AAPL,BTC/USD`` or a JSON list; other values as given."""
    if isinstance(value, str):
        text = value.strip().strip("[]")
        return tuple(p.strip().strip("'\"") for p in text.split(",") if p.strip())
    return value


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Section(BaseModel):
    """Base of every settings section."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class LogSettings(Section):
    """Unified logging (``stockyard.obs``)."""

    level: LogLevel = "INFO"
    dir: Path | None = Field(default=None, description="default: $STOCKYARD_HOME/logs")
    format: Literal["console", "json"] = Field(
        default="console", description="console: coloured for people; json: JSON lines"
    )
    console: bool = True
    console_level: LogLevel | None = Field(
        default=None, description="level shown on the console (default: level)"
    )
    file_max_mb: float = Field(default=50.0, gt=0, description="trading_system.log rotation")
    errors_max_mb: float = Field(default=10.0, gt=0, description="errors.log rotation")
    component_max_mb: float = Field(default=20.0, gt=0, description="per-component rotation")
    backups: int = Field(default=5, ge=0, le=100)

    @field_validator("level", "console_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class HealthSettings(Section):
    """Health checks and the health API."""

    host: str = "127.0.0.1"
    api_port: int = Field(default=5555, ge=1, le=65535)
    check_interval: float = Field(default=30.0, gt=0, description="seconds between checks")
    check_timeout: float = Field(default=5.0, gt=0, description="seconds before a check fails")


class ApiSettings(Section):
    """The REST API's access: a bearer token for control endpoints."""

    token: SecretStr | None = Field(
        default=None, description="bearer token for control endpoints (unset: control refused)"
    )
    open_read: bool = Field(
        default=True, description="read-only health endpoints answer without the token"
    )
    rate_limit: float = Field(
        default=50.0, gt=0, description="requests per second per API key under /api/v1"
    )
    rate_burst: int = Field(default=100, ge=1, description="requests one key may burst")


class AlertSettings(Section):
    """Alert rules, notifiers and how long health history is kept."""

    default_rules: bool = Field(default=True, description="start with the built-in rules")
    rules_file: Path | None = Field(
        default=None, description="TOML file of [[rules]]; a rule of the same name replaces"
    )
    webhook_url: SecretStr | None = Field(default=None, description="POST each alert as JSON")
    apprise_urls: SecretStr | None = Field(
        default=None, description="comma-separated apprise URLs (Slack, Telegram, e-mail, ...)"
    )
    notify_timeout: float = Field(default=5.0, gt=0, description="seconds per notification")
    notify_fills: bool = Field(default=False, description="each fill to the apprise URLs")
    notify_halts: bool = Field(
        default=False, description="trading halts (kill switch, daily loss, feed) to apprise"
    )
    notify_daily_summary: bool = Field(
        default=False, description="a summary of each trading day's fills and P&L to apprise"
    )
    daily_summary_at: dt.time = Field(
        default=dt.time(16, 15), description="when the daily summary goes (New York time)"
    )
    retention_days: float = Field(
        default=7.0, gt=0, description="days of metric samples and resolved alerts kept"
    )


class RedisSettings(Section):
    """Redis: configured when a host (or URL) is given; unused otherwise."""

    host: str | None = None
    port: int = Field(default=6379, ge=1, le=65535)
    db: int = Field(default=0, ge=0)
    password: SecretStr | None = None
    url: SecretStr | None = Field(default=None, description="overrides host/port/db")

    @property
    def configured(self) -> bool:
        return self.host is not None or self.url is not None

    def connection_url(self) -> str | None:
        """The URL redis-py should use, secrets included; never log it."""
        if self.url is not None:
            return self.url.get_secret_value()
        if self.host is None:
            return None
        auth = f":{self.password.get_secret_value()}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


class DatabaseSettings(Section):
    """The state database: SQLite file by default, PostgreSQL by URL."""

    url: SecretStr | None = Field(default=None, description="default: sqlite under home")

    def connection_url(self) -> str:
        if self.url is None:  # filled from home by Settings; only None if built by hand
            raise ValueError("database.url is not set")
        return self.url.get_secret_value()

    @property
    def is_postgres(self) -> bool:
        return self.connection_url().startswith(("postgresql", "postgres"))

    def sqlalchemy_url(self) -> str:
        """The URL with a driver SQLAlchemy can load (psycopg 3 for PostgreSQL)."""
        url = self.connection_url()
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url.removeprefix(plain)
        return url


ALPACA_REQUESTS_PER_MINUTE = 200  # Alpaca's default plan, per API key


class AlpacaSettings(Section):
    """Alpaca (or the local sandbox, which speaks the same protocols)."""

    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None
    base_url: str = Field(
        default="http://127.0.0.1:8765", description="trading API; the sandbox by default"
    )
    data_url: str | None = Field(default=None, description="market data API (default: base_url)")
    stream_url: str | None = Field(default=None, description="market data WebSocket base")
    feed: Literal["iex", "sip"] = "iex"
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="REST requests a minute per key; default: Alpaca's 200 against Alpaca, "
        "none against the local sandbox (it replays faster than real time)",
    )

    @property
    def is_sandbox(self) -> bool:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return host in ("127.0.0.1", "localhost", "::1", "[::1]")

    @property
    def is_live(self) -> bool:
        return "api.alpaca.markets" in self.base_url and "paper" not in self.base_url

    @property
    def requests_per_minute(self) -> int | None:
        """The pace our clients keep per key (None: unpaced)."""
        if self.rate_limit_per_minute is not None:
            return self.rate_limit_per_minute
        return None if self.is_sandbox else ALPACA_REQUESTS_PER_MINUTE


class S3Settings(Section):
    """S3 / MinIO bucket for historical data."""

    endpoint_url: str | None = None
    bucket: str | None = None
    prefix: str = "stockyard"
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None

    @property
    def configured(self) -> bool:
        return self.bucket is not None


class DataSettings(Section):
    """Historical data: the local store and the source chain."""

    dir: Path | None = Field(default=None, description="default: $STOCKYARD_HOME/data")
    sources: tuple[Literal["local", "s3", "alpaca", "synthetic"], ...] = ("local", "s3", "alpaca")
    cache_size: int = Field(default=1024, ge=0, description="bar tables kept in memory")
    cache_ttl: float = Field(default=300.0, gt=0, description="seconds")
    s3: S3Settings = S3Settings()

    @field_validator("sources", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)


class BusSettings(Section):
    """The message bus."""

    backend: Literal["inproc", "redis"] = "inproc"
    prefix: str = Field(
        default="stockyard:",
        pattern=r"^[^*?\[\]\\]*$",
        description="Redis key and channel prefix",
    )
    queue_size: int = Field(default=10_000, ge=1, description="per async subscriber")
    stream_maxlen: int = Field(default=100_000, ge=1, description="Streams MAXLEN ~ trim")
    latency_sample_every: int = Field(
        default=16, ge=1, description="time 1 message in N (a power of two)"
    )

    @field_validator("latency_sample_every")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"must be a power of two, got {value}")
        return value


class SandboxSettings(Section):
    """The local Alpaca-compatible exchange."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    key_id: SecretStr | None = Field(
        default=None, description="default: alpaca.key_id, else generated at start"
    )
    secret_key: SecretStr | None = Field(
        default=None, description="default: alpaca.secret_key, else generated at start"
    )
    source: Literal["auto", "synthetic", "local"] = Field(
        default="auto", description="auto: the local store when it has minute bars, else synthetic"
    )
    symbols: tuple[str, ...] = ("AAPL", "MSFT", "SPY", "BTC/USD", "ETH/USD")
    speed: str = Field(default="60", description="simulated s per real s; max; 0 = paused")
    seed: int = Field(default=0, description="synthetic data, ticks and faults")
    cash: Decimal = Field(default=Decimal(100_000), ge=0, description="new accounts' cash")
    faults: str = Field(default="none", description="profile name or JSON/TOML file")
    state_file: Path | None = Field(default=None, description="default: $STOCKYARD_HOME/sandbox.db")
    rate_limit_per_min: int = Field(
        default=200,
        ge=0,
        description="`stockyard sandbox`: REST requests per key a minute; 0 = none",
    )
    streams_per_key: int = Field(
        default=1, ge=1, description="`stockyard sandbox`: market-data streams per key and endpoint"
    )
    sip: bool = Field(default=True, description="keys may use the SIP feed (recent data, stream)")
    reference_file: Path | None = Field(
        default=None, description="corporate actions and news to serve (JSON, docs/sandbox.md)"
    )

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)


class RiskSettings(Section):
    """Pre-trade risk limits (``stockyard.risk``); a limit left unset is not checked."""

    max_order_qty: Decimal | None = Field(default=None, gt=0, description="shares per order")
    max_order_notional: Decimal | None = Field(
        default=None, gt=0, description="qty x price per order"
    )
    max_position_qty: Decimal | None = Field(
        default=None, gt=0, description="|shares| held per symbol, open orders included"
    )
    max_gross_exposure: Decimal | None = Field(
        default=None, gt=0, description="long + short market value after the order"
    )
    max_open_orders: int | None = Field(default=None, ge=1)
    daily_loss_limit: Decimal | None = Field(
        default=None, gt=0, description="halt opening orders below start-of-day equity minus this"
    )
    price_band_pct: Decimal | None = Field(
        default=Decimal(10), gt=0, description="limit/stop prices this % off the last trade"
    )
    max_price_age_s: float = Field(
        default=900.0, gt=0, description="market orders need a last price at most this old"
    )
    max_orders: int | None = Field(default=None, ge=1, description="orders per order_window_s")
    order_window_s: float = Field(default=1.0, gt=0, description="throttle window, seconds")
    when_closed: Literal["refuse", "queue", "allow"] = Field(
        default="refuse", description="orders while the symbol's market is closed"
    )
    day_timezone: str = Field(
        default="America/New_York", description="where the trading day (daily loss) starts"
    )


class StrategySettings(Section):
    """The strategy runner (``stockyard.strategy``)."""

    history_size: int = Field(default=1024, ge=1, description="bars kept per symbol")


class McpSettings(Section):
    """The MCP server for AI assistants (``stockyard mcp`` and the hub's ``/mcp``)."""

    enabled: bool = Field(default=True, description="serve /mcp on the hub")
    allow_live: bool = Field(
        default=False, description="the hub's /mcp may place orders on a live node"
    )
    max_order_notional: Decimal = Field(
        default=Decimal(10_000), gt=0, description="per-order cap (USD) on orders placed over MCP"
    )
    allow_remote: bool = Field(
        default=False, description="/mcp answers clients that are not on this machine"
    )
