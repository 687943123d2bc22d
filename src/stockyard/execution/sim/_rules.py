"""Which orders the exchange accepts: Alpaca's rules and Alpaca's wording for each refusal.

Pure checks on the request, the asset and the market phase; nothing here changes state.
"""

from __future__ import annotations

from decimal import Decimal

from stockyard.core import OrderClass, OrderRequest, OrderSide, OrderType, TimeInForce
from stockyard.data import Phase
from stockyard.execution.sim._config import ExchangeConfig
from stockyard.execution.sim._errors import InvalidRequestError
from stockyard.execution.sim._values import Asset

__all__ = ["check_request", "take_profit_price"]

_CENT = Decimal("0.01")
_CRYPTO_TIFS = frozenset({TimeInForce.GTC, TimeInForce.IOC})
_CRYPTO_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT})
_AUCTION_TIFS = frozenset({TimeInForce.OPG, TimeInForce.CLS})
_DAY_GTC = frozenset({TimeInForce.DAY, TimeInForce.GTC})


def take_profit_price(request: OrderRequest) -> Decimal | None:
    """The take-profit limit: given outright, or an OCO's own limit price."""
    if request.take_profit_limit_price is not None:
        return request.take_profit_limit_price
    return request.limit_price if request.order_class is OrderClass.OCO else None


def _sub_penny(price: Decimal) -> bool:
    exponent = price.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < (-2 if price >= 1 else -4)


def check_request(
    request: OrderRequest,
    *,
    asset: Asset,
    config: ExchangeConfig,
    phase: Phase,
    always_open: bool,
    last: Decimal | None,
) -> None:
    """Raise ``InvalidRequestError`` (422) with Alpaca's message when ``request`` breaks a rule."""
    kind, tif, klass = request.type, request.time_in_force, request.order_class
    if asset.is_crypto:
        if tif not in _CRYPTO_TIFS:
            raise InvalidRequestError("invalid crypto time_in_force")
        if kind not in _CRYPTO_TYPES:
            raise InvalidRequestError("invalid order type for crypto order")
        if klass is not OrderClass.SIMPLE:
            raise InvalidRequestError("invalid order class for crypto order")
        minimum = asset.min_order_size
        if request.qty is not None and minimum is not None and request.qty < minimum:
            raise InvalidRequestError(f"qty must be >= {asset.min_order_size}")
    else:
        _check_stock(request, asset=asset, config=config)
    if kind is OrderType.TRAILING_STOP and tif not in _DAY_GTC:
        raise InvalidRequestError("trailing stop orders must be DAY or GTC")
    if tif in _AUCTION_TIFS:
        if kind not in (OrderType.MARKET, OrderType.LIMIT):
            raise InvalidRequestError(f"{tif.value} orders must be market or limit orders")
        if always_open:
            raise InvalidRequestError(f"{tif.value} orders need a market with an open and a close")
        if tif is TimeInForce.OPG and phase is Phase.OPEN:
            raise InvalidRequestError("opg orders must be submitted before the market opens")
    _check_class(request, last=last)


def _check_stock(request: OrderRequest, *, asset: Asset, config: ExchangeConfig) -> None:
    kind, tif = request.type, request.time_in_force
    if request.extended_hours:
        if not config.extended_hours:
            raise InvalidRequestError("extended hours trading is not enabled")
        if kind is not OrderType.LIMIT or tif is not TimeInForce.DAY:
            raise InvalidRequestError("extended hours order must be DAY limit orders")
        if request.order_class is not OrderClass.SIMPLE:
            raise InvalidRequestError("extended hours order must be simple orders")
    fractional = request.notional is not None or (
        request.qty is not None and request.qty != request.qty.to_integral()
    )
    if fractional:
        if not asset.fractionable:
            raise InvalidRequestError(f'asset "{asset.symbol}" is not fractionable')
        if kind is not OrderType.MARKET:
            raise InvalidRequestError("fractional orders must be market orders")
        if tif is not TimeInForce.DAY:
            raise InvalidRequestError("fractional orders must be DAY orders")
        if request.order_class is not OrderClass.SIMPLE:
            raise InvalidRequestError("fractional orders must be simple orders")
        if request.notional is not None and request.notional < 1:
            raise InvalidRequestError("cost basis must be >= minimal amount of order 1")
    for price in (
        request.limit_price,
        request.stop_price,
        request.trail_price,
        request.take_profit_limit_price,
        request.stop_loss_stop_price,
        request.stop_loss_limit_price,
    ):
        if price is not None and _sub_penny(price):
            raise InvalidRequestError(
                "sub-penny increment does not fulfill minimum pricing criteria"
            )


def _check_class(request: OrderRequest, *, last: Decimal | None) -> None:  # noqa: PLR0912 - one rule a line
    klass = request.order_class
    tp, sl = take_profit_price(request), request.stop_loss_stop_price
    if klass is OrderClass.SIMPLE:
        if tp is not None or sl is not None or request.stop_loss_limit_price is not None:
            raise InvalidRequestError("take_profit and stop_loss are only for bracket, oco and oto")
        return
    if request.notional is not None:
        raise InvalidRequestError(f"{klass.value} orders must have a qty")
    if request.time_in_force not in _DAY_GTC:
        raise InvalidRequestError(f"{klass.value} orders must be DAY or GTC")
    if request.type is OrderType.TRAILING_STOP:
        raise InvalidRequestError(f"{klass.value} orders do not support trailing stops")
    if sl is None and request.stop_loss_limit_price is not None:
        raise InvalidRequestError("stop_loss.stop_price is required")
    if klass is OrderClass.OCO:
        if request.type is not OrderType.LIMIT:
            raise InvalidRequestError("oco orders must be limit orders")
        if tp is None or sl is None:
            raise InvalidRequestError("oco orders require take_profit and stop_loss")
        if (request.side is OrderSide.SELL) != (tp > sl):
            raise InvalidRequestError("take_profit.limit_price must be beyond stop_loss.stop_price")
        return
    if klass is OrderClass.OTO and (tp is None) == (sl is None):
        raise InvalidRequestError("oto orders require exactly one of take_profit or stop_loss")
    base = request.limit_price or request.stop_price or last
    if base is None:
        return
    if request.side is OrderSide.BUY:
        if tp is not None and tp < base + _CENT:
            raise InvalidRequestError("take_profit.limit_price must be >= base_price + 0.01")
        if sl is not None and sl > base - _CENT:
            raise InvalidRequestError("stop_loss.stop_price must be <= base_price - 0.01")
    else:
        if tp is not None and tp > base - _CENT:
            raise InvalidRequestError("take_profit.limit_price must be <= base_price - 0.01")
        if sl is not None and sl < base + _CENT:
            raise InvalidRequestError("stop_loss.stop_price must be >= base_price + 0.01")
