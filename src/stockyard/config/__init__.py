"""Settings: one typed object, read from ``stockyard.toml`` and the environment."""

from stockyard.config._bots import (
    BROKERS,
    BotRiskSettings,
    BotSettings,
    BrokerKind,
    account_of,
    broker_of,
)
from stockyard.config._components import (
    BacktestSettings,
    ExchangeSettings,
    NodeSettings,
    OmsSettings,
)
from stockyard.config._processes import ProcessLimits, ProcessSettings, ReadinessProbe
from stockyard.config._sections import (
    AlpacaSettings,
    BusSettings,
    DatabaseSettings,
    DataSettings,
    HealthSettings,
    LogSettings,
    McpSettings,
    RedisSettings,
    RiskSettings,
    S3Settings,
    SandboxSettings,
    StrategySettings,
)
from stockyard.config._settings import (
    SEED_ENV,
    ConfigError,
    SettingRow,
    Settings,
    describe_settings,
    load_settings,
)

__all__ = [
    "BROKERS",
    "SEED_ENV",
    "AlpacaSettings",
    "BacktestSettings",
    "BotRiskSettings",
    "BotSettings",
    "BrokerKind",
    "BusSettings",
    "ConfigError",
    "DataSettings",
    "DatabaseSettings",
    "ExchangeSettings",
    "HealthSettings",
    "LogSettings",
    "McpSettings",
    "NodeSettings",
    "OmsSettings",
    "ProcessLimits",
    "ProcessSettings",
    "ReadinessProbe",
    "RedisSettings",
    "RiskSettings",
    "S3Settings",
    "SandboxSettings",
    "SettingRow",
    "Settings",
    "StrategySettings",
    "account_of",
    "broker_of",
    "describe_settings",
    "load_settings",
]
