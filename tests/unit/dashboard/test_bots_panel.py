"""The Bots tab's partial: a machine-learned bot's model line; none for other bots."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stockyard.dashboard._app import _environment
from stockyard.services import BotModelView, BotView


def _bot(bot_id: str, model: BotModelView | None) -> BotView:
    return BotView(
        bot_id=bot_id,
        strategy="ml_direction" if model else "sma_cross",
        symbols=["AAPL"],
        status="running",
        paused=False,
        params={},
        changeable=[],
        positions={"AAPL": Decimal(0)},
        model=model,
    )


def test_an_ml_bot_shows_its_model_age_top_features_and_worst_drift() -> None:
    model = BotModelView(
        model_id="lgbm_classifier-0123456789ab",
        state="trading",
        ok=True,
        message="model lgbm_classifier-0123456789ab trading",
        age_days=1.5,
        importance={"ret_5": 120.0, "rsi_14": 40.5},
        drift={"ret_5": 0.02, "rsi_14": 0.31},
    )
    html = (
        _environment()
        .get_template("partials/bots.html")
        .render(
            bots=[_bot("ml-1", model), _bot("sma-1", None)],
            bot_pnl={},
            now=datetime(2024, 3, 4, tzinfo=UTC),
            may_trade=False,
        )
    )
    row = html.split('data-testid="ml-model-ml-1"', 1)[1].split("</tr>", 1)[0]
    assert "lgbm_classifier-0123456789ab" in row
    assert "1.5 days old" in row
    assert "ret_5 120, rsi_14 40.5" in row
    assert "max 0.310 on rsi_14" in row
    assert 'data-testid="ml-model-sma-1"' not in html
