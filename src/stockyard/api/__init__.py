"""The REST API (floor 6): health, metrics and alerts on 127.0.0.1:5555.

``health_app(settings)`` builds the app (database migrated, ``HealthService`` with the
built-in checks); ``HealthServer(app, host=..., port=...)`` serves it from a thread.
"""

from stockyard.api._app import build_health_service, create_app, health_app
from stockyard.api._auth import bearer_guard
from stockyard.api._routes import HEALTH_JSON
from stockyard.api._server import HealthServer

__all__ = [
    "HEALTH_JSON",
    "HealthServer",
    "bearer_guard",
    "build_health_service",
    "create_app",
    "health_app",
]
