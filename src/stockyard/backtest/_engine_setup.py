"""Turning a user's words into a backtest: ``k=v`` parameters, fee and slippage specs, data.

Every error is a ``ValueError`` (or the data layer's ``DataImportError``) with one line a
person can act on; the CLI prints it and exits 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from stockyard.backtest._engine_data import BarData, load_file, load_source
from stockyard.config import ConfigError, Settings
from stockyard.core import AssetClass, Timeframe, to_ns
from stockyard.data import (
    HistoricalSource,
    ParquetStore,
    SourceChain,
    SyntheticSource,
    make_chain,
)
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

__all__ = ["SOURCES", "load_bars", "parse_fees", "parse_params", "parse_slippage"]

_FEES = ("zero", "sec", "per-share", "per-trade", "crypto")


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``["fast=5", "slow=20"]`` → ``{"fast": "5", "slow": "20"}`` (the strategy converts)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--param takes name=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def _amount(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a number >= 0, got {text!r}")
    return value


def parse_fees(spec: str) -> tuple[FeeModel, FeeModel]:
    """Stock and crypto fee models from ``zero`` (no stock fees; the default), ``sec`` (SEC
    + FINRA TAF on sells), ``per-share:0.005[:min[:max]]``, ``per-trade:1.0``, joined with
    ``+`` (``per-share:0.005+sec``). Crypto pays Alpaca's tiered maker/taker fees
    (``ALPACA_CRYPTO_TIERS``) unless the spec says ``crypto:zero``; ``crypto`` names the
    default."""
    stock: list[FeeModel] = []
    crypto: FeeModel = CryptoTierFee()
    for part in (p.strip() for p in spec.split("+")):
        name, _, rest = part.partition(":")
        args = [a for a in rest.split(":") if a] if rest else []
        if name == "zero" and not args:
            continue
        if name == "sec" and not args:
            stock.append(RegulatoryFee())
        elif name == "per-share" and 1 <= len(args) <= 3:
            amounts = [_amount(a, "per-share fee") for a in args]
            stock.append(
                PerShareFee(
                    per_share=amounts[0],
                    minimum=amounts[1] if len(amounts) > 1 else Decimal(0),
                    maximum=amounts[2] if len(amounts) > 2 else None,
                )
            )
        elif name == "per-trade" and len(args) == 1:
            stock.append(PerTradeFee(amount=_amount(args[0], "per-trade fee")))
        elif name == "crypto" and not args:
            crypto = CryptoTierFee()
        elif name == "crypto" and args == ["zero"]:
            crypto = ZeroFee()
        else:
            close = difflib.get_close_matches(name, _FEES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close and close[0] != name else ""
            raise ValueError(
                f"bad --fees part {part!r}{hint} (use zero, sec, per-share:RATE[:MIN[:MAX]], "
                "per-trade:AMOUNT, crypto or crypto:zero; join with +)"
            )
    if not stock:
        return ZeroFee(), crypto
    return (stock[0] if len(stock) == 1 else CompositeFee(tuple(stock))), crypto


def parse_slippage(spec: str) -> SlippageModel:
    """``none`` (default), ``bps:5`` or ``volume:IMPACT_BPS:MAX_BPS``."""
    name, _, rest = spec.strip().partition(":")
    args = [a for a in rest.split(":") if a] if rest else []
    if name == "none" and not args:
        return NoSlippage()
    if name == "bps" and len(args) == 1:
        return BpsSlippage(_amount(args[0], "slippage bps"))
    if name == "volume" and len(args) == 2:
        return VolumeSlippage(
            impact_bps=_amount(args[0], "impact bps"), max_bps=_amount(args[1], "max bps")
        )
    raise ValueError(f"bad --slippage {spec!r} (use none, bps:N or volume:IMPACT_BPS:MAX_BPS)")


SOURCES = ("auto", "local", "s3", "alpaca", "synthetic")


def load_bars(
    *,
    data: Path | None,
    symbols: Sequence[str],
    timeframe: Timeframe | None,
    start: datetime | None,
    end: datetime | None,
    store_root: Path,
    source: str = "auto",
    seed: int = 0,
    settings: Settings | None = None,
    adjustment: str = "all",
) -> BarData:
    """A user's file (``data``; the symbol is the first of ``symbols`` or the file's stem),
    else bars of ``symbols`` from ``source``: ``auto`` walks the chain of
    ``settings.data.sources`` (local store, S3, Alpaca; remote answers are kept in the
    local store), ``local``, ``s3`` and ``alpaca`` ask that one, ``synthetic`` makes seeded
    bars. Stock bars from Alpaca are adjusted as ``adjustment`` says (``all``: splits and
    dividends; ``raw``); stored bars of another adjustment are refused, never mixed.

    A symbol no source has fails (``ValueError``, or ``DataUnavailableError`` when a source
    could not be reached), naming the symbol. Each symbol's provenance is in the answer."""
    if data is not None:
        return _from_file(data, symbols, timeframe, start, end)
    if not symbols:
        raise ValueError("give --symbols (and --start, --end), or --data FILE")
    if start is None or end is None:
        raise ValueError("--start and --end are needed unless --data is given")
    if end <= start:
        raise ValueError("--end must be after --start")
    if adjustment not in ("raw", "split", "dividend", "all"):
        raise ValueError(f"--adjustment must be raw, split, dividend or all, got {adjustment!r}")
    frame = timeframe or Timeframe.MINUTE
    chosen = _source(source, store_root, settings, seed, adjustment)
    bars = load_source(chosen, symbols, timeframe=frame, start=start, end=end)
    missing = sorted(set(symbols) - set(bars.names))
    if missing:
        raise ValueError(
            f"no {frame} bars for {', '.join(missing)} between {start:%Y-%m-%d} and "
            f"{end:%Y-%m-%d} in {_where(chosen)}"
        )
    _check_adjustment(bars, adjustment)
    return bars


def _from_file(
    data: Path,
    symbols: Sequence[str],
    timeframe: Timeframe | None,
    start: datetime | None,
    end: datetime | None,
) -> BarData:
    symbol = symbols[0] if symbols else data.stem.upper()
    bars = load_file(data, symbol=symbol, timeframe=timeframe)
    if start is not None or end is not None:
        lo = 0 if start is None else to_ns(start)
        hi = bars.end_ns if end is None else to_ns(end)
        bars = bars.between(lo, hi)
    if not bars.symbols:
        raise ValueError(f"{data.name} has no bars between --start and --end")
    return bars


def _source(
    name: str, root: Path, settings: Settings | None, seed: int, adjustment: str
) -> HistoricalSource:
    if name == "synthetic":
        return SyntheticSource(seed=seed)
    if name not in SOURCES:
        raise ValueError(f"--source must be one of {', '.join(SOURCES)}, got {name!r}")
    if name == "local" or settings is None:
        if name not in ("auto", "local"):
            raise ValueError(f"--source {name} needs the settings (S3 bucket, Alpaca keys)")
        return SourceChain([ParquetStore(root)], write_through=())
    names: tuple[str, ...] | None = None if name == "auto" else (name,)
    if names is None and "synthetic" in settings.data.sources:
        names = tuple(n for n in settings.data.sources if n != "synthetic")  # only when asked
    try:
        return make_chain(settings, names=names, adjustment=adjustment)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def _where(source: HistoricalSource) -> str:
    if isinstance(source, SourceChain):
        names = [s.name for s in source.sources]
        return "the " + (" or ".join(names)) + (" source" if len(names) == 1 else " sources")
    return f"the {source.name} source"


def _check_adjustment(bars: BarData, adjustment: str) -> None:
    """Stored stock bars of another known adjustment than the one asked for are refused."""
    for symbol, found in bars.provenance.items():
        held = found.origin.adjustment
        if AssetClass.of_symbol(symbol) is not AssetClass.STOCK:
            continue
        if held in ("raw", "split", "dividend", "all") and held != adjustment:
            raise ValueError(
                f"the {found.source} bars of {symbol} are {found.describe()}, not what "
                f"--adjustment {adjustment} asks for; use --adjustment {held}, or remove "
                "them and fetch again"
            )
