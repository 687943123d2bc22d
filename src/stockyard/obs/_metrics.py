"""The one in-process Prometheus registry every layer adds its metrics to.

``/metrics`` serves it. Tests that need isolation pass their own ``CollectorRegistry``
to the component they build; production code uses ``metrics_registry()``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

__all__ = ["metrics_registry"]

_REGISTRY = CollectorRegistry(auto_describe=True)


def metrics_registry() -> CollectorRegistry:
    """The process-wide registry behind ``/metrics``."""
    return _REGISTRY
