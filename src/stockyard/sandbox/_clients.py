"""alpaca-py's clients, imported once with its one known warning silenced, and a helper
that runs a stream client in its own thread (it runs its own event loop there)."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Protocol

with warnings.catch_warnings():
    # alpaca-py (0.44) imports websockets.legacy, which websockets >= 14 deprecates on
    # import; nothing we can change, and not about code we call.
    warnings.filterwarnings(
        "ignore", "websockets.legacy is deprecated", DeprecationWarning, "websockets.legacy"
    )
    from alpaca.data.live.crypto import CryptoDataStream
    from alpaca.data.live.stock import StockDataStream
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.models import TradeUpdate as TradeUpdateModel
    from alpaca.trading.requests import MarketOrderRequest
    from alpaca.trading.stream import TradingStream

__all__ = [
    "CryptoDataStream",
    "MarketOrderRequest",
    "OrderSide",
    "StockDataStream",
    "StreamThread",
    "TimeInForce",
    "TradeUpdateModel",
    "TradingClient",
    "TradingStream",
]


class _Runnable(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


class StreamThread:
    """Run an alpaca-py stream's ``run()`` in a daemon thread; ``stop()`` ends it cleanly
    (after the server side closes, alpaca-py notices at once instead of in 5 s)."""

    def __init__(self, stream: _Runnable, *, name: str = "alpaca-stream") -> None:
        self.stream = stream
        self.thread = threading.Thread(target=stream.run, name=name, daemon=True)

    def start(self) -> StreamThread:
        self.thread.start()
        return self

    def stop(self, *, kick: Callable[[], None] | None = None, timeout: float = 10.0) -> None:
        """Ask the stream to stop, ``kick`` the server to close its socket, and join."""
        deadline = time.monotonic() + timeout
        # The stream sets its loop only once running; wait for that before asking it to stop.
        while getattr(self.stream, "_loop", None) is None and self.thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if self.thread.is_alive() and getattr(self.stream, "_loop", None) is not None:
            self.stream.stop()
        if kick is not None:
            kick()
        self.thread.join(max(deadline - time.monotonic(), 0.1))
