"""``[node]``, ``[oms]``, ``[exchange]``, ``[backtest]`` and ``[sandbox]``: each component's
config is settable from ``stockyard.toml`` and takes its defaults from its section."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.backtest import BacktestConfig, backtest_config
from stockyard.config import ConfigError, Settings, load_settings
from stockyard.engine import NodeConfig, node_config, oms_config
from stockyard.execution import CryptoTierFee, ExchangeConfig
from stockyard.execution.oms import OmsConfig
from stockyard.sandbox import SandboxConfig

TOML = """
[node]
tick_s = 0.5
cancel_on_stop = true

[oms]
resubmit_window_s = 60
submit_attempts = 5

[exchange]
limit_fill = "through"
multiplier = 4
pdt = false

[backtest]
cash = "25000"
fees = "sec"
calendar = "nyse"
seed = 7

[strategy]
history_size = 64
"""


def _settings(tmp_path: Path, text: str = TOML) -> Settings:
    path = tmp_path / "stockyard.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config_file=path, env={"STOCKYARD_HOME": str(tmp_path)})


def test_each_component_config_is_read_from_its_section(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    node = node_config(settings)
    assert (node.tick_s, node.cancel_on_stop, node.history_size) == (0.5, True, 64)
    oms = oms_config(settings)
    assert (oms.resubmit_window, oms.submit_attempts, oms.component) == (
        timedelta(seconds=60),
        5,
        "trading",
    )
    backtest = backtest_config(settings)
    assert (backtest.cash, backtest.calendar, backtest.seed) == (Decimal(25_000), "nyse", 7)
    assert (backtest.multiplier, backtest.shorting, backtest.history_size) == (4, True, 64)
    assert backtest.exchange.limit_fill == "through"
    assert not backtest.exchange.pdt
    assert backtest.exchange.stock_fees != ExchangeConfig().stock_fees  # "sec", not zero


def test_an_option_given_overrides_its_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    config = backtest_config(settings, cash=Decimal(1_000), margin=1, seed=3)

    assert (config.cash, config.multiplier, config.shorting, config.seed) == (
        Decimal(1_000),
        1,
        False,
        3,
    )
    assert node_config(settings, status_every_s=0.5).status_every_s == 0.5


def test_with_no_file_the_configs_are_the_components_own_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})

    # research charges Alpaca's crypto fee tiers unless told otherwise (a default that does
    # not flatter); the simulated exchange itself charges nothing it is not given
    assert backtest_config(settings) == BacktestConfig(
        exchange=ExchangeConfig(crypto_fees=CryptoTierFee())
    )
    assert node_config(settings) == NodeConfig()
    assert OmsConfig.from_settings(settings.oms) == OmsConfig()
    assert ExchangeConfig.from_settings(settings.exchange) == ExchangeConfig()
    sandbox = SandboxConfig(key_id="k", secret_key="s")
    defaults = settings.sandbox
    assert (sandbox.host, sandbox.port, sandbox.symbols) == (
        defaults.host,
        defaults.port,
        defaults.symbols,
    )
    assert (sandbox.seed, sandbox.cash, sandbox.speed) == (
        defaults.seed,
        defaults.cash,
        float(defaults.speed),
    )


def test_an_unknown_or_bad_key_is_one_clear_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"node\.tick"):
        _settings(tmp_path, "[node]\ntick = 1\n")
    with pytest.raises(ConfigError, match=r"exchange\.multiplier"):
        _settings(tmp_path, "[exchange]\nmultiplier = 3\n")


def test_a_bad_fee_text_in_the_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[backtest]\nfees = "lots"\n')

    with pytest.raises(ValueError, match="lots"):
        backtest_config(settings)
