"""The optional torch model, ``torch_mlp``: a small multi-layer perceptron classifier.

Training needs the ``torch`` extra (``pip install stockyard[torch]``) and uses a CUDA GPU
when one is present, else the CPU; it is seeded and runs with torch's deterministic
algorithms. Scoring does not need torch: the weights are stored as plain arrays (``.npy``
files in a zip with fixed timestamps, read with ``allow_pickle=False``: nothing executes on
load) and a bar is scored with numpy in a few microseconds.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import zipfile
from types import ModuleType

import numpy as np

__all__ = ["TORCH_KIND", "mlp_bytes", "mlp_from_bytes", "mlp_score", "torch_device", "train_mlp"]

TORCH_KIND = "torch_mlp"
_ORDER = ("mean", "scale", "w1", "b1", "w2", "b2")


def _torch() -> ModuleType:
    """torch, imported on first use (seconds to import, and an optional extra)."""
    if importlib.util.find_spec("torch") is None:
        raise ImportError("torch_mlp needs the torch extra: pip install 'stockyard[torch]'")
    return importlib.import_module("torch")


def torch_device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    return "cuda" if _torch().cuda.is_available() else "cpu"


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    hidden: int = 32,
    epochs: int = 30,
    batch: int = 1024,
) -> dict[str, np.ndarray]:
    """Fit a one-hidden-layer MLP (ReLU, logistic output) with Adam; its weights as arrays,
    with the standardisation fitted on ``x`` (the training rows) only."""
    torch = _torch()
    device = torch_device()
    if device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = torch.tensor((x - mean) / scale, dtype=torch.float32, device=device)
    ys = torch.tensor(y, dtype=torch.float32, device=device).reshape(-1, 1)
    model = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
    ).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    order = torch.Generator(device="cpu").manual_seed(seed)
    for _epoch in range(epochs):
        permutation = torch.randperm(xs.shape[0], generator=order).to(device)
        for start in range(0, xs.shape[0], batch):
            rows = permutation[start : start + batch]
            optimiser.zero_grad()
            loss = loss_fn(model(xs[rows]), ys[rows])
            loss.backward()
            optimiser.step()
    first, last = model[0], model[2]
    return {
        "mean": mean.astype(np.float64),
        "scale": scale.astype(np.float64),
        "w1": first.weight.detach().cpu().numpy().astype(np.float64),
        "b1": first.bias.detach().cpu().numpy().astype(np.float64),
        "w2": last.weight.detach().cpu().numpy().astype(np.float64),
        "b2": last.bias.detach().cpu().numpy().astype(np.float64),
    }


def mlp_score(weights: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """P(up) per row, in numpy."""
    z = (np.atleast_2d(rows) - weights["mean"]) / weights["scale"]
    hidden = np.maximum(z @ weights["w1"].T + weights["b1"], 0.0)
    logit = hidden @ weights["w2"].T + weights["b2"]
    out: np.ndarray = 1.0 / (1.0 + np.exp(-logit[:, 0]))
    return out


def mlp_bytes(weights: dict[str, np.ndarray]) -> bytes:
    """The weights as a zip of ``.npy`` files with fixed timestamps (same weights, same bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in _ORDER:
            buffer = io.BytesIO()
            np.lib.format.write_array(
                buffer, np.ascontiguousarray(weights[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())
    return out.getvalue()


def mlp_from_bytes(payload: bytes) -> dict[str, np.ndarray]:
    """Weights from :func:`mlp_bytes`' bytes (``allow_pickle=False``: arrays only)."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {
            name: np.lib.format.read_array(
                io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False
            )
            for name in _ORDER
        }
