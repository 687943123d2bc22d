"""The typed client, sync and async, against a real hub (no node): errors as ``ApiError``,
keys, and a backtest launched over the API whose progress is on the event stream and whose
result is fetched by id."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter

from stockyard.api import Control, HealthServer, enable_control, health_app
from stockyard.client import (
    ApiError,
    AsyncStockyardClient,
    Request,
    StockyardClient,
    default_key,
)
from stockyard.config import load_settings
from stockyard.services import (
    BacktestSpec,
    CompareSpec,
    JobState,
    JobView,
    MonteCarloSpec,
    WalkForwardSpec,
    admin_key_path,
)


class Hub:
    def __init__(self, home: Path) -> None:
        self.settings = load_settings(overrides={"home": str(home)})
        app = health_app(self.settings, metrics=CollectorRegistry())
        self.control: Control = enable_control(app, self.settings, host="127.0.0.1")
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        self.admin = admin_key_path(self.settings.home).read_text().strip()

    def close(self) -> None:
        self.server.stop()
        self.control.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    made = Hub(tmp_path / "home")
    try:
        yield made
    finally:
        made.close()


def test_the_key_defaults_to_the_environment_then_the_admin_key_file(hub: Hub) -> None:
    home = str(hub.settings.home)
    assert default_key({"STOCKYARD_HOME": home}) == hub.admin
    assert default_key({"STOCKYARD_HOME": home, "STOCKYARD_API_KEY": "sy_x_y"}) == "sy_x_y"
    assert admin_key_path(hub.settings.home).stat().st_mode & 0o777 == 0o600


def test_errors_come_back_as_api_errors_with_code_and_message(hub: Hub) -> None:
    with StockyardClient(hub.server.url, key=hub.admin) as client:
        with pytest.raises(ApiError) as no_node:
            client.positions()
        assert (no_node.value.status, no_node.value.code) == (503, "no_node")
        with pytest.raises(ApiError) as unknown:
            client.job("nope")
        assert unknown.value.status == 404
    with StockyardClient(hub.server.url, key="sy_000000_wrong") as client:
        with pytest.raises(ApiError) as wrong:
            client.jobs()
        assert wrong.value.status == 401
    with StockyardClient("http://127.0.0.1:9", key="x") as client:
        with pytest.raises(ApiError) as down:
            client.jobs()
        assert down.value.code == "unreachable"
        assert "stockyard up" in down.value.message


def test_a_backtest_over_the_api_reports_progress_on_the_event_stream_and_its_result_is_fetched(
    hub: Hub,
) -> None:
    spec = BacktestSpec(
        strategy="sma_cross",
        symbols=["AAPL"],
        start=date(2024, 1, 2),
        end=date(2024, 1, 5),
        source="synthetic",
        params={"fast": 5, "slow": 20, "qty": 10},
    )
    with StockyardClient(hub.server.url, key=hub.admin) as client:
        job = client.backtest(spec)
        assert job.state in (JobState.QUEUED, JobState.RUNNING)
        seen: list[tuple[str, float]] = []
        for event in client.events("jobs", last_event_id=0):
            assert event.subject == job.id
            seen.append((str(event.data["state"]), float(str(event.data["progress"]))))
            if event.data["state"] in ("done", "failed", "canceled"):
                break
        done = client.job(job.id)
        assert done.state is JobState.DONE, done.error
        assert seen[-1] == ("done", 1.0)
        assert ("running", 0.0) in seen
        assert done.result_id is not None
        run = client.run(done.result_id)
        assert "metrics" in run
        assert [r.id for r in client.runs()] == [done.result_id]
        audit = client.audit(action="jobs.backtest")
        assert [(a.key_name, a.ok) for a in audit] == [("local-admin", True)]


def test_a_queued_job_is_canceled_and_a_bad_spec_is_refused(hub: Hub) -> None:
    spec = BacktestSpec(
        strategy="sma_cross",
        symbols=["AAPL", "MSFT"],
        start=date(2024, 1, 2),
        end=date(2024, 3, 29),
        source="synthetic",
    )
    with StockyardClient(hub.server.url, key=hub.admin) as client:
        with pytest.raises(ApiError) as bad:
            client.send(Request("POST", "/research/backtests", TypeAdapter(JobView), {}, {}))
        assert (bad.value.status, bad.value.code) == (422, "invalid_request")
        first = client.backtest(spec)
        second = client.backtest(spec)
        canceled = client.cancel_job(second.id)
        assert canceled.state is JobState.CANCELED
        client.cancel_job(first.id)
        deadline = time.monotonic() + 60
        while client.job(first.id).state in (JobState.QUEUED, JobState.RUNNING):
            assert time.monotonic() < deadline, "the first job never ended"
            time.sleep(0.05)
        assert client.job(second.id).state is JobState.CANCELED


def test_the_async_client_makes_lists_and_revokes_keys(hub: Hub) -> None:
    async def scenario() -> None:
        async with AsyncStockyardClient(hub.server.url, key=hub.admin) as client:
            made = await client.create_key("robot", "trade")
            assert made.secret.startswith("sy_")
            names = [k.name for k in await client.keys()]
            assert names == ["local-admin", "robot"]
            async with AsyncStockyardClient(hub.server.url, key=made.secret) as robot:
                assert await robot.jobs() == []
                with pytest.raises(ApiError) as forbidden:
                    await robot.keys()
                assert forbidden.value.status == 403
                revoked = await client.revoke_key("robot")
                assert not revoked.active
                with pytest.raises(ApiError) as gone:
                    await robot.jobs()
                assert gone.value.status == 401

    asyncio.run(scenario())


def _finished(client: StockyardClient, job_id: str) -> JobView:
    deadline = time.monotonic() + 120
    while (job := client.job(job_id)).state in (JobState.QUEUED, JobState.RUNNING):
        assert time.monotonic() < deadline, f"job {job_id} never ended"
        time.sleep(0.05)
    return job


def test_monte_carlo_comparison_and_walk_forward_jobs_run_over_the_api(hub: Hub) -> None:
    bars = {"symbols": ["AAPL"], "start": date(2024, 1, 2), "end": date(2024, 1, 12)}
    with StockyardClient(hub.server.url, key=hub.admin) as client:
        run = _finished(
            client,
            client.backtest(
                BacktestSpec(
                    strategy="sma_cross",
                    source="synthetic",
                    params={"fast": 5, "slow": 20},
                    **bars,
                )
            ).id,
        )
        assert run.result_id is not None
        mc = _finished(
            client, client.montecarlo(MonteCarloSpec(run_id=run.result_id, paths=200)).id
        )
        assert mc.state is JobState.DONE, mc.error
        assert mc.result
        compared = _finished(
            client,
            client.compare(
                CompareSpec(
                    entries=["sma_cross:fast=5,slow=20", "sma_cross:fast=10,slow=40"],
                    source="synthetic",
                    **bars,
                )
            ).id,
        )
        assert compared.state is JobState.DONE, compared.error
        assert compared.result is not None
        assert len(compared.result["runs"]) == 2
        walked = _finished(
            client,
            client.walkforward(
                WalkForwardSpec(
                    strategy="sma_cross",
                    space={"fast": "3,5", "slow": "20"},
                    train="3d",
                    test="2d",
                    source="synthetic",
                    **bars,
                )
            ).id,
        )
        assert walked.state is JobState.DONE, walked.error
        with pytest.raises(ApiError) as unknown:
            client.montecarlo(MonteCarloSpec(run_id="abcdef123456"))
        assert unknown.value.status == 404
