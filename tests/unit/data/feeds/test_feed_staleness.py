from __future__ import annotations

import asyncio

import pytest

from stockyard.data.feeds import StalenessMonitor


def test_silence_past_the_timeout_fires_the_reconnect_once_per_silence() -> None:
    now = [0.0]
    calls: list[float] = []

    async def reconnect() -> None:
        calls.append(now[0])

    monitor = StalenessMonitor(timeout_s=5.0, on_stale=reconnect, clock=lambda: now[0])

    async def scenario() -> list[bool]:
        fired = []
        now[0] = 5.0
        fired.append(await monitor.check())  # exactly the timeout: not yet
        now[0] = 5.5
        fired.append(await monitor.check())
        fired.append(await monitor.check())  # same silence: once only
        now[0] = 11.0
        fired.append(await monitor.check())  # still silent a whole timeout later: again
        monitor.touch()
        now[0] = 12.0
        fired.append(await monitor.check())
        return fired

    assert asyncio.run(scenario()) == [False, True, False, True, False]
    assert calls == [5.5, 11.0]
    assert monitor.stale_count == 2


def test_a_failing_reconnect_is_logged_not_raised() -> None:
    now = [0.0]

    def reconnect() -> None:
        raise ConnectionError("venue down")

    monitor = StalenessMonitor(timeout_s=1.0, on_stale=reconnect, clock=lambda: now[0])
    now[0] = 2.0
    assert asyncio.run(monitor.check())
    with pytest.raises(ValueError, match="timeout_s"):
        StalenessMonitor(timeout_s=0, on_stale=reconnect)
