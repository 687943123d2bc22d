"""What ``up``, ``node`` and ``run`` trade: the broker (``--broker`` or ``node.broker``,
live money behind its gate) and the bots (``[[bots]]``, else the sandbox's demo bots).

Every refusal is one line naming the key or the option (exit code 2).
"""

from __future__ import annotations

import difflib

import typer

from stockyard.cli._context import AppState, fail
from stockyard.config import BROKERS, BrokerKind, ConfigError, Settings, broker_of
from stockyard.engine import bots_from_settings, live_timeframe_check
from stockyard.strategy import Strategy, create_strategy

__all__ = [
    "BROKER_OPTION",
    "LIVE_OPTION",
    "builtin_bots",
    "check_broker",
    "check_trading",
    "choose_bots",
    "parse_broker",
    "set_broker",
]

BROKER_OPTION = typer.Option(
    None,
    "--broker",
    help="sandbox, alpaca-paper or alpaca-live (default: node.broker, else from alpaca.base_url).",
)
LIVE_OPTION = typer.Option(
    False, "--i-understand-live-trading", help="Required with --broker alpaca-live."
)


def parse_broker(text: str) -> BrokerKind:
    """``text`` as a broker kind, or exit naming the choices."""
    for kind in BROKERS:
        if text == kind:
            return kind
    close = difflib.get_close_matches(text, BROKERS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    fail(f"unknown --broker {text!r}{hint} (use {', '.join(BROKERS)})")


def set_broker(state: AppState, broker: str | None, *, live_ok: bool) -> None:
    """Put ``--broker`` and ``--i-understand-live-trading`` into the settings' overrides
    (before the settings are read), so that every process ``up`` starts sees them."""
    if broker is not None:
        state.overrides["node.broker"] = parse_broker(broker)
    if live_ok:
        state.overrides["node.live_trading"] = True


def check_broker(settings: Settings) -> BrokerKind:
    """The broker to trade, once its gate and keys are checked."""
    broker = broker_of(settings)
    if broker == "alpaca-live" and not settings.node.live_trading:
        fail(
            "--broker alpaca-live trades real money: add --i-understand-live-trading "
            "(or set node.live_trading = true)"
        )
    alpaca = settings.alpaca
    key = alpaca.key_id.get_secret_value() if alpaca.key_id else ""
    secret = alpaca.secret_key.get_secret_value() if alpaca.secret_key else ""
    if broker != "sandbox" and not (key and secret):
        missing = "APCA_API_SECRET_KEY" if key else "APCA_API_KEY_ID"
        fail(
            f"--broker {broker} needs your Alpaca keys: {missing} is not set "
            "(set APCA_API_KEY_ID and APCA_API_SECRET_KEY, or alpaca.key_id and "
            "alpaca.secret_key)"
        )
    return broker


def check_trading(settings: Settings) -> BrokerKind:
    """Before anything starts: the broker (its gate, its keys) and every ``[[bots]]``
    table; exits with one line naming what is wrong."""
    broker = check_broker(settings)
    choose_bots(settings, broker)
    return broker


def builtin_bots(symbols: tuple[str, ...]) -> list[Strategy]:
    """The demo bots ``up`` runs on the sandbox without ``[[bots]]``: ``sma_cross`` with
    short windows (it trades within minutes at the sandbox's speed 60) on up to two stocks,
    ``mean_reversion`` on a third."""
    stocks = [s for s in symbols if "/" not in s]
    bots: list[Strategy] = []
    if stocks:
        bots.append(
            create_strategy(
                "sma_cross", symbols=stocks[:2], params={"fast": 3, "slow": 8, "qty": 10}
            )
        )
    if len(stocks) > 2:
        bots.append(
            create_strategy(
                "mean_reversion",
                symbols=stocks[2:3],
                params={"window": 15, "entry_z": 1.5, "qty": 10},
            )
        )
    return bots


def choose_bots(
    settings: Settings, broker: BrokerKind, *, replayed: tuple[str, ...] | None = None
) -> list[Strategy]:
    """The enabled ``[[bots]]``; without any table, the demo bots on the sandbox (whose
    replayed symbols are ``replayed``). Exits with one line naming a bad key."""
    if not settings.bots:
        if broker != "sandbox":
            fail(
                f"--broker {broker} runs the bots of [[bots]] in stockyard.toml, and there "
                "are none (the demo bots trade only the sandbox); see docs/configuration.md"
            )
        return builtin_bots(replayed or ())
    try:
        live_timeframe_check(settings)
        bots = bots_from_settings(settings)
    except ConfigError as exc:
        fail(str(exc))
    if not bots:
        fail("every [[bots]] table has enabled = false: there is no bot to run")
    if replayed is not None:
        _check_replayed(settings, replayed)
    return bots


def _check_replayed(settings: Settings, replayed: tuple[str, ...]) -> None:
    known = set(replayed)
    for index, bot in enumerate(settings.bots):
        missing = [s for s in bot.symbols if s not in known]
        if bot.enabled and missing:
            fail(
                f"bots[{index}].symbols: the sandbox replays {', '.join(replayed)}, not "
                f"{', '.join(missing)} (load their minute bars with `stockyard data fetch`, "
                "or trade a replayed symbol)"
            )
