"""One typed section per component. Frozen, keyword-only, unknown keys rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = [
    "AlpacaSettings",
    "BusSettings",
    "DataSettings",
    "DatabaseSettings",
    "HealthSettings",
    "LogSettings",
    "RedisSettings",
    "S3Settings",
    "SandboxSettings",
    "Section",
]

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

    @property
    def is_sandbox(self) -> bool:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return host in ("127.0.0.1", "localhost", "::1", "[::1]")

    @property
    def is_live(self) -> bool:
        return "api.alpaca.markets" in self.base_url and "paper" not in self.base_url


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
        if isinstance(value, str):  # from the environment: "local,alpaca" or a JSON list
            text = value.strip().strip("[]")
            return tuple(p.strip().strip("'\"") for p in text.split(",") if p.strip())
        return value


class BusSettings(Section):
    """The message bus."""

    backend: Literal["inproc", "redis"] = "inproc"


class SandboxSettings(Section):
    """The local Alpaca-compatible exchange."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
