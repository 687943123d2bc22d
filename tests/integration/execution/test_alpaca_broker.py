"""AlpacaBroker under the order manager against a real sandbox: submit, fill on the stream,
cancel, replace, duplicate ids, missed fills and a dropped stream."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr
from sandbox_env import HEADERS, KEY, SECRET

from stockyard.config import AlpacaSettings, ConfigError
from stockyard.core import (
    Fill,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    WallClock,
)
from stockyard.execution import DuplicateClientOrderIdError
from stockyard.execution.alpaca import AlpacaBroker
from stockyard.execution.oms import InMemoryOrderJournal, OmsConfig, OrderManager, OrderPhase
from stockyard.resilience import CircuitBreaker, ErrorRegistry
from stockyard.sandbox import SandboxServer


def broker_for(server: SandboxServer, **options: object) -> AlpacaBroker:
    return AlpacaBroker(
        key_id=KEY,
        secret_key=SECRET,
        base_url=server.base_url,
        reconnect_min_s=0.05,
        retry_sleep=_no_wait,
        **options,  # type: ignore[arg-type]
    )


async def _no_wait(_seconds: float) -> None:
    return None


async def until(check: Callable[[], object], what: str, limit_s: float = 10.0) -> None:
    """Poll on the event loop (so stream callbacks run) until ``check`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def market(side: OrderSide, qty: str, symbol: str = "AAPL") -> OrderRequest:
    tif = TimeInForce.GTC if "/" in symbol else TimeInForce.DAY
    return OrderRequest(symbol=symbol, side=side, qty=Decimal(qty), time_in_force=tif)


def limit(side: OrderSide, qty: str, price: str) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL", side=side, qty=Decimal(qty), type=OrderType.LIMIT, limit_price=Decimal(price)
    )


def test_a_market_order_is_sent_filled_on_the_stream_and_recorded_once(
    sandbox: SandboxServer,
) -> None:
    async def scenario() -> None:
        broker = broker_for(sandbox)
        journal = InMemoryOrderJournal()
        manager = OrderManager(broker=broker, journal=journal, clock=WallClock().now)
        fills: list[Fill] = []
        manager.add_fill_listener(lambda _s, f: fills.append(f))
        await manager.start()
        try:
            view = await manager.submit("bot", market(OrderSide.BUY, "10"))
            assert view.client_order_id == "bot-0"
            assert view.broker_order_id
            await until(lambda: fills, "the fill on the stream")
            done = manager.order("bot-0")
            assert done is not None
            assert done.status is OrderStatus.FILLED
            assert fills[0].qty == Decimal(10)
            assert fills[0].client_order_id == "bot-0"
            positions = await broker.positions()
            assert [(p.symbol, p.qty) for p in positions] == [("AAPL", Decimal(10))]
            report = await manager.reconcile()  # the REST activity is the same fill
            assert report.fills_recorded == 0
            assert report.position_differences == {}
            assert [f.id for f in await broker.fills()] == [fills[0].id]
        finally:
            await manager.stop()

    run(scenario)


def test_a_resting_order_is_replaced_then_canceled(sandbox: SandboxServer) -> None:
    async def scenario() -> None:
        broker = broker_for(sandbox)
        manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=WallClock().now)
        await manager.start()
        try:
            first = await manager.submit("bot", limit(OrderSide.BUY, "5", "1.00"))
            assert first.status is OrderStatus.NEW
            second = await manager.replace("bot-0", limit_price=Decimal("2.00"))
            assert second.client_order_id == "bot-1"
            assert second.status is OrderStatus.NEW
            await until(
                lambda: manager.order("bot-0").status is OrderStatus.REPLACED,  # type: ignore[union-attr]
                "the old order replaced",
            )
            await manager.cancel("bot-1")
            await until(
                lambda: manager.order("bot-1").status is OrderStatus.CANCELED,  # type: ignore[union-attr]
                "the cancel",
            )
            assert manager.open_orders() == []
            assert await broker.open_orders() == []
        finally:
            await manager.stop()

    run(scenario)


def test_a_refusal_and_a_duplicate_client_order_id_come_back_as_our_errors(
    sandbox: SandboxServer,
) -> None:
    async def scenario() -> None:
        broker = broker_for(sandbox)
        manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=WallClock().now)
        await manager.start()
        try:
            refused = await manager.submit("bot", market(OrderSide.BUY, "100000"))
            assert refused.status is OrderStatus.REJECTED
            assert refused.detail == "403 insufficient buying power"
            request = OrderRequest(
                symbol="AAPL", side=OrderSide.BUY, qty=Decimal(1), client_order_id="dup-1"
            )
            await broker.submit(request)
            with pytest.raises(DuplicateClientOrderIdError, match="must be unique"):
                await broker.submit(request)
            assert (await broker.get_order_by_client_id("dup-1")) is not None
            assert (await broker.get_order_by_client_id("never-sent")) is None
        finally:
            await manager.stop()

    run(scenario)


def test_after_the_stream_drops_the_manager_reconciles_what_it_missed(
    sandbox: SandboxServer,
) -> None:
    async def scenario() -> None:
        broker = broker_for(sandbox)
        manager = OrderManager(broker=broker, journal=InMemoryOrderJournal(), clock=WallClock().now)
        await manager.start()
        try:
            view = await manager.submit("bot", limit(OrderSide.BUY, "5", "1.00"))
            sandbox.disconnect_streams()
            async with httpx.AsyncClient(base_url=sandbox.base_url, headers=HEADERS) as http:
                answer = await http.delete(f"/v2/orders/{view.broker_order_id}")
                assert answer.status_code == 204  # canceled behind the manager's back
            await until(lambda: manager.stats()["reconnects"] >= 1, "the reconnect", 15)
            await manager.settled()
            done = manager.order("bot-0")
            assert done is not None
            assert done.status is OrderStatus.CANCELED
            assert done.phase is OrderPhase.DONE
        finally:
            await manager.stop()

    run(scenario)


def test_a_restarted_manager_adopts_an_order_that_arrived_before_the_crash(
    sandbox: SandboxServer,
) -> None:
    async def scenario() -> None:
        journal = InMemoryOrderJournal()
        first = OrderManager(broker=broker_for(sandbox), journal=journal, clock=WallClock().now)
        await first.start()
        prepared = first.prepare("bot", limit(OrderSide.BUY, "2", "1.00"))
        await first.stop()  # "crashed" as it sent the order, before hearing back
        wire = broker_for(sandbox)
        await wire.connect()
        await wire.submit(prepared.request)
        await wire.close()
        second = OrderManager(broker=broker_for(sandbox), journal=journal, clock=WallClock().now)
        report = await second.start()
        try:
            assert report.adopted == ("bot-0",)
            assert report.resubmitted == ()
            assert len(await second.broker.open_orders()) == 1
        finally:
            await second.stop()

    run(scenario)


def test_keys_come_from_settings_and_missing_ones_are_named() -> None:
    settings = AlpacaSettings(key_id=SecretStr("k"), secret_key=None)
    with pytest.raises(ConfigError, match=r"alpaca\.secret_key is required"):
        AlpacaBroker.from_settings(settings)
    ok = AlpacaBroker.from_settings(
        AlpacaSettings(key_id=SecretStr("k"), secret_key=SecretStr("s"))
    )
    assert ok.base_url == "http://127.0.0.1:8765"
    assert ok.stream_url == "ws://127.0.0.1:8765/stream"


def test_under_injected_errors_and_timeouts_every_order_reaches_the_broker_exactly_once(
    sandbox: SandboxServer,
) -> None:
    faults = {"seed": 7, "error_rates": {"503": 0.2}, "timeout_rate": 0.05, "timeout_s": 1}

    async def scenario() -> None:
        broker = broker_for(
            sandbox,
            timeout_s=0.3,
            retry_attempts=10,
            breaker=CircuitBreaker("alpaca.test", failure_threshold=1000),
        )
        manager = OrderManager(
            broker=broker,
            journal=InMemoryOrderJournal(),
            clock=WallClock().now,
            config=OmsConfig(submit_attempts=8),
            sleep=_no_wait,
        )
        await manager.start()
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers=HEADERS) as http:
            assert (await http.post("/sandbox/faults", json=faults)).status_code == 200
            try:
                for i in range(30):
                    side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
                    await manager.submit("bot", market(side, "1"))
            finally:
                assert (await http.post("/sandbox/faults", json={})).status_code == 200
            await manager.reconcile()
            await until(lambda: not manager.open_orders(), "every order done")
            listed = (await http.get("/v2/orders", params={"status": "all", "limit": 500})).json()
        await manager.stop()
        coids = sorted(o["client_order_id"] for o in listed)
        assert coids == sorted(f"bot-{i}" for i in range(30))
        assert all(o["status"] == "filled" for o in listed)
        assert manager.stats()["fills_recorded"] == 30

    run(scenario)


def test_the_breaker_counts_what_the_caller_sees_not_each_retried_attempt(
    sandbox: SandboxServer,
) -> None:
    faults = {"seed": 3, "error_rates": {"503": 0.3}}

    async def scenario() -> None:
        registry = ErrorRegistry()
        breaker = CircuitBreaker("alpaca.retried", failure_threshold=3, window_s=600.0)
        broker = broker_for(sandbox, retry_attempts=10, breaker=breaker, registry=registry)
        await broker.connect()
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers=HEADERS) as http:
            assert (await http.post("/sandbox/faults", json=faults)).status_code == 200
            try:
                for _ in range(40):
                    await broker.positions()
            finally:
                assert (await http.post("/sandbox/faults", json={})).status_code == 200
        await broker.close()
        # Many attempts failed (each would have counted before: 3 open the breaker) ...
        assert registry.total >= 5
        # ... but every call succeeded in the end, so the breaker saw no failure at all.
        snapshot = breaker.snapshot()
        assert snapshot["state"] == "closed"
        assert snapshot["failures_in_window"] == 0
        assert snapshot["calls"] == {"admitted": 41, "succeeded": 41}

    run(scenario)
