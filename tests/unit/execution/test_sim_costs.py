"""Fee and slippage models, alone and charged by the exchange; every value by hand."""

from __future__ import annotations

from decimal import Decimal

from sim_desk import LIMIT, make_desk

from stockyard.core import OrderRequest, OrderSide, OrderType, TimeInForce
from stockyard.execution import (
    BpsSlippage,
    CompositeFee,
    CryptoTierFee,
    ExchangeConfig,
    PerShareFee,
    PerTradeFee,
    RegulatoryFee,
    VolumeSlippage,
)

ZERO = Decimal(0)


def _fee(model: object, side: OrderSide, qty: str, price: str, *, maker: bool = False) -> Decimal:
    return model(  # type: ignore[operator, no-any-return]
        side=side, qty=Decimal(qty), price=Decimal(price), maker=maker, volume_30d=ZERO
    )


def test_regulatory_fees_charge_sells_only_each_rounded_up_to_the_cent() -> None:
    fee = RegulatoryFee()
    # SEC 5000 x 0.0000278 = 0.139 -> 0.14; TAF 100 x 0.000166 = 0.0166 -> 0.02
    assert _fee(fee, OrderSide.SELL, "100", "50") == Decimal("0.16")
    assert _fee(fee, OrderSide.BUY, "100", "50") == ZERO


def test_the_finra_taf_is_capped_per_trade() -> None:
    # SEC 60000 x 0.0000278 = 1.668 -> 1.67; TAF 9.96 capped at 8.30
    assert _fee(RegulatoryFee(), OrderSide.SELL, "60000", "1") == Decimal("9.97")


def test_per_share_and_per_trade_fees_add_up() -> None:
    per_share = PerShareFee(per_share=Decimal("0.005"), minimum=Decimal("1"))
    assert _fee(per_share, OrderSide.BUY, "100", "10") == Decimal("1")  # 0.50 -> minimum 1
    assert _fee(per_share, OrderSide.BUY, "1000", "10") == Decimal("5.00")
    both = CompositeFee((per_share, PerTradeFee(amount=Decimal("0.25"))))
    assert _fee(both, OrderSide.BUY, "1000", "10") == Decimal("5.25")


def test_crypto_tiers_charge_makers_less_than_takers_and_big_traders_less() -> None:
    tiers = CryptoTierFee()
    assert _fee(tiers, OrderSide.BUY, "0.1", "60000") == Decimal("15.00")  # 25 bps of 6000
    assert _fee(tiers, OrderSide.BUY, "0.1", "60000", maker=True) == Decimal("9.00")  # 15 bps
    big = tiers(
        side=OrderSide.BUY,
        qty=Decimal("0.1"),
        price=Decimal("60000"),
        maker=False,
        volume_30d=Decimal(100_000),
    )
    assert big == Decimal("13.20")  # 22 bps


def test_the_exchange_charges_the_fee_on_the_fill_and_the_cash() -> None:
    desk = make_desk(config=ExchangeConfig(stock_fees=RegulatoryFee()))
    desk.bar(50, 50, 50, 50, advance=False)
    desk.buy("100")
    desk.bar(50, 50, 50, 50)
    desk.sell("100")
    desk.bar(50, 50, 50, 50)
    fills = desk.exchange.fills("acct")
    assert [f.fee for f in fills] == [ZERO, Decimal("0.16")]
    assert desk.exchange.account("acct").cash == Decimal("100000") - Decimal("0.16")


def test_a_resting_crypto_limit_pays_the_maker_rate() -> None:
    desk = make_desk(config=ExchangeConfig(crypto_fees=CryptoTierFee()))
    desk.bar(60_000, 60_000, 60_000, 60_000, symbol="BTC/USD", advance=False)
    desk.exchange.submit(
        "acct",
        OrderRequest(
            symbol="BTC/USD",
            side=OrderSide.BUY,
            qty=Decimal("0.1"),
            type=OrderType.LIMIT,
            limit_price=Decimal("59000"),
            time_in_force=TimeInForce.GTC,
        ),
    )
    desk.bar(60_000, 60_100, 59_900, 60_000, symbol="BTC/USD")  # rests: now a maker
    desk.bar(59_500, 59_600, 58_800, 59_000, symbol="BTC/USD")
    (fill,) = desk.exchange.fills("acct")
    assert (fill.price, fill.fee) == (Decimal("59000"), Decimal("8.85"))  # 15 bps of 5900


def test_bps_slippage_moves_taker_fills_against_the_trader_onto_the_tick() -> None:
    desk = make_desk(config=ExchangeConfig(slippage=BpsSlippage(Decimal("10"))))
    desk.bar(100, 100, 100, 100, advance=False)
    buy = desk.buy("10")
    sell = desk.sell("5")
    limit = desk.buy("1", type=LIMIT, limit_price=Decimal("99.97"))
    desk.bar(100, 100, 99.9, 100)
    prices = [desk.exchange.get_order("acct", o).filled_avg_price for o in (buy, sell, limit)]
    assert prices == [Decimal("100.10"), Decimal("99.90"), Decimal("99.97")]


def test_volume_slippage_grows_with_the_share_of_volume_up_to_a_cap() -> None:
    model = VolumeSlippage(impact_bps=Decimal("100"), max_bps=Decimal("50"))
    price = Decimal("100")
    small = model(side=OrderSide.BUY, price=price, qty=Decimal("100"), volume=1000.0)
    large = model(side=OrderSide.BUY, price=price, qty=Decimal("1000"), volume=1000.0)
    assert (small, large) == (Decimal("100.1"), Decimal("100.5"))
