"""Health of the ML bots, as observations the health layer can run.

:func:`model_health_check` gives a check function (as ``stockyard.health`` builds in) that
reports, per ML bot, whether its model may trade (failing when the model has expired —
older than the bot's ``max_model_age_days`` — warning when no model passed its gate) and
its feature drift (the largest PSI of the last 500 bars against the latest training
window; a warning above 0.25) and its live hit rate (a warning when, over at least 200
judged predictions, it lies more than two standard errors below the hit rate the models
earned out of sample). The node can add it next to its other checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from stockyard.health import HealthStatus, Observation
from stockyard.strategy._base import Strategy
from stockyard.strategy.ml._bots import MlDirection

__all__ = ["ModelCheck", "model_health_check"]


DRIFT_WARN = 0.25  # PSI above this is a shifted population
HIT_MIN_JUDGED = 200  # fewer judged predictions say too little to compare
HIT_WARN_Z = 2.0  # standard errors below the out-of-sample hit rate that warn


def _drift(bot: MlDirection) -> Observation:
    drift = bot.feature_drift()
    where = f"{bot.strategy_id}:drift"
    if not drift:
        return Observation(HealthStatus.PASS, None, "psi", "no training window yet", where)
    name = max(drift, key=lambda k: drift[k])
    worst = round(drift[name], 4)
    if worst > DRIFT_WARN:
        text = f"feature {name} drifted: PSI {worst} against the training window"
        return Observation(HealthStatus.WARN, worst, "psi", text, where)
    return Observation(HealthStatus.PASS, worst, "psi", f"largest PSI {worst} ({name})", where)


def _hit_rate(bot: MlDirection) -> Observation:
    rate = bot.live_hit_rate()
    where = f"{bot.strategy_id}:hit_rate"
    if rate.live is None:
        return Observation(HealthStatus.PASS, None, "ratio", "no live prediction judged yet", where)
    live = round(rate.live, 4)
    gate = "unknown" if rate.expected is None else f"{rate.expected:.3f}"
    said = f"live hit rate {live:.3f} on {rate.resolved} predictions (out of sample {gate})"
    if rate.resolved < HIT_MIN_JUDGED:
        text = f"{said}: too few to judge yet"
        return Observation(HealthStatus.PASS, live, "ratio", text, where)
    z = rate.shortfall_z()
    if z is not None and z > HIT_WARN_Z:
        text = f"{said} is {z:.1f} standard errors below what the models earned out of sample"
        return Observation(HealthStatus.WARN, live, "ratio", text, where)
    return Observation(HealthStatus.PASS, live, "ratio", said, where)


class ModelCheck:
    """A check over the ML bots among some strategies (model and drift, per bot); call it."""

    def __init__(self, strategies: Sequence[Strategy]) -> None:
        self.bots = [s for s in strategies if isinstance(s, MlDirection)]

    def __call__(self) -> list[Observation]:
        found = []
        for bot in self.bots:
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
            found.append(_drift(bot))
            found.append(_hit_rate(bot))
        return found


def model_health_check(strategies: Sequence[Strategy]) -> ModelCheck:
    """A check over the ML bots among ``strategies`` (model and drift, per bot)."""
    return ModelCheck(strategies)
