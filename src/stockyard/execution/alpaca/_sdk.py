"""alpaca-py's trading classes, imported in one place with its one known warning silenced."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # alpaca-py (0.44) imports websockets.legacy, which websockets >= 14 deprecates on
    # import; nothing we can change, and not about code we call.
    warnings.filterwarnings(
        "ignore", "websockets.legacy is deprecated", DeprecationWarning, "websockets.legacy"
    )
    from alpaca.common.exceptions import APIError
    from alpaca.trading.client import TradingClient
    from alpaca.trading.stream import TradingStream

__all__ = ["APIError", "TradingClient", "TradingStream"]
