from __future__ import annotations

import fnmatch
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stockyard.core import SimClock
from stockyard.health import (
    AlertEngine,
    AlertRule,
    AlertSeverity,
    AlertState,
    CheckReport,
    HealthReport,
    HealthStatus,
    Observation,
    default_rules,
    load_rules,
    merge_rules,
)


def report_of(
    at: datetime, *checks: tuple[str, Observation], required: bool = True
) -> HealthReport:
    """A report with one observation per ``(key, observation)``."""
    reports = {
        key: CheckReport(
            key=key,
            component=key.split(":")[0],
            component_type="component",
            required=required,
            observations=(observation,),
            time=at,
            duration_ms=1.0,
        )
        for key, observation in checks
    }
    return HealthReport(checks=reports, time=at, duration_ms=1.0)


def status(value: HealthStatus, output: str = "") -> Observation:
    return Observation(value, None, None, output)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2026, 1, 5, 9, 30, tzinfo=UTC))


FAILING = AlertRule(name="failing", severity=AlertSeverity.CRITICAL, cooldown_s=0)


def test_a_failing_check_raises_one_alert_and_resolves_it_when_it_passes(clock: SimClock) -> None:
    engine = AlertEngine([FAILING], clock=clock)
    down = report_of(clock.now(), ("redis:responseTime", status(HealthStatus.FAIL, "refused")))
    (event,) = engine.evaluate(down)
    assert event.kind == "raised"
    assert event.alert.severity is AlertSeverity.CRITICAL
    assert event.alert.subject == "redis:responseTime"
    assert "refused" in event.alert.summary

    clock.set(clock.now() + timedelta(seconds=30))
    assert engine.evaluate(down) == []  # de-duplicated while it still fails
    assert [a.id for a in engine.firing()] == [event.alert.id]

    clock.set(clock.now() + timedelta(seconds=30))
    up = report_of(clock.now(), ("redis:responseTime", status(HealthStatus.PASS)))
    (resolved,) = engine.evaluate(up)
    assert resolved.kind == "resolved"
    assert resolved.alert.id == event.alert.id
    assert resolved.alert.state is AlertState.RESOLVED
    assert resolved.alert.resolved_at == clock.now()
    assert engine.firing() == []


def test_a_rule_with_a_for_duration_waits_until_it_has_held_that_long(clock: SimClock) -> None:
    rule = AlertRule(name="hot", check="cpu:*", threshold=90, for_s=60)
    engine = AlertEngine([rule], clock=clock)
    hot = Observation.passed("", value=95.0, unit="percent")
    started = clock.now()
    assert engine.evaluate(report_of(clock.now(), ("cpu:utilization", hot))) == []
    clock.set(clock.now() + timedelta(seconds=59))
    assert engine.evaluate(report_of(clock.now(), ("cpu:utilization", hot))) == []
    clock.set(clock.now() + timedelta(seconds=1))
    (event,) = engine.evaluate(report_of(clock.now(), ("cpu:utilization", hot)))
    assert event.alert.started_at == started
    assert event.alert.raised_at == clock.now()
    assert event.alert.value == 95.0


def test_a_condition_that_clears_before_its_duration_never_raises(clock: SimClock) -> None:
    rule = AlertRule(name="hot", check="cpu:*", threshold=90, for_s=60)
    engine = AlertEngine([rule], clock=clock)
    hot = Observation.passed("", value=95.0)
    cool = Observation.passed("", value=10.0)
    engine.evaluate(report_of(clock.now(), ("cpu:utilization", hot)))
    clock.set(clock.now() + timedelta(seconds=50))
    engine.evaluate(report_of(clock.now(), ("cpu:utilization", cool)))
    clock.set(clock.now() + timedelta(seconds=20))
    assert engine.evaluate(report_of(clock.now(), ("cpu:utilization", hot))) == []


def test_cooldown_keeps_a_flapping_check_quiet(clock: SimClock) -> None:
    rule = AlertRule(name="flap", cooldown_s=300)
    engine = AlertEngine([rule], clock=clock)
    down = (("db:responseTime", status(HealthStatus.FAIL)),)
    up = (("db:responseTime", status(HealthStatus.PASS)),)
    assert [e.kind for e in engine.evaluate(report_of(clock.now(), *down))] == ["raised"]
    clock.set(clock.now() + timedelta(seconds=10))
    assert [e.kind for e in engine.evaluate(report_of(clock.now(), *up))] == ["resolved"]
    clock.set(clock.now() + timedelta(seconds=10))
    assert engine.evaluate(report_of(clock.now(), *down)) == []  # inside the cool-down
    clock.set(clock.now() + timedelta(seconds=300))
    assert [e.kind for e in engine.evaluate(report_of(clock.now(), *down))] == ["raised"]


def test_value_rules_compare_and_ignore_non_numeric_values(clock: SimClock) -> None:
    rule = AlertRule(name="disk", check="disk:free", threshold=1e9, op="<")
    engine = AlertEngine([rule], clock=clock)
    assert (
        engine.evaluate(report_of(clock.now(), ("disk:free", Observation.passed(value="n/a"))))
        == []
    )
    low = Observation.passed("0.5 GiB", value=5e8, unit="bytes")
    (event,) = engine.evaluate(report_of(clock.now(), ("disk:free", low)))
    assert event.alert.summary == "[disk] disk:free = 500000000.0 bytes (< 1e+09): 0.5 GiB"


def test_required_only_rules_skip_optional_checks(clock: SimClock) -> None:
    rule = AlertRule(name="req", required_only=True)
    engine = AlertEngine([rule], clock=clock)
    optional = report_of(clock.now(), ("gpu:count", status(HealthStatus.FAIL)), required=False)
    assert engine.evaluate(optional) == []


def test_one_alert_per_component_when_a_check_observes_several(clock: SimClock) -> None:
    rule = AlertRule(name="breaker-open", check="breakers:state", status=HealthStatus.WARN)
    engine = AlertEngine([rule], clock=clock)
    report = report_of(clock.now(), ("breakers:state", status(HealthStatus.PASS)))
    two = [
        Observation(HealthStatus.WARN, "open", None, "", "alpaca"),
        Observation(HealthStatus.WARN, "open", None, "", "s3"),
    ]
    check = report.checks["breakers:state"]
    report = replace(report, checks={"breakers:state": replace(check, observations=tuple(two))})
    subjects = sorted(e.alert.subject for e in engine.evaluate(report))
    assert subjects == ["breakers:state/alpaca", "breakers:state/s3"]


def test_acknowledging_a_firing_alert_keeps_the_acknowledgement_through_resolution(
    clock: SimClock,
) -> None:
    engine = AlertEngine([FAILING], clock=clock)
    (event,) = engine.evaluate(report_of(clock.now(), ("a:x", status(HealthStatus.FAIL))))
    acknowledged = engine.acknowledge(event.alert.id, clock.now())
    assert acknowledged is not None
    assert acknowledged.acknowledged_at == clock.now()
    assert engine.acknowledge("nope", clock.now()) is None
    (resolved,) = engine.evaluate(report_of(clock.now(), ("a:x", status(HealthStatus.PASS))))
    assert resolved.alert.acknowledged_at == clock.now()


def test_duplicate_rule_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unique: failing"):
        AlertEngine([FAILING, FAILING])


def test_the_default_rules_cover_failing_checks_disk_and_breakers() -> None:
    names = {r.name for r in default_rules()}
    assert {"required-check-failing", "disk-low", "breaker-open"} <= names


def test_a_rules_file_adds_and_replaces_rules_by_name(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
[[rules]]
name = "disk-low"
check = "disk:free"
threshold = 5e9
op = "<"
severity = "critical"

[[rules]]
name = "slow-redis"
check = "redis:responseTime"
threshold = 50
for_s = 120
""",
        encoding="utf-8",
    )
    rules = {r.name: r for r in merge_rules(default_rules(), load_rules(path))}
    assert rules["disk-low"].severity is AlertSeverity.CRITICAL
    assert rules["disk-low"].threshold == 5e9
    assert rules["slow-redis"].for_s == 120
    assert "required-check-failing" in rules


def test_a_bad_rules_file_names_the_rule_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nname = "x"\nthresold = 3\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.0\.thresold: Extra inputs are not permitted"):
        load_rules(path)


def test_the_default_breaker_rule_watches_each_nodes_breakers_too() -> None:
    (rule,) = [r for r in default_rules() if r.name == "breaker-open"]
    assert fnmatch.fnmatchcase("breakers:state", rule.check)
    assert fnmatch.fnmatchcase("node@sandbox:breakers", rule.check)
    assert not fnmatch.fnmatchcase("node@sandbox:broker", rule.check)
