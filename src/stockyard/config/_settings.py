"""The one settings object, and where each of its values came from.

Layers, lowest priority first: defaults, ``stockyard.toml``, the seed environment names of
DESIGN.md §5 (``LOG_LEVEL``, ``APCA_API_KEY_ID``, ...), ``STOCKYARD_<SECTION>__<KEY>``, and
explicit overrides (command-line flags). We merge the layers ourselves instead of letting
pydantic-settings do it, because ``stockyard config show`` must say which layer each value
came from, and tests inject an environment mapping rather than patching ``os.environ``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from stockyard.config._bots import BotRiskSettings, BotSettings
from stockyard.config._components import (
    BacktestSettings,
    ExchangeSettings,
    NodeSettings,
    OmsSettings,
)
from stockyard.config._processes import ProcessSettings, check_process_name
from stockyard.config._sections import (
    AlertSettings,
    AlpacaSettings,
    ApiSettings,
    BusSettings,
    DatabaseSettings,
    DataSettings,
    HealthSettings,
    LogSettings,
    McpSettings,
    RedisSettings,
    RiskSettings,
    SandboxSettings,
    StrategySettings,
)

__all__ = [
    "SEED_ENV",
    "ConfigError",
    "SettingRow",
    "Settings",
    "describe_settings",
    "load_settings",
]

ENV_PREFIX = "STOCKYARD_"
# Environment names that start with the prefix but are not settings keys (the client reads
# STOCKYARD_URL and STOCKYARD_API_KEY).
_NOT_SETTINGS = ("STOCKYARD_CONFIG", "STOCKYARD_TEST_", "STOCKYARD_URL", "STOCKYARD_API_KEY")

SEED_ENV: Mapping[str, tuple[str, ...]] = {
    "LOG_LEVEL": ("log", "level"),
    "LOG_DIR": ("log", "dir"),
    "HEALTH_CHECK_INTERVAL": ("health", "check_interval"),
    "HEALTH_API_PORT": ("health", "api_port"),
    "REDIS_HOST": ("redis", "host"),
    "REDIS_PORT": ("redis", "port"),
    "APCA_API_KEY_ID": ("alpaca", "key_id"),
    "APCA_API_SECRET_KEY": ("alpaca", "secret_key"),
    "APCA_API_BASE_URL": ("alpaca", "base_url"),
}


class ConfigError(ValueError):
    """A setting is wrong (the one error for it, raised by every layer). ``str()`` is one line
    naming the key, the value and what is allowed; ``key`` is the dotted key when known.
    ``resilience.classify`` makes it a fatal, critical VALIDATION error."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class Settings(BaseSettings):
    """Every component's settings, one section each."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, validate_default=True)

    home: Path = Path("~/.stockyard")
    log: LogSettings = LogSettings()
    health: HealthSettings = HealthSettings()
    api: ApiSettings = ApiSettings()
    alerts: AlertSettings = AlertSettings()
    redis: RedisSettings = RedisSettings()
    database: DatabaseSettings = DatabaseSettings()
    alpaca: AlpacaSettings = AlpacaSettings()
    data: DataSettings = DataSettings()
    bus: BusSettings = BusSettings()
    sandbox: SandboxSettings = SandboxSettings()
    risk: RiskSettings = RiskSettings()
    strategy: StrategySettings = StrategySettings()
    processes: dict[str, ProcessSettings] = {}

    @field_validator("processes")
    @classmethod
    def _process_names(cls, value: dict[str, ProcessSettings]) -> dict[str, ProcessSettings]:
        for name in value:
            check_process_name(name)
        return value

    mcp: McpSettings = McpSettings()
    node: NodeSettings = NodeSettings()
    oms: OmsSettings = OmsSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    backtest: BacktestSettings = BacktestSettings()
    bots: tuple[BotSettings, ...] = ()

    @field_validator("bots")
    @classmethod
    def _bot_names(cls, value: tuple[BotSettings, ...]) -> tuple[BotSettings, ...]:
        seen: dict[str, int] = {}
        for index, bot in enumerate(value):
            if bot.name in seen:
                raise ValueError(
                    f"bots[{index}].name: {bot.name!r} is already "
                    f"the name of bots[{seen[bot.name]}]"
                )
            seen[bot.name] = index
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() has already merged every layer; see the module docstring.
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _place_under_home(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        home = Path(str(raw.get("home") or "~/.stockyard")).expanduser()
        raw = {**raw, "home": home}
        for section, key, value in _home_defaults(home):
            part = raw.get(section)
            part = dict(part) if isinstance(part, Mapping) else {}
            if part.get(key) is None:
                part[key] = value
            raw[section] = part
        return raw

    @model_validator(mode="before")
    @classmethod
    def _redis_bus_when_redis_is_given(cls, raw: Any) -> Any:
        """``REDIS_HOST`` (or ``redis.host``/``redis.url``) with no ``bus.backend`` chooses
        the Redis bus, as the seed's Redis settings did; ``bus.backend = "inproc"`` keeps
        the in-process one."""
        if not isinstance(raw, dict):
            return raw
        redis, bus = raw.get("redis"), raw.get("bus")
        given = isinstance(redis, Mapping) and any(redis.get(k) for k in ("host", "url"))
        if isinstance(redis, RedisSettings):
            given = redis.configured
        chosen = isinstance(bus, BusSettings) or (isinstance(bus, Mapping) and "backend" in bus)
        if given and not chosen:
            raw = {**raw, "bus": {**(bus if isinstance(bus, Mapping) else {}), "backend": "redis"}}
        return raw

    def secret_values(self) -> list[str]:
        """Every secret string set in these settings, for log redaction."""
        found: list[str] = []

        def walk(model: BaseModel) -> None:
            for name in type(model).model_fields:
                value = getattr(model, name)
                if name == "url":  # a URL is not secret as a whole; its password is
                    continue
                if isinstance(value, SecretStr):
                    found.append(value.get_secret_value())
                elif isinstance(value, BaseModel):
                    walk(value)

        walk(self)
        if self.redis.password is None and self.redis.url is not None:
            found.extend(_url_passwords(self.redis.url.get_secret_value()))
        if self.database.url is not None:
            found.extend(_url_passwords(self.database.url.get_secret_value()))
        return [s for s in found if s]


def _home_defaults(home: Path) -> Iterator[tuple[str, str, object]]:
    yield "log", "dir", home / "logs"
    yield "data", "dir", home / "data"
    yield "database", "url", f"sqlite:///{home / 'state.db'}"


def _url_passwords(url: str) -> list[str]:
    netloc = url.split("://", 1)[-1].split("/", 1)[0]
    if "@" not in netloc:
        return []
    auth = netloc.rsplit("@", 1)[0]
    return [auth.split(":", 1)[1]] if ":" in auth else []


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One line of ``stockyard config show``."""

    key: str
    value: str
    source: str
    secret: bool


# -- loading -------------------------------------------------------------------------------


def load_settings(
    *,
    config_file: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Read the settings from the TOML file, the environment and overrides; validate them.

    ``config_file`` defaults to ``STOCKYARD_CONFIG``, then ``./stockyard.toml`` if present.
    ``overrides`` are dotted keys (``{"log.level": "DEBUG"}``). Raises ``ConfigError``.
    """
    return _load(config_file=config_file, env=env, overrides=overrides)[0]


def describe_settings(
    *,
    config_file: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> list[SettingRow]:
    """The effective settings, secrets masked, each with the layer it came from."""
    settings, sources = _load(config_file=config_file, env=env, overrides=overrides)
    rows: list[SettingRow] = []
    for key, value in _flatten_model(settings):
        secret = isinstance(value, SecretStr)
        if not isinstance(value, SecretStr):
            shown = _show(value)
        elif key.endswith(".url"):  # show the URL, hide only its password
            shown = _mask_url(value.get_secret_value())
        else:
            shown = _mask(value)
        rows.append(SettingRow(key, shown, sources.get(key, _default_label(key)), secret))
    return rows


def _default_label(key: str) -> str:
    return "default (under home)" if key in ("log.dir", "data.dir", "database.url") else "default"


def _load(
    *,
    config_file: Path | str | None,
    env: Mapping[str, str] | None,
    overrides: Mapping[str, object] | None,
) -> tuple[Settings, dict[str, str]]:
    environ = os.environ if env is None else env
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}

    path = _config_path(config_file, environ)
    if path is not None:
        for key, value in _flatten_dict(_read_toml(path)):
            _put(merged, sources, key, value, f"file {path}")
    for name, dotted in SEED_ENV.items():
        if name in environ:
            _put(merged, sources, ".".join(dotted), environ[name], f"env {name}")
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(_NOT_SETTINGS):
            continue
        key = name.removeprefix(ENV_PREFIX).lower().replace("__", ".")
        _put(merged, sources, key, value, f"env {name}")
    for key, value in (overrides or {}).items():
        if value is not None:
            _put(merged, sources, key, value, "command line")

    _reject_unknown(merged, sources)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise _explain(exc, merged, sources) from None
    return settings, sources


def _config_path(config_file: Path | str | None, environ: Mapping[str, str]) -> Path | None:
    if config_file is None and environ.get("STOCKYARD_CONFIG"):
        config_file = environ["STOCKYARD_CONFIG"]
    if config_file is not None:
        path = Path(config_file).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist", key="config")
        return path
    local = Path("stockyard.toml")
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", key="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", key="config") from None


def _flatten_dict(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten_dict(value, f"{dotted}.")
        else:
            yield dotted, value


def _put(
    merged: dict[str, Any], sources: dict[str, str], key: str, value: object, source: str
) -> None:
    parts = key.split(".")
    node = merged
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
    sources[key] = source


def _known_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _known_keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


_TABLES = ("processes.",)


def _reject_unknown(merged: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    known = set(_known_keys(Settings))
    sections = {k.split(".", 1)[0] for k in known if "." in k}
    for key, _value in _flatten_dict(merged):
        if key in known or key.startswith(_TABLES):  # tables: pydantic names the bad key
            continue
        if key in sections:  # a whole section given a scalar
            raise ConfigError(
                f"bad setting {key} ({sources.get(key, '?')}): {key} is a section, not a value",
                key=key,
            )
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(
            f"unknown setting {key} ({sources.get(key, '?')}){hint}",
            key=key,
        )


def _explain(
    exc: ValidationError, merged: Mapping[str, Any], sources: Mapping[str, str]
) -> ConfigError:
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    if loc and loc[0] == "bots":
        return _explain_bot(error, sources)
    key = ".".join(str(p) for p in loc if not isinstance(p, int))
    given = dict(_flatten_dict(merged)).get(key, error.get("input"))
    if _looks_secret(key):
        given = "****"
    where = sources.get(key)
    origin = f" (from {where})" if where else ""
    return ConfigError(f"bad setting {key} = {given!r}{origin}: {error['msg']}", key=key)


def _explain_bot(error: Any, sources: Mapping[str, str]) -> ConfigError:
    """One line for a bad ``[[bots]]`` table: ``bots[1].strategy: ...`` (list indexes kept,
    an unknown key named with the closest known one)."""
    loc = error["loc"]
    if len(loc) > 4 and loc[2] == "params":  # a union's member names follow the key
        loc = loc[:4]
        error = {**error, "msg": "a parameter is a number, a string or true/false"}
    key = "bots"
    for part in loc[1:]:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    where = sources.get("bots")
    origin = f" ({where})" if where else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        name = str(error["loc"][-1])
        model: type[BaseModel] = BotSettings
        if len(error["loc"]) == 4 and error["loc"][2] == "risk":
            model = BotRiskSettings
        known = list(model.model_fields)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
        message = f"unknown key {name!r}{hint}"
    elif error["type"] == "missing":
        message = "missing (every bot needs name, strategy and symbols)"
    elif message.startswith("bots["):  # a check of the whole list names its own key
        return ConfigError(f"{message}{origin}", key="bots")
    return ConfigError(f"{key}: {message}{origin}", key=key)


def _looks_secret(key: str) -> bool:
    return any(w in key for w in ("secret", "password", "key_id", "access_key", "url"))


# -- showing -------------------------------------------------------------------------------


def _flatten_model(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, object]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _flatten_model(value, f"{prefix}{name}.")
        elif isinstance(value, tuple) and value and all(isinstance(v, BaseModel) for v in value):
            for index, item in enumerate(value):
                yield from _flatten_model(item, f"{prefix}{name}[{index}].")
        elif isinstance(value, dict) and all(isinstance(v, BaseModel) for v in value.values()):
            for key, item in value.items():
                yield from _flatten_model(item, f"{prefix}{name}.{key}.")
        else:
            yield f"{prefix}{name}", value


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _mask(value: SecretStr) -> str:
    return "********" if value.get_secret_value() else "(empty)"


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        auth, host = netloc.rsplit("@", 1)
        user = auth.split(":", 1)[0]
        netloc = f"{user}:********@{host}" if ":" in auth else f"{user}@{host}"
    return f"{scheme}{sep}{netloc}{slash}{path}"
