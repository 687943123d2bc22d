"""alpaca-py's ``TradingStream`` run as a task on our event loop, telling us when it is
listening again after a lost connection (alpaca-py reconnects on its own but says nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from stockyard.execution.alpaca._sdk import TradingStream
from stockyard.execution.alpaca._wire import trade_update_from_json
from stockyard.execution.sim import TradeUpdate
from stockyard.obs import get_logger
from stockyard.resilience import InvalidDataError

__all__ = ["UpdateStream"]

_log = get_logger("execution")


class UpdateStream(TradingStream):
    """Trade updates as our ``TradeUpdate``; ``on_reconnect`` after every reconnect."""

    def __init__(
        self,
        key_id: str,
        secret_key: str,
        *,
        url: str,
        account_id: str,
        on_update: Callable[[TradeUpdate], None],
        on_reconnect: Callable[[], None],
        reconnect_min_s: float = 1.0,
    ) -> None:
        super().__init__(key_id, secret_key, raw_data=True, url_override=url)
        self._reconnect_min_backoff = reconnect_min_s
        self._reconnect_max_backoff = max(30.0, reconnect_min_s)
        self._account_id = account_id
        self._on_update = on_update
        self._on_reconnect = on_reconnect
        self._listening = asyncio.Event()
        self.connections = 0
        self.malformed = 0
        self.subscribe_trade_updates(self._handle)

    async def serve(self) -> None:
        """Connect, listen and reconnect until ``shutdown``."""
        await self._run_forever()  # type: ignore[no-untyped-call]  # alpaca-py leaves it unannotated

    async def wait_listening(self, timeout_s: float) -> None:
        """Return once the first connection listens; ``TimeoutError`` after ``timeout_s``."""
        await asyncio.wait_for(self._listening.wait(), timeout_s)

    async def shutdown(self) -> None:
        await self.stop_ws()
        await self.close()

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("stream") == "listening":
            self.connections += 1
            self._listening.set()
            if self.connections > 1:
                self._on_reconnect()
            return
        await super()._dispatch(msg)

    async def _handle(self, msg: dict[str, Any]) -> None:
        data = msg.get("data")
        try:
            if not isinstance(data, dict):
                raise InvalidDataError("trade update without data")
            update = trade_update_from_json(data, account_id=self._account_id)
        except (InvalidDataError, KeyError, ValueError) as exc:
            self.malformed += 1
            _log.error("malformed trade update dropped", error=repr(exc))
            return
        self._on_update(update)
