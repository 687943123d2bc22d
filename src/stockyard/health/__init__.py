"""Health checks, alerts and metric history (floor 2; the SQL stores live in ``store``).

On floor 2 because it reads the layers of floor 1: logging statistics (``obs``), the
handled errors and circuit breakers (``resilience``) and the settings (``config``);
``resilience`` logs through ``obs``, so neither of those imports the other sideways.

Components register checks in a ``HealthRegistry``; a ``HealthService`` runs them in the
background every interval, each under a timeout, evaluates ``AlertRule``s over the reports,
notifies, and samples metrics into a ``MetricsHistory``. ``stockyard.api`` serves it.

Adding a check from a later layer::

    registry.add(HealthCheck("bus", "lag", check_bus_lag, "component"))

where ``check_bus_lag`` is a sync or async callable returning an ``Observation``.
"""

from stockyard.health._alerts import (
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
from stockyard.health._checks import Thresholds, builtin_health_checks
from stockyard.health._history import (
    AlertStore,
    InMemoryAlertStore,
    InMemoryMetricsHistory,
    MetricSample,
    MetricsHistory,
    parse_since,
    samples_from_report,
)
from stockyard.health._model import (
    CheckFunction,
    CheckReport,
    HealthCheck,
    HealthReport,
    HealthStatus,
    Observation,
    ObservedValue,
)
from stockyard.health._notify import (
    AppriseNotifier,
    LogNotifier,
    Notifier,
    WebhookNotifier,
    build_notifiers,
    event_payload,
)
from stockyard.health._prometheus import METRIC_NAMES, HealthCollector
from stockyard.health._runner import CheckRunner, HealthRegistry
from stockyard.health._service import HealthService, rules_from_settings
from stockyard.health._sources import (
    HealthSource,
    SourceReport,
    checks_from_ietf,
    merge_errors,
    merged_families,
    unreachable,
)
from stockyard.obs import metrics_registry

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
    "HealthCheck",
    "HealthCollector",
    "HealthRegistry",
    "HealthReport",
    "HealthService",
    "HealthSource",
    "HealthStatus",
    "InMemoryAlertStore",
    "InMemoryMetricsHistory",
    "LogNotifier",
    "MetricSample",
    "MetricsHistory",
    "Notifier",
    "Observation",
    "ObservedValue",
    "SourceReport",
    "Thresholds",
    "WebhookNotifier",
    "build_notifiers",
    "builtin_health_checks",
    "checks_from_ietf",
    "default_rules",
    "event_payload",
    "load_rules",
    "merge_errors",
    "merge_rules",
    "merged_families",
    "metrics_registry",
    "parse_since",
    "rules_from_settings",
    "samples_from_report",
    "unreachable",
]
