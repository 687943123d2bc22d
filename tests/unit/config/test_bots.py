"""``[[bots]]`` tables and ``node.broker``: good tables parse; each bad key is named in one line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.config import ConfigError, account_of, broker_of, describe_settings, load_settings

_GOOD = """
[node]
broker = "alpaca-paper"

[[bots]]
name = "trend"
strategy = "sma_cross"
symbols = ["AAPL", "MSFT"]
params = { fast = 5, slow = 20, qty = 10 }
risk = { max_order_qty = 50 }

[[bots]]
name = "revert"
strategy = "mean_reversion"
symbols = ["SPY"]
timeframe = "5min"
enabled = false
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "stockyard.toml"
    path.write_text(text)
    return load_settings(config_file=path, env={"STOCKYARD_HOME": str(tmp_path)})


def test_bot_tables_parse_into_frozen_typed_settings(tmp_path: Path) -> None:
    path = tmp_path / "stockyard.toml"
    path.write_text(_GOOD)
    settings = load_settings(config_file=path, env={"STOCKYARD_HOME": str(tmp_path)})
    trend, revert = settings.bots
    assert trend.name == "trend"
    assert trend.strategy == "sma_cross"
    assert trend.symbols == ("AAPL", "MSFT")
    assert trend.params == {"fast": 5, "slow": 20, "qty": 10}
    assert trend.risk.max_order_qty == Decimal(50)
    assert trend.timeframe == "1Min"
    assert trend.enabled
    assert revert.timeframe == "5Min"  # spelled as Alpaca does
    assert not revert.enabled
    assert broker_of(settings) == "alpaca-paper"
    assert account_of(broker_of(settings)) == "paper"
    with pytest.raises(ValueError, match="frozen"):
        trend.name = "other"  # type: ignore[misc]  # frozen: the assignment must fail


def test_config_show_lists_each_bot_key(tmp_path: Path) -> None:
    path = tmp_path / "stockyard.toml"
    path.write_text(_GOOD)
    rows = {r.key: r.value for r in describe_settings(config_file=path, env={})}
    assert rows["bots[0].strategy"] == "sma_cross"
    assert rows["bots[1].enabled"] == "False"


def test_without_bots_the_broker_follows_the_base_url(tmp_path: Path) -> None:
    sandbox = load_settings(env={"STOCKYARD_HOME": str(tmp_path)})
    assert sandbox.bots == ()
    assert broker_of(sandbox) == "sandbox"
    paper = load_settings(env={"APCA_API_BASE_URL": "https://paper-api.alpaca.markets"})
    assert broker_of(paper) == "alpaca-paper"
    live = load_settings(env={"APCA_API_BASE_URL": "https://api.alpaca.markets"})
    assert broker_of(live) == "alpaca-live"
    assert not live.node.live_trading  # the gate stays shut unless opened


_BOT = 'name = "a"\nstrategy = "sma_cross"\nsymbols = ["AAPL"]\n'


@pytest.mark.parametrize(
    ("table", "line"),
    [
        (
            _BOT + "stratgy = 'x'\n",
            "bots[0].stratgy: unknown key 'stratgy' (did you mean 'strategy'?)",
        ),
        (
            _BOT + "risk = { max_order_qyt = 5 }\n",
            "bots[0].risk.max_order_qyt: unknown key 'max_order_qyt' "
            "(did you mean 'max_order_qty'?)",
        ),
        (_BOT + "risk = { max_order_qty = -1 }\n", "bots[0].risk.max_order_qty: "),
        ('name = "a"\nstrategy = "sma_cross"\n', "bots[0].symbols: missing"),
        ('name = "a"\nsymbols = ["AAPL"]\n', "bots[0].strategy: missing"),
        (_BOT + 'timeframe = "7Fortnights"\n', "bots[0].timeframe: unknown timeframe"),
        (_BOT + "enabled = 'maybe'\n", "bots[0].enabled: "),
        (_BOT + "params = { fast = [1] }\n", "bots[0].params.fast: a parameter is a number"),
        ('name = "a b"\nstrategy = "x"\nsymbols = ["AAPL"]\n', "bots[0].name: bot name 'a b'"),
        (
            'name = "a"\nstrategy = "sma_cross"\nsymbols = ["AA PL"]\n',
            "bots[0].symbols: bad symbol 'AA PL'",
        ),
        ('name = "a"\nstrategy = "sma_cross"\nsymbols = []\n', "bots[0].symbols: "),
    ],
)
def test_a_bad_bot_table_is_one_line_naming_the_key(tmp_path: Path, table: str, line: str) -> None:
    first = _BOT.replace('"a"', '"first"')
    text = f"[[bots]]\n{first}\n[[bots]]\n{table}"
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(line.replace("bots[0]", "bots[1]")), message
    assert caught.value.key is not None
    assert caught.value.key.startswith("bots")


def test_two_bots_of_one_name_are_refused_naming_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bots\[1\]\.name: 'a' is already the name of bots\[0\]"):
        _load(tmp_path, f"[[bots]]\n{_BOT}\n[[bots]]\n{_BOT}")


def test_an_unknown_broker_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"node\.broker"):
        _load(tmp_path, '[node]\nbroker = "alpaca-papr"\n')
