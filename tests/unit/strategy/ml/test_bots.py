from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tests.unit.strategy.ml.conftest import END, SEED, SMALL, START, SYMBOLS, costly

from stockyard.backtest import BarData, backtest, compute_metrics, results_json
from stockyard.config import LogSettings
from stockyard.core import Timeframe
from stockyard.data import SyntheticSource, plant_signal
from stockyard.health import HealthStatus
from stockyard.obs import configure_logging, flush_logs, shutdown_logging
from stockyard.strategy import ParameterError, create_strategy
from stockyard.strategy.ml import (
    HIT_MIN_JUDGED,
    MlDirection,
    RollingTrainer,
    TrainSpec,
    model_health_check,
)


def _bot(name: str = "ml_direction", **params: object) -> MlDirection:
    made = create_strategy(name, symbols=SYMBOLS, params={**SMALL, **params})
    assert isinstance(made, MlDirection)
    return made


def _oos_hit_rate(bot: MlDirection) -> float:
    rates = [hit for _kind, hit, _passed in bot.trainings if hit is not None]
    return float(np.mean(rates))


def test_on_the_planted_signal_it_beats_55_percent_and_profits_after_costs(
    planted_bars: BarData,
) -> None:
    bot = _bot()
    metrics = compute_metrics(backtest(planted_bars, [bot], costly()))
    assert _oos_hit_rate(bot) >= 0.55
    assert metrics.num_trades > 20
    assert metrics.total_fees > 0
    assert metrics.total_return > 0


def test_on_plain_synthetic_bars_it_hits_about_half_and_its_gate_keeps_it_out(
    plain_bars: BarData,
) -> None:
    bot = _bot()
    metrics = compute_metrics(backtest(plain_bars, [bot], costly()))
    assert 0.47 <= _oos_hit_rate(bot) <= 0.53
    assert metrics.num_trades <= 5
    status = bot.model_status()
    assert not status.ok
    assert status.state == "gate_failed"


def test_the_same_data_and_seed_give_the_same_models_and_the_same_backtest_bytes(
    planted_bars: BarData,
) -> None:
    first, second = _bot(), _bot()
    a = results_json(backtest(planted_bars, [first], costly()))
    b = results_json(backtest(planted_bars, [second], costly()))
    assert a == b
    ids = [[m.model_id for m in bot.active_models()] for bot in (first, second)]
    assert ids[0] == ids[1]
    assert ids[0]


def test_bars_after_t_change_no_order_at_or_before_t(planted_bars: BarData) -> None:
    cut = datetime(2024, 1, 17, 16, 0, tzinfo=UTC)
    cut_ns = int(cut.timestamp()) * 10**9
    full = backtest(planted_bars, [_bot()], costly())
    early = BarData(
        symbols=tuple(s.between(0, cut_ns) for s in planted_bars.symbols),
        span_ns=planted_bars.span_ns,
        timeframe=planted_bars.timeframe,
    )
    short = backtest(early, [_bot()], costly())

    def before(results: object) -> list[tuple[object, ...]]:
        return [
            (o.client_order_id, o.symbol, o.side, o.qty)
            for o in results.orders  # type: ignore[attr-defined]
            if o.submitted_at < cut_ns - 60 * 10**9
        ]

    assert before(full) == before(short)
    assert before(full)


def test_an_ensemble_trades_only_when_its_members_agree(planted_bars: BarData) -> None:
    bot = _bot("ml_ensemble", members="lgbm_classifier,logistic", min_votes=2)
    metrics = compute_metrics(backtest(planted_bars, [bot], costly()))
    kinds = {kind for kind, _hit, _passed in bot.trainings}
    assert kinds == {"lgbm_classifier", "logistic"}
    assert metrics.num_trades > 0


def test_bad_parameters_are_refused_with_the_reason() -> None:
    with pytest.raises(ParameterError, match="test_bars < train_bars"):
        _bot(test_bars=5000)
    with pytest.raises(ParameterError, match="min_votes"):
        _bot("ml_ensemble", members="logistic", min_votes=2)
    with pytest.raises(ParameterError, match="must be one of"):
        _bot(model_kind="ridge")


def test_an_old_model_stops_opening_positions_and_health_says_so(planted_bars: BarData) -> None:
    bot = _bot(max_model_age_days=0.0001)
    metrics = compute_metrics(backtest(planted_bars, [bot], costly()))
    assert metrics.num_trades <= 2  # at most the bars right after a retrain
    observations = model_health_check([bot])()
    assert observations[0].component_id == "ml_direction"
    assert observations[0].status is HealthStatus.FAIL
    assert "days old" in observations[0].output
    drift = observations[1]
    assert drift.component_id == "ml_direction:drift"
    assert drift.unit == "psi"
    assert isinstance(drift.value, float)
    assert set(bot.feature_drift()) == set(bot._names)


@pytest.mark.parametrize("worker", ["thread", "process"])
def test_a_background_trainer_swaps_its_model_in_when_done(
    planted_bars: BarData, worker: str
) -> None:
    bot = _bot()
    backtest(planted_bars, [bot], costly())
    blocks = [h.block() for h in bot._history.values()]
    names = bot._names
    spec = TrainSpec(train=3000, test=600, rounds=30)
    trainer = RollingTrainer(spec, names, mode="background", worker=worker)
    try:
        assert trainer.start(blocks, 1)
        assert not trainer.start(blocks, 2)  # one training at a time
        deadline = time.monotonic() + 100
        result = None
        while result is None and time.monotonic() < deadline:
            result = trainer.poll()
            time.sleep(0.01)
        assert result is not None
        assert result.passed
        assert trainer.active is not None
        assert trainer.active.trained_at_ns == 1
    finally:
        trainer.close()


def test_every_decision_is_logged_to_ai_bots_with_the_model_and_top_features(
    planted_bars: BarData, tmp_path: Path
) -> None:
    configure_logging(LogSettings(dir=tmp_path, format="json", console=False), environ={})
    try:
        backtest(planted_bars, [_bot()], costly())
        flush_logs()
    finally:
        shutdown_logging()
    lines = [json.loads(x) for x in (tmp_path / "ai_bots.log").read_text().splitlines()]
    decisions = [x for x in lines if x.get("event") == "ml decision"]
    assert decisions
    first = decisions[0]
    assert first["action"] in ("buy", "sell")
    assert first["models"][0].startswith("lgbm_classifier-")
    assert first["top_features"]
    assert any(x.get("event") == "ml model trained" for x in lines)


def _signal_then_noise(switch: int) -> BarData:
    """The planted series up to bar ``switch`` of each symbol, the plain one after it
    (rescaled to join without a gap): a signal that goes away."""
    source = SyntheticSource(seed=SEED)
    tables = {}
    for symbol, plain in source.get_bars(SYMBOLS, Timeframe.MINUTE, START, END).items():
        planted = plant_signal(plain, symbol=symbol, seed=SEED)
        ratio = (
            planted.column("close")[switch - 1].as_py() / plain.column("close")[switch - 1].as_py()
        )
        tail = plain.slice(switch)
        for name in ("open", "high", "low", "close"):
            index = tail.schema.get_field_index(name)
            scaled = np.round(tail.column(name).to_numpy() * ratio, 4)
            tail = tail.set_column(index, tail.schema.field(name), pa.array(scaled))
        tables[symbol] = pa.concat_tables([planted.slice(0, switch), tail])
    return BarData.from_tables(tables, timeframe=Timeframe.MINUTE)


def test_on_the_planted_signal_live_hits_match_the_gate_and_health_passes(
    planted_bars: BarData,
) -> None:
    bot = _bot()
    backtest(planted_bars, [bot], costly())
    rate = bot.live_hit_rate()
    assert rate.expected is not None
    assert rate.expected >= 0.55
    assert rate.resolved >= HIT_MIN_JUDGED
    assert rate.live is not None
    assert rate.live >= 0.55
    hit = model_health_check([bot])()[2]
    assert hit.component_id == "ml_direction:hit_rate"
    assert hit.status is HealthStatus.PASS, hit.output
    assert hit.value == round(rate.live, 4)


def test_when_the_signal_goes_away_the_live_hit_rate_falls_and_health_warns() -> None:
    # one training, at bar 3,900 of the lead symbol, on planted bars; 1,170 plain bars after
    bot = _bot(retrain_every=3900)
    backtest(_signal_then_noise(3900), [bot], costly())
    assert len(bot.trainings) == 1
    assert bot.trainings[0][2]
    rate = bot.live_hit_rate()
    assert rate.resolved >= HIT_MIN_JUDGED
    assert rate.live is not None
    assert rate.expected is not None
    assert rate.live < rate.expected - 0.08
    hit = model_health_check([bot])()[2]
    assert hit.status is HealthStatus.WARN, hit.output
    assert "standard errors below" in hit.output
