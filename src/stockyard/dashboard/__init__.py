"""The web dashboard (floor 7): server-rendered pages on the hub app at ``/``.

Jinja2 templates, one small partial per live panel swapped by htmx on the page's one event
stream, lightweight-charts for prices (all assets vendored under ``static/vendor``, nothing
fetched from elsewhere). ``mount_dashboard(app, services)`` adds the routes; every figure
comes from a service, every action goes through one.
"""

from stockyard.dashboard._app import PLOTLY_PATH, STATIC_DIR, Tab, mount_dashboard, page_paths
from stockyard.dashboard._panels import PANELS, DashboardServices, Panel
from stockyard.dashboard._session import COOKIE, CSRF_HEADER, Session, SignIn, scope_allows

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "PANELS",
    "PLOTLY_PATH",
    "STATIC_DIR",
    "DashboardServices",
    "Panel",
    "Session",
    "SignIn",
    "Tab",
    "mount_dashboard",
    "page_paths",
    "scope_allows",
]
