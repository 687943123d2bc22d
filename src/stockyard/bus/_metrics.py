"""Bus metrics: plain integer counters on the hot path, read by a Prometheus collector.

A ``prometheus_client.Counter.inc()`` takes a lock and costs about a microsecond; the bus
delivers a message to a subscriber in a fraction of that, so the hot path bumps plain ints
and one collector per registry turns them into metric families at scrape time.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from stockyard.obs import metrics_registry

__all__ = ["FamilyCounts", "LatencyReservoir", "MetricSource", "attach_source"]

# Seconds; receipt-to-subscriber latency of an in-process bus is ~1 µs, across Redis ~100 µs.
_BOUNDS = (1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1)


@dataclass(slots=True)
class FamilyCounts:
    """Counters of one topic family (``md``, ``exec``, ...); mutated in place on the hot path."""

    published: int = 0
    delivered: int = 0
    dropped: int = 0
    handler_errors: int = 0


class LatencyReservoir:
    """The last ``size`` latency samples (ns) for p50/p99, plus cumulative histogram buckets."""

    __slots__ = ("_buckets", "_samples", "count", "total_ns")

    def __init__(self, size: int = 8192) -> None:
        self._samples: deque[int] = deque(maxlen=size)
        self._buckets = [0] * (len(_BOUNDS) + 1)
        self.count = 0
        self.total_ns = 0

    def add(self, ns: int) -> None:
        """Record one latency in nanoseconds."""
        self._samples.append(ns)
        self._buckets[bisect_left(_BOUNDS, ns / 1e9)] += 1
        self.count += 1
        self.total_ns += ns

    def percentiles_us(self) -> dict[str, float | None]:
        """p50 and p99 of the reservoir in microseconds (None when empty)."""
        data = sorted(self._samples)
        if not data:
            return {"p50_us": None, "p99_us": None}

        def pick(q: float) -> float:
            return round(data[min(len(data) - 1, int(q * len(data)))] / 1000, 3)

        return {"p50_us": pick(0.50), "p99_us": pick(0.99)}

    def histogram(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative ``(le, count)`` buckets and the sum in seconds, as Prometheus wants."""
        out, running = [], 0
        for bound, n in zip((*_BOUNDS, float("inf")), self._buckets, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return out, self.total_ns / 1e9


@dataclass(eq=False)
class MetricSource:
    """What one bus (or cache, or feed) exposes; ``name`` becomes the ``bus`` label."""

    kind: str
    name: str
    families: dict[str, FamilyCounts] = field(default_factory=dict)
    latency: LatencyReservoir = field(default_factory=LatencyReservoir)
    reconnects: int = 0
    decode_errors: int = 0
    gauges: Callable[[], Mapping[str, float]] = dict
    extra_counters: Callable[[], Mapping[str, float]] = dict

    def family(self, name: str) -> FamilyCounts:
        counts = self.families.get(name)
        if counts is None:
            counts = self.families[name] = FamilyCounts()
        return counts


class _Collector(Collector):
    def __init__(self) -> None:
        self._sources: weakref.WeakSet[MetricSource] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, source: MetricSource) -> None:
        with self._lock:
            names = {s.name for s in self._sources if s.kind == source.kind}
            base, n = source.name, 1
            while source.name in names:
                n += 1
                source.name = f"{base}-{n}"
            self._sources.add(source)

    def describe(self) -> list[Metric]:
        return []  # names are dynamic per source; collect() is the truth

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            sources = list(self._sources)
        fams = {
            key: CounterMetricFamily(f"stockyard_bus_{key}", doc, labels=["kind", "bus", "family"])
            for key, doc in (
                ("messages_published", "Messages published, per topic family."),
                ("deliveries", "Deliveries to subscribers, per topic family."),
                ("dropped", "Messages dropped by a full drop-oldest queue."),
                ("handler_errors", "Subscriber handlers that raised."),
            )
        }
        reconnects = CounterMetricFamily(
            "stockyard_bus_reconnects", "Reconnections to the transport.", labels=["kind", "bus"]
        )
        bad = CounterMetricFamily(
            "stockyard_bus_decode_errors", "Frames dropped as undecodable.", labels=["kind", "bus"]
        )
        gauge = GaugeMetricFamily(
            "stockyard_bus_gauge", "Queue depths, backlogs, ratios.", labels=["kind", "bus", "name"]
        )
        other = CounterMetricFamily(
            "stockyard_bus_events", "Other counted events.", labels=["kind", "bus", "name"]
        )
        latency = HistogramMetricFamily(
            "stockyard_bus_delivery_latency_seconds",
            "Receipt (publish call) to subscriber, sampled.",
            labels=["kind", "bus"],
        )
        for s in sources:
            for family, c in list(s.families.items()):
                labels = [s.kind, s.name, family]
                fams["messages_published"].add_metric(labels, c.published)
                fams["deliveries"].add_metric(labels, c.delivered)
                fams["dropped"].add_metric(labels, c.dropped)
                fams["handler_errors"].add_metric(labels, c.handler_errors)
            reconnects.add_metric([s.kind, s.name], s.reconnects)
            bad.add_metric([s.kind, s.name], s.decode_errors)
            for name, value in s.gauges().items():
                gauge.add_metric([s.kind, s.name, name], value)
            for name, value in s.extra_counters().items():
                other.add_metric([s.kind, s.name, name], value)
            if s.latency.count:
                buckets, total = s.latency.histogram()
                latency.add_metric([s.kind, s.name], buckets, total)
        yield from (*fams.values(), reconnects, bad, gauge, other, latency)


_collectors: weakref.WeakKeyDictionary[CollectorRegistry, _Collector] = weakref.WeakKeyDictionary()
_collectors_lock = threading.Lock()


def attach_source(source: MetricSource, registry: CollectorRegistry | None = None) -> None:
    """Expose ``source`` through ``registry`` (default: the one in-process registry)."""
    reg = registry if registry is not None else metrics_registry()
    with _collectors_lock:
        collector = _collectors.get(reg)
        if collector is None:
            collector = _collectors[reg] = _Collector()
            reg.register(collector)
    collector.add(source)
