from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockyard.sandbox import PROFILES, FaultConfig, FaultInjector, load_faults


class FakeWall:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_every_named_profile_loads() -> None:
    for name, config in PROFILES.items():
        assert load_faults(name) == config


def test_a_fault_file_in_json_or_toml_loads(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text(json.dumps({"latency_ms": 5, "error_rates": {"503": 0.5}}))
    (tmp_path / "f.toml").write_text("md_drop_rate = 0.25\n")
    assert load_faults(str(tmp_path / "f.json")).error_rates == {503: 0.5}
    assert load_faults(str(tmp_path / "f.toml")).md_drop_rate == 0.25


def test_an_unknown_profile_or_a_bad_file_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault profile 'nope'"):
        load_faults("nope")
    (tmp_path / "bad.json").write_text(json.dumps({"error_rates": {"200": 0.5}}))
    with pytest.raises(ValueError, match="HTTP statuses 400-599"):
        load_faults(str(tmp_path / "bad.json"))


def test_error_draws_are_deterministic_for_a_seed() -> None:
    config = FaultConfig(seed=7, error_rates={500: 0.3, 503: 0.2})

    def draws() -> list[str]:
        injector = FaultInjector(config)
        return [f"{d.kind}:{d.status}" for d in (injector.http() for _ in range(200))]

    first = draws()
    assert first == draws()
    errors = [d for d in first if d.startswith("error")]
    assert 60 < len(errors) < 140
    assert {"error:500", "error:503"} <= set(first)


def test_the_rate_limit_answers_429_with_a_retry_after() -> None:
    wall = FakeWall()
    injector = FaultInjector(FaultConfig(rate_limit_per_s=2), wall=wall)
    kinds = [injector.http().kind for _ in range(3)]
    assert kinds == ["pass", "pass", "rate_limited"]
    limited = injector.http()
    assert limited.status == 429
    assert limited.retry_after_s >= 1
    wall.now = 1.0
    assert injector.http().kind == "pass"


def test_market_data_is_dropped_duplicated_and_swapped_deterministically() -> None:
    config = FaultConfig(seed=1, md_drop_rate=0.2, md_duplicate_rate=0.2, md_reorder_rate=0.2)
    messages = list(range(1000))
    first = FaultInjector(config).mangle(messages)
    assert first == FaultInjector(config).mangle(messages)
    assert len(set(first)) < 1000  # some dropped
    assert len(first) != len(set(first))  # some duplicated
    assert first != sorted(first)  # some out of order


def test_no_faults_leaves_market_data_alone() -> None:
    assert FaultInjector().mangle([3, 1, 2]) == [3, 1, 2]
