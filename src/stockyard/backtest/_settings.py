"""A backtest's config from the settings: ``[backtest]``, ``[exchange]``, ``[risk]`` and
``[strategy]`` of ``stockyard.toml`` (each default is written once, in those sections)."""

from __future__ import annotations

from decimal import Decimal

from stockyard.backtest._engine import BacktestConfig
from stockyard.backtest._engine_setup import parse_fees, parse_slippage
from stockyard.config import Settings
from stockyard.execution import ExchangeConfig

__all__ = ["backtest_config"]


def backtest_config(
    settings: Settings,
    *,
    cash: Decimal | None = None,
    fees: str | None = None,
    slippage: str | None = None,
    calendar: str | None = None,
    margin: int | None = None,
    seed: int | None = None,
    warmup: int | None = None,
) -> BacktestConfig:
    """The config ``stockyard backtest`` runs with: each argument given (a command-line
    option) overrides its key. ``margin`` 1 is a cash account (no shorting). ValueError
    names a bad fee or slippage text, calendar or margin."""
    section = settings.backtest
    stock_fees, crypto_fees = parse_fees(section.fees if fees is None else fees)
    multiplier = settings.exchange.multiplier if margin is None else margin
    shorting = multiplier > 1 and settings.exchange.shorting_enabled
    exchange = ExchangeConfig.from_settings(
        settings.exchange,
        slippage=parse_slippage(section.slippage if slippage is None else slippage),
        stock_fees=stock_fees,
        crypto_fees=crypto_fees,
    )
    return BacktestConfig(
        cash=section.cash if cash is None else cash,
        exchange=exchange,
        calendar=section.calendar if calendar is None else calendar,  # type: ignore[arg-type]  # checked by BacktestConfig
        multiplier=multiplier,
        shorting=shorting,
        risk=settings.risk,
        history_size=settings.strategy.history_size,
        seed=section.seed if seed is None else seed,
        warmup=section.warmup if warmup is None else warmup,
    )
