"""The report's section on machine-learned bots: each model's feature importances."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go  # type: ignore[import-untyped]  # ships no type hints

from stockyard.backtest.report._html import ReportSection
from stockyard.strategy import Strategy
from stockyard.strategy.ml import MlDirection, feature_importance

__all__ = ["ml_section"]

_LAYOUT = {"template": "plotly_white", "height": 420, "margin": {"l": 140, "r": 20, "t": 50}}


def ml_section(strategies: Sequence[Strategy]) -> ReportSection | None:
    """Feature importances (gain) of the models the ML bots among ``strategies`` held at the
    end, with each bot's training record; None when there is no ML bot."""
    bots = [s for s in strategies if isinstance(s, MlDirection)]
    if not bots:
        return None
    figures = []
    rows = []
    for bot in bots:
        status = bot.model_status()
        rows.append(
            f"<tr><td>{html.escape(bot.strategy_id)}</td><td>{html.escape(status.state)}</td>"
            f"<td>{html.escape(status.message)}</td><td>{len(bot.trainings)}</td>"
            f"<td>{sum(1 for *_k, ok in bot.trainings if ok)}</td></tr>"
        )
        for active in bot.active_models():
            gains = feature_importance(active.model)
            names = list(gains)[:15][::-1]
            figure = go.Figure(go.Bar(x=[gains[n] for n in names], y=names, orientation="h"))
            figure.update_layout(
                title=f"{bot.strategy_id}: {active.model_id} feature importance (gain)", **_LAYOUT
            )
            figures.append(figure)
    table = (
        "<table><tr><th>bot</th><th>state</th><th>model</th><th>trainings</th>"
        f"<th>passed gate</th></tr>{''.join(rows)}</table>"
    )
    return ReportSection("ML models", figures, table)
