"""What the node's integration tests share: a sandbox in this process, the node run as a
real ``stockyard run`` process (killable), and the sandbox's books read back exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.sandbox.conftest import KEY, SECRET

from stockyard.sandbox import SandboxServer

HERE = Path(__file__).parent
DRIVER = HERE / "node_driver.py"
CHURN = f"{HERE / 'churn_bot.py'}:Churn"


def wait_for(check: Callable[[], object], *, within: float, what: str) -> None:
    """Poll ``check`` until truthy; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def node_process(
    server: SandboxServer, home: Path, *, symbols: str, seconds: float | None = None
) -> subprocess.Popen[bytes]:
    """The churn bot's node (``node_driver.py``) against ``server``, state under ``home``;
    its stderr goes to ``home/node-stderr.log`` (appended)."""
    env = {
        **os.environ,
        "STOCKYARD_HOME": str(home),
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, str(DRIVER), server.base_url, CHURN, symbols]
    if seconds is not None:
        command.append(str(seconds))
    with (home / "node-stderr.log").open("ab") as stderr:
        return subprocess.Popen(  # our interpreter, our driver, fixed arguments
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )


def stderr_tail(home: Path) -> str:
    """The end of what the node processes wrote to stderr (for a failure message)."""
    return (home / "node-stderr.log").read_text(errors="replace")[-3000:]


def sandbox_orders(server: SandboxServer) -> dict[str, dict[str, object]]:
    """Every order the sandbox holds, by client order id (all of them, not a page)."""
    with server.sandbox.locked() as exchange:
        rows = exchange.snapshot()["orders"]
    assert isinstance(rows, list)
    orders: dict[str, dict[str, object]] = {}
    for row in rows:
        order = row["order"]
        coid = str(order["client_order_id"])
        assert coid not in orders, f"the sandbox holds two orders with client_order_id {coid}"
        orders[coid] = order
    return orders


def sandbox_positions(server: SandboxServer) -> dict[str, Decimal]:
    with server.sandbox.locked() as exchange:
        return {p.symbol: p.qty for p in exchange.positions(server.config.account_id) if p.qty}


def sandbox_fill_ids(server: SandboxServer) -> set[str]:
    with server.sandbox.locked() as exchange:
        return {f.id for f in exchange.fills(server.config.account_id)}
