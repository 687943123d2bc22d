"""Each built-in bot on small hand-made data, its trades worked out by hand.

The harness fills a market order at the open of the symbol's next bar; bars here have
open = close unless stated, so a trade at bar ``i`` is priced at close ``i``. Trades are
(bar index of the fill, side, symbol, qty, price). SMA/z-score values in the comments are
what the bot computes on the bar of the *signal*, one bar before the fill.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from stockyard.strategy import MeanReversion, Momentum, Pairs, SmaCross


def test_sma_cross_buys_on_the_cross_up_and_sells_on_the_cross_down(harness: Callable) -> None:
    bot = SmaCross(symbols=["AAPL"], fast=2, slow=3, qty=10)
    run = harness(bot)
    #        idx: 0   1   2   3   4   5   6   7   8   9
    closes = [10, 10, 10, 13, 16, 13, 10, 10, 13, 13]
    # fast(2):   -  10  10 11.5 14.5 14.5 11.5 10 11.5
    # slow(3):   -   -  10  11   13   14   13  11  11
    # fast-slow: -   -   0  0.5  1.5  0.5 -1.5 -1  0.5
    # idx 3: 0 <= 0 and 0.5 > 0   -> cross up, buy 10, fills at idx 4 open (16)
    # idx 6: 0.5 >= 0 and -1.5 < 0 -> cross down, close, fills at idx 7 open (10)
    # idx 8: -1 <= 0 and 0.5 > 0  -> cross up, buy 10, fills at idx 9 open (13)
    run.closes("AAPL", closes)
    assert run.trades == [
        (4, "buy", "AAPL", Decimal(10), Decimal(16)),
        (7, "sell", "AAPL", Decimal(10), Decimal(10)),
        (9, "buy", "AAPL", Decimal(10), Decimal(13)),
    ]
    assert bot.position("AAPL") == 10


def test_sma_cross_waits_until_both_means_are_defined_at_t_and_t_minus_1(harness: Callable) -> None:
    run = harness(SmaCross(symbols=["AAPL"], fast=2, slow=3, qty=10))
    # idx 2: fast 11.5 > slow 11 but slow[1] is undefined -> no signal; then fast stays above.
    run.closes("AAPL", [10, 10, 13, 14, 15])
    assert run.trades == []


def test_sma_cross_does_not_buy_twice_when_the_means_touch_and_part_again(
    harness: Callable,
) -> None:
    run = harness(SmaCross(symbols=["AAPL"], fast=1, slow=2, qty=1))
    # fast(1) = close; slow(2) = mean of two.  diff = (c[t] - c[t-1]) / 2
    # idx: 0 10, 1 10 (diff 0), 2 12 (diff 1: cross up, buy), 3 12 (diff 0), 4 14 (diff 1:
    # a second cross up by the rule, but the bot is already long: no second buy)
    run.closes("AAPL", [10, 10, 12, 12, 14, 14])
    assert run.trades == [(3, "buy", "AAPL", Decimal(1), Decimal(12))]


def test_mean_reversion_enters_exits_and_shorts_on_z_score_bands(harness: Callable) -> None:
    bot = MeanReversion(
        symbols=["AAPL"], window=3, entry_z=1.0, exit_z=0.5, qty=5, allow_short=True
    )
    run = harness(bot)
    # window 3, sample std.  z = (close - mean) / std
    # idx 2: 10 11 12 -> mean 11, std 1, z = +1.0 (not > 1.0: nothing)
    # idx 3: 11 12  9 -> mean 10.667, ss 4.667, std 1.5275, z -1.091 < -1: buy 5 (fill idx 4 @10)
    # idx 4: 12  9 10 -> mean 10.333, std 1.5275, z = -0.218 > -0.5 -> close long (fill idx 5 @14)
    # idx 5:  9 10 14 -> mean 11, ss 14, std 2.6458, z +1.134 > 1: short 5 (fill idx 6 @14)
    # idx 6: 10 14 14 -> mean 12.667, ss 10.667, std 2.3094, z = +0.577: not < 0.5, hold
    # idx 7: 14 14 13 -> mean 13.667, ss 0.667, std 0.5774, z = -1.155 < 0.5 -> close short
    run.closes("AAPL", [10, 11, 12, 9, 10, 14, 14, 13, 13])
    assert run.trades == [
        (4, "buy", "AAPL", Decimal(5), Decimal(10)),
        (5, "sell", "AAPL", Decimal(5), Decimal(14)),
        (6, "sell", "AAPL", Decimal(5), Decimal(14)),
        (8, "buy", "AAPL", Decimal(5), Decimal(13)),
    ]


def test_mean_reversion_does_not_short_unless_allowed(harness: Callable) -> None:
    run = harness(MeanReversion(symbols=["AAPL"], window=3, entry_z=1.0, exit_z=0.5, qty=5))
    # As above, but idx 5 (z +1.134) is no trade; idx 7 (z -1.155 < -1) buys again, flat.
    run.closes("AAPL", [10, 11, 12, 9, 10, 14, 14, 13, 13])
    assert run.trades == [
        (4, "buy", "AAPL", Decimal(5), Decimal(10)),
        (5, "sell", "AAPL", Decimal(5), Decimal(14)),
        (8, "buy", "AAPL", Decimal(5), Decimal(13)),
    ]


def _momentum_bars(run: object) -> list:
    row = run.row  # type: ignore[attr-defined]
    #        (high, low, close); open = close
    shape = [
        (10.5, 9.5, 10.0),  # 0  TR 1.0 (first bar: high - low)
        (10.5, 9.5, 10.0),  # 1  TR 1.0 -> ATR(2) = (1 + 1) / 2 = 1.0
        (10.5, 9.5, 10.0),  # 2  TR 1.0 -> ATR = (1.0 * 1 + 1) / 2 = 1.0
        (12.0, 10.0, 11.5),  # 3  TR max(2, 2, 0) = 2 -> ATR 1.5; hh(0..2) = 10.5 < 11.5: buy
        (12.5, 11.0, 12.0),  # 4  fill @12; TR 1.5 -> ATR 1.5; ll(2..3) = 9.5
        (12.0, 10.5, 11.0),  # 5  ll(3..4) = 10
        (11.0, 9.5, 9.8),  # 6  ll(4..5) = 10.5; close 9.8 < ll (and < the stop, if k = 1)
        (10.5, 9.5, 10.0),  # 7  fill of the exit @10
    ]
    return [(i, row("AAPL", i, c, high=h, low=lo)) for i, (h, lo, c) in enumerate(shape)]


def test_momentum_buys_a_breakout_and_exits_at_the_atr_stop(harness: Callable) -> None:
    bot = Momentum(symbols=["AAPL"], entry_window=3, exit_window=2, atr_period=2, atr_k=1.0, qty=1)
    run = harness(bot)
    # idx 3: stop = 11.5 - 1.0 * 1.5 = 10.0; idx 6: close 9.8 < 10.0 -> close
    run.run(_momentum_bars(run))
    assert run.trades == [
        (4, "buy", "AAPL", Decimal(1), Decimal(12)),
        (7, "sell", "AAPL", Decimal(1), Decimal(10)),
    ]
    assert bot._tracks["AAPL"].stop == 10.0


def test_momentum_exits_on_a_breakdown_below_the_recent_low(harness: Callable) -> None:
    bot = Momentum(symbols=["AAPL"], entry_window=3, exit_window=2, atr_period=2, atr_k=3.0, qty=1)
    run = harness(bot)
    # stop = 11.5 - 3 * 1.5 = 7.0, never hit; idx 6: close 9.8 < ll 10.5 -> close
    run.run(_momentum_bars(run))
    assert run.trades == [
        (4, "buy", "AAPL", Decimal(1), Decimal(12)),
        (7, "sell", "AAPL", Decimal(1), Decimal(10)),
    ]
    assert bot._tracks["AAPL"].stop == 7.0


def test_momentum_trailing_stop_rises_with_the_close(harness: Callable) -> None:
    bot = Momentum(
        symbols=["AAPL"],
        entry_window=3,
        exit_window=2,
        atr_period=2,
        atr_k=1.0,
        qty=1,
        trailing=True,
    )
    run = harness(bot)
    bars = _momentum_bars(run)[:6]
    run.run(bars)
    # idx 4: 12 - 1.0 * ATR 1.5 = 10.5 > 10.0 -> stop 10.5; idx 5: 11 - 1.5 = 9.5 (lower: kept)
    assert bot._tracks["AAPL"].stop == 10.5


def test_pairs_trades_both_legs_sized_by_the_hedge_ratio(harness: Callable) -> None:
    bot = Pairs(symbols=["Y", "X"], window=3, hedge_ratio=2.0, entry_z=1.0, exit_z=0.5, qty=10)
    run = harness(bot)
    # X stays at 10, so spread = Y - 2 * 10 = 10 11 12 9 10 14 14 13 13: the z-scores of the
    # mean-reversion test.  x leg = round(10 * 2) = 20 shares.
    # idx 3: z -1.091 -> buy the spread: buy 10 Y, sell 20 X     (fill idx 4)
    # idx 4: z -0.218 > -0.5 -> close both legs                 (fill idx 5)
    # idx 5: z +1.134 -> sell the spread: sell 10 Y, buy 20 X    (fill idx 6)
    # idx 7: z -1.155 < 0.5 -> close both legs                  (fill idx 8)
    ys = [30, 31, 32, 29, 30, 34, 34, 33, 33]
    rows = []
    for i, y in enumerate(ys):
        rows += [(i, run.row("Y", i, y)), (i, run.row("X", i, 10))]
    run.run(rows)
    assert run.trades == [
        (4, "buy", "Y", Decimal(10), Decimal(30)),
        (4, "sell", "X", Decimal(20), Decimal(10)),
        (5, "sell", "Y", Decimal(10), Decimal(34)),
        (5, "buy", "X", Decimal(20), Decimal(10)),
        (6, "sell", "Y", Decimal(10), Decimal(34)),
        (6, "buy", "X", Decimal(20), Decimal(10)),
        (8, "buy", "Y", Decimal(10), Decimal(33)),
        (8, "sell", "X", Decimal(20), Decimal(10)),
    ]
    assert bot.position("Y") == 0
    assert bot.position("X") == 0


def test_the_same_data_gives_the_same_trades_every_time(harness: Callable) -> None:
    closes = [100 + (i * 37 % 11) - (i % 7) for i in range(300)]
    runs = []
    for _ in range(2):
        run = harness(SmaCross(symbols=["AAPL"], fast=3, slow=8, qty=1))
        run.closes("AAPL", closes)
        runs.append(run.trades)
    assert runs[0] == runs[1]
    assert len(runs[0]) > 4
