"""``stockyard bench soak`` for a few seconds, in a process of its own: every figure is
there and measured (orders sent, messages counted on both sides)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)


def test_a_short_soak_reports_orders_fills_memory_losses_and_positions(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKYARD_", "APCA_"))}
    env["STOCKYARD_HOME"] = str(tmp_path / "home")
    args = ["bench", "soak", "--seconds", "8", "--json", "--dir", str(tmp_path / "soak")]
    result = subprocess.run(
        [sys.executable, "-m", "stockyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["benchmark"] == "soak"
    assert figures["bots"] == ["sma_cross", "mean_reversion"]
    assert figures["orders"] > 0
    assert figures["fills"] > 0
    assert figures["published"] > 1000
    assert figures["received"] >= figures["published"] - figures["lost"]
    assert figures["lost"] == sum(figures["lost_by_stream"].values())
    assert figures["messages_per_s"] > 0
    assert figures["rss_first_mb"] > 0
    assert figures["rss_last_mb"] > 0
    assert isinstance(figures["memory_growth_pct"], float)
    assert isinstance(figures["positions_equal"], bool)
    assert set(figures["positions"]) == {"node", "sandbox"}
    assert isinstance(figures["targets_met"], bool)
