"""Where one working order trades against one data point: the fill conventions.

A data point is seen by each side as (open, high, low): a bar as its own range, a trade as
one price, a quote as the ask (for buys) or the bid (for sells). Each function here answers
the fill price, or ``None`` when the order does not trade, and moves a stop's trigger state
and a trailing stop's high-water mark. No allocation beyond the one ``Decimal`` returned.
"""

from __future__ import annotations

from decimal import Decimal

from stockyard.execution.sim._state import LIMIT, MARKET, STOP, STOP_LIMIT, TRAIL, Working

__all__ = ["dec", "fill_price", "trail_stop"]

_HUNDRED = Decimal(100)


def dec(value: float) -> Decimal:
    """A float price as the exact decimal it was written as (``repr`` round-trips)."""
    return Decimal(repr(value))


def trail_stop(w: Working, mark: float) -> Decimal:
    """The trailing stop's price for a high (sell) or low (buy) water ``mark``."""
    order = w.order
    ref = dec(mark)
    if order.trail_price is not None:
        return ref + order.trail_price if w.buy else ref - order.trail_price
    pct = order.trail_percent or Decimal(0)
    return ref * (_HUNDRED + pct) / _HUNDRED if w.buy else ref * (_HUNDRED - pct) / _HUNDRED


def fill_price(w: Working, o: float, h: float, lo: float, *, through: bool) -> Decimal | None:  # noqa: PLR0911, PLR0912 - one branch per order kind reads best
    """The price ``w`` fills at on a data point ranging ``lo..h`` that opened at ``o``.

    Limits fill at the limit, or at the open when it opened through the limit; stops trigger
    when the range reaches the stop and fill at the stop, or at the open when it gapped
    through. ``through`` demands the range pass a limit, not merely touch it.
    """
    kind = w.kind
    if kind == MARKET:
        return dec(o)
    if w.buy:
        if kind == LIMIT:
            lim = w.limit
            if o <= lim:
                return dec(o)
            if lo < lim or (lo == lim and not through):
                return w.limit_d
            return None
        if kind == STOP:
            if h < w.stop:
                return None
            w.kind = MARKET
            return dec(o) if o >= w.stop else w.stop_d
        if kind == STOP_LIMIT:
            if h < w.stop:
                return None
            w.kind = LIMIT
            trigger = o if o >= w.stop else w.stop
            if trigger <= w.limit:
                return dec(o) if trigger == o else w.stop_d
            return w.limit_d if lo < w.limit or (lo == w.limit and not through) else None
        if kind == TRAIL:
            mark = o if w.hwm is None or o < w.hwm else w.hwm
            stop = float(trail_stop(w, mark))
            if h >= stop:
                w.kind = MARKET
                w.hwm = mark
                return dec(o) if o >= stop else trail_stop(w, mark)
            w.hwm = lo if lo < mark else mark
        return None
    if kind == LIMIT:
        lim = w.limit
        if o >= lim:
            return dec(o)
        if h > lim or (h == lim and not through):
            return w.limit_d
        return None
    if kind == STOP:
        if lo > w.stop:
            return None
        w.kind = MARKET
        return dec(o) if o <= w.stop else w.stop_d
    if kind == STOP_LIMIT:
        if lo > w.stop:
            return None
        w.kind = LIMIT
        trigger = o if o <= w.stop else w.stop
        if trigger >= w.limit:
            return dec(o) if trigger == o else w.stop_d
        return w.limit_d if h > w.limit or (h == w.limit and not through) else None
    if kind == TRAIL:
        mark = o if w.hwm is None or o > w.hwm else w.hwm
        stop = float(trail_stop(w, mark))
        if lo <= stop:
            w.kind = MARKET
            w.hwm = mark
            return dec(o) if o <= stop else trail_stop(w, mark)
        w.hwm = h if h > mark else mark
    return None
