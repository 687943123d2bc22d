"""``/api/v1/models`` on a real hub (uvicorn in a thread) over a registry holding a small
trained model: scopes, the 404 shape, the typed clients, and the MCP tools ``list_models``
and ``get_model`` through the SDK's client, on the local and on the HTTP backend."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from mcp import Client
from prometheus_client import CollectorRegistry

from stockyard.api import Control, HealthServer, enable_control, health_app
from stockyard.client import ApiError, AsyncStockyardClient, StockyardClient
from stockyard.config import load_settings
from stockyard.mcp import HttpBackend, LocalBackend, McpPolicy, build_server
from stockyard.services import Caller, ModelDetailView
from stockyard.store import KeyScope
from stockyard.strategy.ml import Block, ModelRegistry, TrainSpec, train_window


def _store_model(registry: ModelRegistry) -> str:
    """A tiny LightGBM model on a planted signal, stored and promoted; its id."""
    rng = np.random.default_rng(3)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    ahead = np.concatenate([np.log(close[5:] / close[:-5]), np.zeros(5)])
    x = np.column_stack([ahead + rng.normal(0, 0.001, n), rng.normal(size=n)])
    ts = np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_704_200_000_000_000_000
    block = Block(symbol="AAPL", ts=ts, close=close, high=close, low=close, x=x)
    spec = TrainSpec(horizon=5, dead_band=0.0, train=1500, test=500, embargo=5, rounds=20)
    result, _ = train_window([block], ("%signal", "%noise"), spec)
    record = registry.save(result, name="ml_direction", params={}, created_at="2024-01-02")
    return registry.promote(record.model_id).model_id


class ModelHub:
    """A hub with /api/v1 on loopback (no node) and one stored model."""

    def __init__(self, home: Path) -> None:
        self.settings = load_settings(overrides={"home": str(home)})
        data_dir = self.settings.data.dir or self.settings.home / "data"
        self.model_id = _store_model(ModelRegistry.under(data_dir))
        app = health_app(self.settings, metrics=CollectorRegistry())
        self.control: Control = enable_control(app, self.settings, host="127.0.0.1")
        self.server = HealthServer(app, host="127.0.0.1", port=0)
        self.server.start()
        made = self.control.services.access.create_key(
            "reader", KeyScope.READ, caller=Caller.local()
        )
        self.reader = made.secret

    def close(self) -> None:
        self.server.stop()
        self.control.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ModelHub]:
    made = ModelHub(tmp_path / "home")
    try:
        yield made
    finally:
        made.close()


def test_the_model_routes_need_a_key(hub: ModelHub) -> None:
    for path in ("/api/v1/models", f"/api/v1/models/{hub.model_id}"):
        answer = httpx.get(hub.server.url + path)
        assert answer.status_code == 401
        assert set(answer.json()) == {"code", "message"}


def test_a_read_key_lists_the_models_and_gets_one_with_its_importances(hub: ModelHub) -> None:
    headers = {"Authorization": f"Bearer {hub.reader}"}
    listed = httpx.get(hub.server.url + "/api/v1/models", headers=headers)
    assert listed.status_code == 200
    [row] = listed.json()
    assert (row["id"], row["promoted"], row["symbols"]) == (hub.model_id, True, ["AAPL"])
    one = httpx.get(f"{hub.server.url}/api/v1/models/{hub.model_id}", headers=headers)
    assert one.status_code == 200
    assert one.json()["importance"][0]["feature"] == "%signal"


def test_an_unknown_model_is_a_404_with_the_error_shape(hub: ModelHub) -> None:
    headers = {"Authorization": f"Bearer {hub.reader}"}
    answer = httpx.get(hub.server.url + "/api/v1/models/nope-000000000000", headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"code": "unknown_model", "message": "no model 'nope-000000000000'"}


def test_the_routes_are_in_the_openapi_document(hub: ModelHub) -> None:
    paths = httpx.get(hub.server.url + "/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/models"]
    assert "get" in paths["/api/v1/models/{model_id}"]


def test_the_sync_and_async_clients_read_the_models(hub: ModelHub) -> None:
    with StockyardClient(hub.server.url, key=hub.reader) as client:
        assert [m.id for m in client.models()] == [hub.model_id]
        assert client.model("ml_direction").id == hub.model_id
        with pytest.raises(ApiError) as caught:
            client.model("nope-000000000000")
        assert (caught.value.status, caught.value.code) == (404, "unknown_model")

    async def read() -> ModelDetailView:
        async with AsyncStockyardClient(hub.server.url, key=hub.reader) as client:
            assert [m.id for m in await client.models()] == [hub.model_id]
            return await client.model(hub.model_id)

    assert asyncio.run(read()).importance[0].feature == "%signal"


async def _tools(hub: ModelHub, backend: LocalBackend | HttpBackend) -> None:
    server = build_server(
        lambda _ctx: backend,
        reader=backend,
        policy=McpPolicy(),
        settings=hub.settings,
        transport="stdio",
    )
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        for name in ("list_models", "get_model"):
            hints = tools[name].annotations
            assert hints is not None
            assert hints.read_only_hint is True
        assert "model_id" in tools["get_model"].input_schema["properties"]
        listed = await client.call_tool("list_models", {})
        assert not listed.is_error
        assert hub.model_id in str(listed.structured_content)
        got = await client.call_tool("get_model", {"model_id": hub.model_id})
        assert not got.is_error
        assert got.structured_content is not None
        assert got.structured_content["importance"][0]["feature"] == "%signal"
        missing = await client.call_tool("get_model", {"model_id": "nope-000000000000"})
        assert missing.is_error
        assert "unknown_model" in str(missing.content)


def test_the_mcp_model_tools_answer_on_the_local_backend(hub: ModelHub) -> None:
    caller = Caller.local("mcp")
    asyncio.run(_tools(hub, LocalBackend(hub.control.services, caller)))


def test_the_mcp_model_tools_answer_on_the_http_backend(hub: ModelHub) -> None:
    async def run() -> None:
        async with AsyncStockyardClient(hub.server.url, key=hub.reader) as client:
            await _tools(hub, HttpBackend(client))

    asyncio.run(run())
