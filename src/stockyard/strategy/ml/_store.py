"""The model registry: models under the data directory, each with its pedigree.

Layout, under ``<data dir>/models``::

    <id>/model.txt | .skops | .npz   the model (LightGBM text, skops, torch_mlp's weights as
                                     arrays; nothing pickled)
    <id>/meta.json                   kind, label, features, symbols, data range, params,
                                     metrics in and out of sample, library versions, sha256
    promoted.json                    {name: id}: the model a bot named ``name`` runs

An id is ``<name>-<first 12 hex of the sha256>``. :meth:`ModelRegistry.load` hashes the
file and refuses it, with a clear error, when the hash is not the one in its metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockyard.strategy.ml._models import FittedModel, ModelError, library_versions, load_model
from stockyard.strategy.ml._training import TrainResult

__all__ = ["ModelIntegrityError", "ModelRecord", "ModelRegistry"]

_FILES = {"lgbm_classifier": "model.txt", "lgbm_regressor": "model.txt", "torch_mlp": "model.npz"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ModelIntegrityError(ModelError):
    """A stored model's bytes do not hash to the sha256 its metadata records."""


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One stored model: its id, metadata and whether it is the promoted one of its name."""

    model_id: str
    meta: dict[str, Any]
    promoted: bool

    @property
    def name(self) -> str:
        return str(self.meta["name"])


class ModelRegistry:
    """Models stored under ``root`` (``<data dir>/models``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def under(cls, data_dir: Path) -> ModelRegistry:
        """The registry of a data directory."""
        return cls(Path(data_dir) / "models")

    def save(
        self,
        result: TrainResult,
        *,
        name: str,
        params: Mapping[str, object],
        created_at: str,
    ) -> ModelRecord:
        """Store a trained model and its metadata; the same model saved twice is one entry."""
        if not _NAME.match(name):
            raise ModelError(f"bad model name {name!r} (lower-case letters, digits, _ . -)")
        if not result.payload:
            raise ModelError(f"nothing to store: training was refused ({result.reason})")
        model_id = f"{name}-{result.sha256[:12]}"
        folder = self.root / model_id
        filename = _FILES.get(result.kind, "model.skops")
        meta: dict[str, Any] = {
            "id": model_id,
            "name": name,
            "kind": result.kind,
            "label": result.label,
            "file": filename,
            "format": filename.rpartition(".")[2].replace("txt", "lightgbm"),
            "sha256": result.sha256,
            "features": list(result.features),
            "symbols": list(result.symbols),
            "data_start_ns": result.data_start_ns,
            "data_end_ns": result.data_end_ns,
            "train_rows": result.train_rows,
            "test_rows": result.test_rows,
            "metrics": result.metrics,
            "passed_gate": result.passed,
            "gate": result.reason,
            "top_features": list(result.top_features),
            "importance": result.importance,
            "params": dict(params),
            "libraries": library_versions(),
            "created_at": created_at,
        }
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / filename, result.payload)
        _write_atomic(folder / "meta.json", json.dumps(meta, indent=2, sort_keys=True).encode())
        return ModelRecord(model_id, meta, self._promoted().get(name) == model_id)

    def list(self) -> list[ModelRecord]:
        """Every stored model, by id."""
        if not self.root.is_dir():
            return []
        pins = self._promoted()
        records = []
        for meta_file in sorted(self.root.glob("*/meta.json")):
            meta = self._meta(meta_file.parent.name)
            records.append(ModelRecord(meta["id"], meta, pins.get(meta["name"]) == meta["id"]))
        return records

    def show(self, model_id: str) -> ModelRecord:
        """One model's record; ``model_id`` may also be a name (its promoted model)."""
        resolved = self.resolve(model_id)
        meta = self._meta(resolved)
        return ModelRecord(resolved, meta, self._promoted().get(meta["name"]) == resolved)

    def resolve(self, reference: str) -> str:
        """The id ``reference`` means: an id, or a name whose promoted model is taken."""
        if (self.root / reference / "meta.json").is_file():
            return reference
        pinned = self._promoted().get(reference)
        if pinned is not None:
            return pinned
        known = ", ".join(r.model_id for r in self.list()) or "none stored"
        raise ModelError(f"no model {reference!r} under {self.root} (known: {known})")

    def load(self, reference: str) -> tuple[FittedModel, ModelRecord]:
        """The model and its record, after checking the file's sha256 against the metadata."""
        record = self.show(reference)
        path = self.root / record.model_id / str(record.meta["file"])
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if digest != record.meta["sha256"]:
            raise ModelIntegrityError(
                f"model {record.model_id} refused: {path} hashes to {digest[:16]}…, its metadata "
                f"says {str(record.meta['sha256'])[:16]}… (the file was changed or damaged)"
            )
        features = tuple(str(f) for f in record.meta["features"])
        return load_model(str(record.meta["kind"]), payload, features=features), record

    def promote(self, model_id: str) -> ModelRecord:
        """Pin ``model_id`` as the model of its name (what bots using the name run)."""
        record = self.show(model_id)
        pins = self._promoted()
        pins[record.name] = record.model_id
        _write_atomic(self.root / "promoted.json", json.dumps(pins, indent=2).encode())
        return ModelRecord(record.model_id, record.meta, True)

    def remove(self, model_id: str, *, force: bool = False) -> ModelRecord:
        """Delete a model; a promoted one only with ``force`` (its pin is dropped too)."""
        if not (self.root / model_id / "meta.json").is_file():
            raise ModelError(f"no model {model_id!r} under {self.root}")
        record = self.show(model_id)
        pins = self._promoted()
        if record.promoted:
            if not force:
                raise ModelError(f"{model_id} is promoted for {record.name!r}; use --force")
            del pins[record.name]
            _write_atomic(self.root / "promoted.json", json.dumps(pins, indent=2).encode())
        shutil.rmtree(self.root / model_id)
        return record

    def _meta(self, model_id: str) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = json.loads((self.root / model_id / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"model {model_id!r}: unreadable metadata: {exc}") from exc
        return meta

    def _promoted(self) -> dict[str, str]:
        path = self.root / "promoted.json"
        if not path.is_file():
            return {}
        try:
            pins: dict[str, str] = json.loads(path.read_text())
        except ValueError as exc:
            raise ModelError(f"{path} is not valid JSON: {exc}") from exc
        return pins


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
