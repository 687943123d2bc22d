from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from stockyard.cli._health_cmd import register


def test_bench_health_prints_full_scan_cached_latency_and_throughput_as_json(
    tmp_path: Path,
) -> None:
    app, bench = typer.Typer(), typer.Typer()

    @app.callback()
    def main() -> None:
        """The test's root command."""

    register(app, bench)
    app.add_typer(bench, name="bench")
    args = ["bench", "health", "--json", "--requests", "100", "--seconds", "1"]
    args += ["--connections", "4", "--tool", "python", "--dir", str(tmp_path), "--scans", "20"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # the node logs its stop on stderr
    assert figures["benchmark"] == "health"
    assert 0 < figures["full_scan_p50_ms"] <= figures["full_scan_p99_ms"]
    assert figures["scans"] == 20
    assert 0 < figures["cached_p50_ms"] <= figures["cached_p99_ms"]
    assert 0 < figures["detailed_p50_ms"] <= figures["detailed_p99_ms"]
    assert figures["health_rps"] > 0
    assert figures["health_non_2xx"] == 0
    # The checks of `up --single-process`: the built-in ones but the broker's, and the node's.
    assert figures["checks"] == figures["full_scan_checks"] == 18
    assert figures["load_tool"].startswith("asyncio")
