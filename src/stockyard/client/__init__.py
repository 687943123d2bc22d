"""The typed HTTP client of a running Stockyard (floor 7): every ``/api/v1`` route, sync
(``StockyardClient``) and async (``AsyncStockyardClient``), the services' own models in
and out. ``STOCKYARD_URL`` and ``STOCKYARD_API_KEY`` configure it (defaults: the local hub
and the local admin key file)."""

from stockyard.client._async import AsyncStockyardClient
from stockyard.client._requests import ApiError, Request, default_key, default_url
from stockyard.client._sync import StockyardClient, parse_error, parse_sse

__all__ = [
    "ApiError",
    "AsyncStockyardClient",
    "Request",
    "StockyardClient",
    "default_key",
    "default_url",
    "parse_error",
    "parse_sse",
]
