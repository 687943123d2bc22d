"""Constants the sandbox fixture and the tests share."""

from __future__ import annotations

from datetime import UTC, datetime

KEY, SECRET = "TESTKEY", "test-secret"
HEADERS = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
# Monday 4 March 2024, 10:00 New York: the market is open.
START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
SYMBOLS = ("AAPL", "MSFT", "BTC/USD")
