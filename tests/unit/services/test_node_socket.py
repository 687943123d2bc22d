"""Where a node's socket lives: under the home, or a short runtime path when the home is
too deep for a Unix socket path (at most 107 bytes)."""

from __future__ import annotations

import os
from pathlib import Path

from stockyard.orchestrator import MAX_SOCKET_PATH
from stockyard.services import node_socket_path


def test_a_shallow_home_holds_the_socket_under_run(tmp_path: Path) -> None:
    path = node_socket_path(tmp_path, "main")
    assert path == tmp_path.resolve() / "run" / "node-main.sock"


def test_a_deep_home_falls_back_to_a_short_stable_runtime_path(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["d" * 30] * 5))
    path = node_socket_path(deep, "main")
    assert len(os.fsencode(path)) <= MAX_SOCKET_PATH
    assert path == node_socket_path(deep, "main")
    assert path != node_socket_path(deep, "other")
    assert path.name.endswith(".sock")
