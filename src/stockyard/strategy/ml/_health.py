"""Health of the ML bots, as observations the health layer can run.

:func:`model_health_check` gives a check function (as ``obs.health`` builds in) that
reports, per ML bot, whether its model may trade: failing when the model has expired
(older than the bot's ``max_model_age_days``) or no model passed its gate, passing while it
trades. The node adds it next to its other checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stockyard.obs.health import Observation
from stockyard.strategy._base import Strategy
from stockyard.strategy.ml._bots import MlDirection

__all__ = ["model_health_check"]


def model_health_check(strategies: Sequence[Strategy]) -> Callable[[], list[Observation]]:
    """A check over the ML bots among ``strategies`` (one observation each)."""
    bots = [s for s in strategies if isinstance(s, MlDirection)]

    def check() -> list[Observation]:
        found = []
        for bot in bots:
            status = bot.model_status()
            if status.ok:
                made = Observation.passed(status.message, value=status.age_days, unit="days")
            elif status.state == "expired":
                made = Observation.failed(status.message, value=status.age_days, unit="days")
            else:
                made = Observation.warned(status.message, value=status.age_days, unit="days")
            found.append(
                Observation(made.status, made.value, made.unit, made.output, bot.strategy_id)
            )
        return found

    return check
