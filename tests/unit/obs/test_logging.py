from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from stockyard.config import LogSettings
from stockyard.obs import (
    bind_context,
    configure_logging,
    flush_logs,
    get_logger,
    log_performance,
    log_trade,
    logging_stats,
    shutdown_logging,
)


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "logs"
    configure_logging(LogSettings(dir=directory, console=False), environ={})
    yield directory
    shutdown_logging()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_every_line_reaches_the_main_file_and_its_component_file(log_dir: Path) -> None:
    get_logger("trading").info("order sent", symbol="AAPL", qty=100)
    get_logger("data_pipeline").info("bars loaded", rows=390)
    flush_logs()
    everything = _lines(log_dir / "trading_system.log")
    assert len(everything) == 2
    assert "order sent symbol=AAPL qty=100" in everything[0]
    assert ["bars loaded" in line for line in _lines(log_dir / "data_pipeline.log")] == [True]
    assert ["order sent" in line for line in _lines(log_dir / "trading.log")] == [True]


def test_errors_log_holds_only_errors_with_their_traceback(log_dir: Path) -> None:
    log = get_logger("execution")
    log.warning("slow fill")
    try:
        raise RuntimeError("broker said no")
    except RuntimeError:
        log.exception("submit failed", order_id="o-1")
    flush_logs()
    errors = (log_dir / "errors.log").read_text()
    assert "submit failed order_id=o-1" in errors
    assert "RuntimeError: broker said no" in errors
    assert "slow fill" not in errors


def test_bound_context_is_carried_into_every_line(log_dir: Path) -> None:
    log = get_logger("trading", bot="sma_cross")
    with bind_context(symbol="MSFT", order_id="abc-1"):
        log.info("decision")
        get_logger("risk").info("checked")
    log.info("outside")
    flush_logs()
    lines = _lines(log_dir / "trading_system.log")
    assert {"bot=sma_cross", "symbol=MSFT", "order_id=abc-1"} <= set(lines[0].split())
    assert "symbol=MSFT order_id=abc-1" in lines[1]
    assert "symbol=" not in lines[2]


def test_json_lines_when_asked(tmp_path: Path) -> None:
    configure_logging(LogSettings(dir=tmp_path, format="json", console=False), environ={})
    try:
        get_logger("backtest").info("run finished", sharpe=1.25, trades=12)
        flush_logs()
    finally:
        shutdown_logging()
    record = json.loads((tmp_path / "trading_system.log").read_text().splitlines()[0])
    assert record["component"] == "backtest"
    assert record["event"] == "run finished"
    assert record["level"] == "info"
    assert record["sharpe"] == 1.25
    assert record["timestamp"].endswith("Z")


def test_levels_below_the_threshold_are_not_written(log_dir: Path) -> None:
    log = get_logger("system")
    log.debug("noise")
    log.info("signal")
    flush_logs()
    assert [("signal" in line) for line in _lines(log_dir / "trading_system.log")] == [True]


def test_trade_and_performance_events_are_structured(log_dir: Path) -> None:
    log_trade(symbol="AAPL", side="buy", qty=Decimal(100), price=Decimal("189.25"), order_id="o-7")
    log_performance(name="backtest.bars_per_s", value=1.2e6, unit="bars/s", component="backtest")
    flush_logs()
    trading = _lines(log_dir / "trading.log")[0]
    assert "trade kind=trade symbol=AAPL side=buy qty=100 price=189.25 order_id=o-7" in trading
    backtest = _lines(log_dir / "backtest.log")[0]
    assert "performance kind=performance metric=backtest.bars_per_s" in backtest


def test_standard_library_loggers_reach_the_same_files(log_dir: Path) -> None:
    logging.getLogger("uvicorn.error").warning("port %d busy", 5555)
    flush_logs()
    assert "port 5555 busy logger=uvicorn.error" in _lines(log_dir / "api.log")[0]


def test_live_statistics_count_by_level_and_component(log_dir: Path) -> None:
    get_logger("trading").info("a")
    get_logger("trading").info("b")
    get_logger("bus").error("queue overflow", topic="md.bar.AAPL")
    flush_logs()
    stats = logging_stats()
    assert stats["total"] == 3
    assert stats["by_level"] == {"info": 2, "error": 1}
    assert stats["by_component"] == {"trading": 2, "bus": 1}
    assert stats["last_error"]["event"] == "queue overflow"
    assert stats["last_error"]["component"] == "bus"
    assert stats["rate_per_s"] > 0


def test_nothing_is_lost_on_a_normal_shutdown(tmp_path: Path) -> None:
    configure_logging(LogSettings(dir=tmp_path, console=False), environ={})
    log = get_logger("trading")
    for i in range(20_000):
        log.info("tick", seq=i)
    shutdown_logging()  # no flush first: shutdown itself must drain the queue
    lines = _lines(tmp_path / "trading_system.log")
    assert len(lines) == 20_000
    assert lines[-1].endswith("seq=19999")


def test_files_rotate_at_their_size_and_keep_every_line(tmp_path: Path) -> None:
    settings = LogSettings(dir=tmp_path, console=False, file_max_mb=0.05, backups=50)
    configure_logging(settings, environ={})
    log = get_logger("trading")
    for i in range(3000):
        log.info("padding line for rotation", seq=i)
    shutdown_logging()
    files = sorted(tmp_path.glob("trading_system.log*"))
    assert len(files) > 2
    assert all(f.stat().st_size <= 0.05 * 1024 * 1024 + 64 * 1024 for f in files)
    assert sum(len(_lines(f)) for f in files) == 3000


def test_console_is_coloured_for_people_and_respects_its_level(tmp_path: Path) -> None:
    stream = io.StringIO()
    settings = LogSettings(dir=None, console=True, console_level="WARNING")
    configure_logging(settings, environ={}, console_stream=stream)
    get_logger("trading").info("quiet")
    get_logger("trading").warning("loud", symbol="AAPL")
    shutdown_logging()
    shown = stream.getvalue()
    assert "quiet" not in shown
    assert "loud symbol=AAPL" in shown
    assert "WARNING" in shown


def test_logging_before_configuration_goes_to_stderr_without_crashing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutdown_logging()
    get_logger("system").warning("early warning")
    shutdown_logging()
    assert "early warning" in capsys.readouterr().err
