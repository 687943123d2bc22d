"""The REST API (floor 7): health, metrics and alerts on 127.0.0.1:5555, and ``/api/v1``
(``enable_control``: the services' routes with API keys, the audit log and live events).

``health_app(settings)`` builds the app (database migrated, ``HealthService`` with the
built-in checks); ``HealthServer(app, host=..., port=...)`` serves it from a thread.
"""

from stockyard.api._app import build_health_service, create_app, health_app
from stockyard.api._auth import bearer_guard
from stockyard.api._routes import HEALTH_JSON
from stockyard.api._server import HealthServer
from stockyard.api._v1 import API_PREFIX, Control, enable_control, first_admin_key, mount_api_v1

__all__ = [
    "API_PREFIX",
    "HEALTH_JSON",
    "Control",
    "HealthServer",
    "bearer_guard",
    "build_health_service",
    "create_app",
    "enable_control",
    "first_admin_key",
    "health_app",
    "mount_api_v1",
    "run_health_benchmark",
]
