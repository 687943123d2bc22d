"""Health checks, alerts and metric history (floor 1; the SQL stores live in ``store``).

Components register checks in a ``HealthRegistry``; a ``HealthService`` runs them in the
background every interval, each under a timeout, evaluates ``AlertRule``s over the reports,
notifies, and samples metrics into a ``MetricsHistory``. ``stockyard.api`` serves it.

Adding a check from a later layer::

    registry.add(HealthCheck("bus", "lag", check_bus_lag, "component"))

where ``check_bus_lag`` is a sync or async callable returning an ``Observation``.
"""

from stockyard.obs import metrics_registry
from stockyard.obs.health._alerts import (
    Alert,
    AlertEngine,
    AlertEvent,
    AlertRule,
    AlertSeverity,
    AlertState,
    default_rules,
    load_rules,
    merge_rules,
)
from stockyard.obs.health._checks import Thresholds, builtin_health_checks
from stockyard.obs.health._history import (
    AlertStore,
    InMemoryAlertStore,
    InMemoryMetricsHistory,
    MetricSample,
    MetricsHistory,
    parse_since,
    samples_from_report,
)
from stockyard.obs.health._model import (
    CheckFunction,
    CheckReport,
    HealthCheck,
    HealthReport,
    HealthStatus,
    Observation,
    ObservedValue,
)
from stockyard.obs.health._notify import (
    AppriseNotifier,
    LogNotifier,
    Notifier,
    WebhookNotifier,
    build_notifiers,
    event_payload,
)
from stockyard.obs.health._prometheus import METRIC_NAMES, HealthCollector
from stockyard.obs.health._runner import CheckRunner, Clock, HealthRegistry, utc_now
from stockyard.obs.health._service import HealthService, rules_from_settings

__all__ = [
    "METRIC_NAMES",
    "Alert",
    "AlertEngine",
    "AlertEvent",
    "AlertRule",
    "AlertSeverity",
    "AlertState",
    "AlertStore",
    "AppriseNotifier",
    "CheckFunction",
    "CheckReport",
    "CheckRunner",
    "Clock",
    "HealthCheck",
    "HealthCollector",
    "HealthRegistry",
    "HealthReport",
    "HealthService",
    "HealthStatus",
    "InMemoryAlertStore",
    "InMemoryMetricsHistory",
    "LogNotifier",
    "MetricSample",
    "MetricsHistory",
    "Notifier",
    "Observation",
    "ObservedValue",
    "Thresholds",
    "WebhookNotifier",
    "build_notifiers",
    "builtin_health_checks",
    "default_rules",
    "event_payload",
    "load_rules",
    "merge_rules",
    "metrics_registry",
    "parse_since",
    "rules_from_settings",
    "samples_from_report",
    "utc_now",
]
