"""What the node tells operators about a machine-learned bot's model (the Bots tab, REST)."""

from __future__ import annotations

from tests.unit.strategy.ml.conftest import SMALL, SYMBOLS, bars, costly

from stockyard.backtest import backtest
from stockyard.engine._node_control import bot_model
from stockyard.strategy import create_strategy


def test_an_ml_bot_reports_its_model_age_top_importances_and_drift() -> None:
    bot = create_strategy("ml_direction", symbols=SYMBOLS, params=SMALL)
    backtest(bars(planted=True), [bot], costly())
    model = bot_model(bot)
    assert model is not None
    assert model.model_id is not None
    assert model.state in ("trading", "expired")
    assert model.age_days is not None
    assert model.age_days >= 0
    weights = [v for _k, v in model.importance]
    assert 0 < len(weights) <= 5
    assert weights == sorted(weights, reverse=True)
    assert model.drift
    assert all(v >= 0 for v in model.drift.values())


def test_a_bot_before_its_first_training_says_so_and_a_plain_bot_has_no_model() -> None:
    fresh = bot_model(create_strategy("ml_direction", symbols=SYMBOLS, params=SMALL))
    assert fresh is not None
    assert (fresh.state, fresh.model_id, fresh.importance, fresh.drift) == (
        "no_model",
        None,
        (),
        {},
    )
    assert bot_model(create_strategy("sma_cross", symbols=SYMBOLS)) is None
