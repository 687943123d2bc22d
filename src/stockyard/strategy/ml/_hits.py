"""The live hit rate of an ML bot, held against the hit rate its model earned out of sample.

Every bar a bot scores, the predicted direction (P(up) above one half) is remembered; once
``horizon`` more bars of that symbol have come, it is judged exactly as the training gate
judged the held-out tail (:func:`~stockyard.strategy.ml._labels.direction`: the log return
over ``horizon`` bars above ``dead_band`` is up, below ``-dead_band`` down, inside the band
no direction and left out). The tally starts again whenever the bot's models change, so
the live figure is always that of the models the gate figure belongs to.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = ["HitRate", "HitTracker"]


@dataclass(frozen=True, slots=True)
class HitRate:
    """Live hits of the current models: ``resolved`` predictions judged, ``live`` the share
    right (None before the first), ``expected`` the models' out-of-sample hit rate."""

    live: float | None
    resolved: int
    expected: float | None
    horizon: int

    def shortfall_z(self) -> float | None:
        """How many standard errors the live rate lies below the expected one (None when
        either is unknown). Neighbouring predictions share ``horizon`` bars of outcome, so
        ``resolved / horizon`` of them count as independent, as in the training gate."""
        if self.live is None or self.expected is None or self.resolved == 0:
            return None
        independent = max(1.0, self.resolved / self.horizon)
        return (self.expected - self.live) / (0.5 / math.sqrt(independent))


class HitTracker:
    """Remembers each symbol's predictions and judges them ``horizon`` bars later."""

    __slots__ = ("_bars", "_dead_band", "_expected", "_hits", "_key", "_pending", "horizon")

    def __init__(self, *, horizon: int, dead_band: float, window: int = 20_000) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        self.horizon = horizon
        self._dead_band = dead_band
        self._bars: dict[str, int] = {}
        self._pending: dict[str, deque[tuple[int, float, bool]]] = {}
        self._hits: deque[bool] = deque(maxlen=window)
        self._expected: float | None = None
        self._key: tuple[str, ...] = ()

    def models(self, key: tuple[str, ...], expected: float | None) -> None:
        """The bot trades with the models ``key`` now, whose out-of-sample hit rate is
        ``expected``; a new set starts the tally again."""
        if key == self._key:
            return
        self._key = key
        self._expected = expected
        self._hits.clear()
        for pending in self._pending.values():
            pending.clear()

    def observe(self, symbol: str, close: float, p_up: float | None) -> None:
        """Bar of ``symbol`` closing at ``close``; ``p_up`` the models' score on it, or None
        when nothing was scored. Judges the prediction made ``horizon`` bars before."""
        seen = self._bars.get(symbol, 0) + 1
        self._bars[symbol] = seen
        pending = self._pending.setdefault(symbol, deque())
        while pending and seen - pending[0][0] >= self.horizon:
            _at, then, up = pending.popleft()
            moved = math.log(close / then) if then > 0.0 and close > 0.0 else 0.0
            if moved > self._dead_band:
                self._hits.append(up)
            elif moved < -self._dead_band:
                self._hits.append(not up)
        if p_up is not None and self._key:
            pending.append((seen, close, p_up > 0.5))

    def rate(self) -> HitRate:
        """The tally so far."""
        resolved = len(self._hits)
        live = sum(self._hits) / resolved if resolved else None
        return HitRate(live, resolved, self._expected, self.horizon)
