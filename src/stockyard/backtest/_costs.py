"""The trading costs a backtest assumed, in words: printed with every result so a flattering
default (no slippage, no fees) is never hidden."""

from __future__ import annotations

from stockyard.backtest._engine import BacktestConfig
from stockyard.execution import (
    BpsSlippage,
    CompositeFee,
    CryptoTierFee,
    FeeModel,
    NoSlippage,
    PerShareFee,
    PerTradeFee,
    RegulatoryFee,
    SlippageModel,
    VolumeSlippage,
    ZeroFee,
)

__all__ = ["cost_meta", "describe_fees", "describe_slippage"]


def describe_slippage(model: SlippageModel) -> str:
    """``none (fills at the bar's price)``, ``5 bps against every taker fill``, ..."""
    if isinstance(model, NoSlippage):
        return "none (fills at the bar's price)"
    if isinstance(model, BpsSlippage):
        return f"{model.bps} bps against every taker fill"
    if isinstance(model, VolumeSlippage):
        return (
            f"volume impact {model.impact_bps} bps × order/bar volume, at most {model.max_bps} bps"
        )
    return type(model).__name__


def describe_fees(model: FeeModel) -> str:  # noqa: PLR0911 -- one answer per fee model
    """``none``, ``Alpaca crypto tiers (maker 0.15 %–0 %, taker 0.25 %–0.10 %)``, ..."""
    if isinstance(model, ZeroFee):
        return "none"
    if isinstance(model, CryptoTierFee):
        makers = [t[1] for t in model.tiers]
        takers = [t[2] for t in model.tiers]
        return (
            f"Alpaca crypto tiers by 30-day volume (maker {max(makers) / 100}–"
            f"{min(makers) / 100} %, taker {max(takers) / 100}–{min(takers) / 100} %)"
        )
    if isinstance(model, RegulatoryFee):
        return "SEC fee and FINRA TAF on sells"
    if isinstance(model, PerShareFee):
        text = f"${model.per_share} a share"
        if model.minimum:
            text += f", at least ${model.minimum}"
        if model.maximum is not None:
            text += f", at most ${model.maximum}"
        return text
    if isinstance(model, PerTradeFee):
        return f"${model.amount} a fill"
    if isinstance(model, CompositeFee):
        return " + ".join(describe_fees(m) for m in model.models)
    return type(model).__name__


def cost_meta(config: BacktestConfig) -> dict[str, str]:
    """The slippage model and fee models a run used, for its ``meta``."""
    exchange = config.exchange
    return {
        "slippage": describe_slippage(exchange.slippage),
        "stock_fees": describe_fees(exchange.stock_fees),
        "crypto_fees": describe_fees(exchange.crypto_fees),
    }
