"""``bots_from_settings``: each ``[[bots]]`` table made into its strategy; a bad strategy or
parameter is one line naming its key; per-bot risk limits reach the risk engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.config import ConfigError, Settings, load_settings
from stockyard.core import OrderRequest, OrderSide, OrderType
from stockyard.engine import apply_bot_risk, bots_from_settings, live_timeframe_check
from stockyard.portfolio import Portfolio
from stockyard.risk import LastPrice, RiskEngine
from stockyard.strategy.bots import MeanReversion, SmaCross


def _settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "stockyard.toml"
    path.write_text(text)
    return load_settings(config_file=path, env={"STOCKYARD_HOME": str(tmp_path)})


_OK = '[[bots]]\nname = "ok"\nstrategy = "sma_cross"\nsymbols = ["AAPL"]\n'


def test_each_enabled_table_becomes_its_strategy(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        _OK + '[[bots]]\nname = "mr"\nstrategy = "mean_reversion"\nsymbols = "SPY,QQQ"\n'
        'params = { window = 12, qty = 3 }\n'
        '[[bots]]\nname = "off"\nstrategy = "sma_cross"\nsymbols = ["MSFT"]\nenabled = false\n',
    )  # fmt: skip
    made = bots_from_settings(settings)
    assert [b.strategy_id for b in made] == ["ok", "mr"]
    assert isinstance(made[0], SmaCross)
    assert isinstance(made[1], MeanReversion)
    assert made[1].symbols == ("SPY", "QQQ")
    assert made[1].parameters["window"] == 12
    assert made[1].warmup_bars == 12


@pytest.mark.parametrize(
    ("table", "line"),
    [
        (
            'strategy = "sma_crss"\nsymbols = ["AAPL"]\n',
            "bots[1].strategy: unknown strategy 'sma_crss' (did you mean 'sma_cross'?)",
        ),
        (
            'strategy = "sma_cross"\nsymbols = ["AAPL"]\nparams = { fsat = 2 }\n',
            "bots[1].params.fsat: sma_cross has no parameter 'fsat' (did you mean 'fast'?)",
        ),
        (
            'strategy = "sma_cross"\nsymbols = ["AAPL"]\nparams = { fast = 0 }\n',
            "bots[1].params: parameter 'fast' of sma_cross must be >= 1",
        ),
        (
            'strategy = "sma_cross"\nsymbols = ["AAPL"]\nparams = { fast = 9, slow = 3 }\n',
            "bots[1].params: sma_cross needs fast < slow",
        ),
        (
            'strategy = "no/such/bot.py"\nsymbols = ["AAPL"]\n',
            "bots[1].strategy: strategy file",
        ),
        ('strategy = "pairs"\nsymbols = ["AAPL"]\n', "bots[1].params: pairs needs exactly two"),
    ],
)
def test_a_bad_strategy_or_parameter_is_one_line_naming_the_key(
    tmp_path: Path, table: str, line: str
) -> None:
    settings = _settings(tmp_path, f'{_OK}[[bots]]\nname = "bad"\nenabled = false\n{table}')
    with pytest.raises(ConfigError) as caught:
        bots_from_settings(settings)  # a disabled table is checked all the same
    assert str(caught.value).startswith(line), str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_live_node_refuses_a_timeframe_it_cannot_feed(tmp_path: Path) -> None:
    settings = _settings(tmp_path, _OK + 'timeframe = "5Min"\n')
    with pytest.raises(ConfigError, match=r"bots\[0\]\.timeframe: the live node trades 1Min"):
        live_timeframe_check(settings)


def test_a_bots_risk_limits_apply_to_its_orders_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, _OK + "risk = { max_order_qty = 5 }\n")
    now = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    risk = RiskEngine(settings.risk, now=lambda: now)
    apply_bot_risk(risk, settings)
    book = Portfolio(cash=Decimal(100_000))
    prices = {"AAPL": LastPrice(Decimal(100), now)}
    order = OrderRequest(symbol="AAPL", side=OrderSide.BUY, qty=Decimal(6), type=OrderType.MARKET)

    def check(strategy_id: str) -> object:
        return risk.check(order, portfolio=book, prices=prices, strategy_id=strategy_id)

    refused = check("ok")
    assert refused is not None
    assert "max_order_qty 5" in str(refused.reason)
    assert check("other") is None  # the account has no such limit
