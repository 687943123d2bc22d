"""The web dashboard (floor 7): server-rendered pages on the hub app at ``/``.

Jinja2 templates, one small partial per live panel swapped by htmx on the page's one event
stream, lightweight-charts for prices (all assets vendored under ``static/vendor``, nothing
fetched from elsewhere). ``mount_dashboard(app, services)`` adds the routes; every figure
comes from a service, every action goes through one (which audits it).
"""

from stockyard.dashboard._actions import KILL_WORD, RESUME_WORD, caller_of
from stockyard.dashboard._app import (
    PLOTLY_PATH,
    STATIC_DIR,
    Dashboard,
    Tab,
    mount_dashboard,
    page_paths,
)
from stockyard.dashboard._panels import PANELS, Panel
from stockyard.dashboard._session import (
    COOKIE,
    CSRF_HEADER,
    Session,
    SignIn,
    link_file,
    local_admin_token,
    scope_allows,
    write_sign_in_link,
)

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "KILL_WORD",
    "PANELS",
    "PLOTLY_PATH",
    "RESUME_WORD",
    "STATIC_DIR",
    "Dashboard",
    "Panel",
    "Session",
    "SignIn",
    "Tab",
    "caller_of",
    "link_file",
    "local_admin_token",
    "mount_dashboard",
    "page_paths",
    "scope_allows",
    "write_sign_in_link",
]
