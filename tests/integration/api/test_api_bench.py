from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from stockyard.cli._health_cmd import register


def test_bench_health_prints_latency_and_throughput_as_json(tmp_path: Path) -> None:
    app, bench = typer.Typer(), typer.Typer()

    @app.callback()
    def main() -> None:
        """The test's root command."""

    register(app, bench)
    app.add_typer(bench, name="bench")
    args = ["bench", "health", "--json", "--requests", "100", "--seconds", "1"]
    args += ["--connections", "4", "--tool", "python", "--dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["benchmark"] == "health"
    assert 0 < figures["detailed_p50_ms"] <= figures["detailed_p99_ms"]
    assert figures["health_rps"] > 0
    assert figures["health_non_2xx"] == 0
    assert figures["checks"] == 10
    assert figures["load_tool"].startswith("asyncio")
