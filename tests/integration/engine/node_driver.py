"""What ``stockyard run --broker sandbox`` does, in a process a test can kill, without the
whole CLI's import time (every command's modules): settings from the environment, the
strategy by reference, ``build_node``, SIGINT/SIGTERM → graceful stop.

``python node_driver.py SANDBOX_URL STRATEGY SYMBOLS [SECONDS]``
"""

from __future__ import annotations

import asyncio
import signal
import sys

from stockyard.bus import InProcessBus
from stockyard.config import load_settings
from stockyard.engine import NodeConfig, TradingNode, build_node
from stockyard.obs import configure_logging
from stockyard.strategy import create_strategy


async def _run(node: TradingNode, seconds: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, node.request_stop)
    await node.run(duration=seconds)


def main(argv: list[str]) -> int:
    url, reference, symbols = argv[:3]
    seconds = float(argv[3]) if len(argv) > 3 else None
    settings = load_settings()
    configure_logging(settings.log, secrets=settings.secret_values(), console_stream=sys.stderr)
    bot = create_strategy(reference, symbols=symbols.split(","))
    node = build_node(
        settings,
        strategies=[bot],
        broker="sandbox",
        bus=InProcessBus(name="node"),
        sandbox_url=url,
        config=NodeConfig(status_every_s=3600),
    )
    asyncio.run(_run(node, seconds))
    return 0 if node.failure is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
