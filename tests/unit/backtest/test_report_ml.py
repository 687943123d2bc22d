from __future__ import annotations

from tests.unit.strategy.ml.conftest import SMALL, SYMBOLS, bars, costly

from stockyard.backtest import backtest
from stockyard.backtest.report import build_report, ml_section
from stockyard.strategy import create_strategy


def test_a_report_of_an_ml_bot_shows_its_models_feature_importances() -> None:
    bot = create_strategy("ml_direction", symbols=SYMBOLS, params=SMALL)
    results = backtest(bars(planted=True), [bot], costly())
    section = ml_section([bot])
    assert section is not None
    assert len(section.figures) == 1
    page = build_report(title="ml", results=results, extra_sections=[section])
    assert "feature importance (gain)" in page
    assert "%ret_15" in page
    assert "passed gate" in page


def test_there_is_no_ml_section_without_an_ml_bot() -> None:
    assert ml_section([create_strategy("sma_cross", symbols=["AAPL"])]) is None
