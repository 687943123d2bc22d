"""The Model service: the ML bots' model registry (``<data dir>/models``), read-only.

Every face reads models through here (REST ``/api/v1/models``, the MCP tools
``list_models`` and ``get_model``); training, promoting and removing stay with
``stockyard ml`` (see docs/ml.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from stockyard.services._errors import ServiceError
from stockyard.strategy.ml import ModelError, ModelRecord, ModelRegistry

__all__ = ["FeatureWeight", "ModelDetailView", "ModelService", "ModelView"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
_TOP = 10


class ModelView(BaseModel):
    """One stored model: what it is, what it learned from, how it scored, its hash."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = Field(description="the registry name; bots of this strategy name run its pin")
    kind: str
    label: str
    symbols: list[str]
    created_at: str
    data_start: datetime
    data_end: datetime
    train_rows: int
    test_rows: int
    in_sample: dict[str, float] = Field(description="metrics on the training rows")
    out_of_sample: dict[str, float] = Field(description="metrics on the purged test tail")
    passed_gate: bool
    gate: str
    promoted: bool = Field(description="pinned as the model its name's bots run")
    sha256: str


class FeatureWeight(BaseModel):
    """A feature and its importance (gain, or |coefficient| on scaled features)."""

    model_config = ConfigDict(frozen=True)

    feature: str
    importance: float


class ModelDetailView(ModelView):
    """A model with its top feature importances, features, parameters and libraries."""

    importance: list[FeatureWeight]
    features: list[str]
    params: dict[str, Any]
    libraries: dict[str, str]


def _at(ns: object) -> datetime:
    return datetime.fromtimestamp(int(str(ns)) / 1e9, tz=UTC)


def _metrics(meta: dict[str, Any], prefix: str) -> dict[str, float]:
    found: dict[str, Any] = meta.get("metrics") or {}
    return {k.removeprefix(prefix): float(v) for k, v in found.items() if k.startswith(prefix)}


def _fields(record: ModelRecord) -> dict[str, Any]:
    meta = record.meta
    return {
        "id": record.model_id,
        "name": record.name,
        "kind": str(meta["kind"]),
        "label": str(meta["label"]),
        "symbols": [str(s) for s in meta["symbols"]],
        "created_at": str(meta.get("created_at", "")),
        "data_start": _at(meta["data_start_ns"]),
        "data_end": _at(meta["data_end_ns"]),
        "train_rows": int(meta["train_rows"]),
        "test_rows": int(meta["test_rows"]),
        "in_sample": _metrics(meta, "in_sample_"),
        "out_of_sample": _metrics(meta, "out_of_sample_"),
        "passed_gate": bool(meta["passed_gate"]),
        "gate": str(meta["gate"]),
        "promoted": record.promoted,
        "sha256": str(meta["sha256"]),
    }


def _detail(record: ModelRecord, top: int) -> ModelDetailView:
    meta = record.meta
    weights: dict[str, Any] = meta.get("importance") or {}
    ranked = sorted(weights.items(), key=lambda kv: (-float(kv[1]), kv[0]))[:top]
    return ModelDetailView(
        **_fields(record),
        importance=[FeatureWeight(feature=k, importance=float(v)) for k, v in ranked],
        features=[str(f) for f in meta.get("features", [])],
        params=dict(meta.get("params") or {}),
        libraries={str(k): str(v) for k, v in (meta.get("libraries") or {}).items()},
    )


class ModelService:
    """Reads of one model registry (never the model files themselves)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    @classmethod
    def under(cls, data_dir: Path) -> ModelService:
        """The service over a data directory's registry."""
        return cls(ModelRegistry.under(data_dir))

    async def models(self) -> list[ModelView]:
        """Every stored model, by id."""
        try:
            records = await run_in_threadpool(self.registry.list)
        except (ModelError, KeyError, ValueError) as exc:
            raise ServiceError("bad_registry", _public(exc), status=503) from None
        return [ModelView(**_fields(r)) for r in records]

    async def model(self, model_id: str, *, top: int = _TOP) -> ModelDetailView:
        """One model by id (or by name: its promoted model), with its ``top`` importances."""
        if not _ID.fullmatch(model_id) or ".." in model_id:
            raise ServiceError("unknown_model", f"no model {model_id[:64]!r}", status=404)
        try:
            record = await run_in_threadpool(self.registry.show, model_id)
        except ModelError:
            raise ServiceError("unknown_model", f"no model {model_id!r}", status=404) from None
        except (KeyError, ValueError) as exc:
            raise ServiceError("bad_registry", _public(exc), status=503) from None
        return _detail(record, max(1, top))


def _public(exc: Exception) -> str:
    """The error without the server's paths."""
    return f"the model registry could not be read ({type(exc).__name__})"
