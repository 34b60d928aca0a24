"""Prometheus metrics of one application instance (its own registry, so several apps in
one process, as in the tests, never share or clash).

- ``goldenpath_http_request_duration_seconds{method,route,status}``: latency by route
  *template* (``/v1/requests/{request_id}``, never the id: bounded label values);
- ``goldenpath_requests{state}``, ``goldenpath_queue_depth``,
  ``goldenpath_queue_oldest_age_seconds``: read from the store at scrape time, so every
  replica reports the shared queue;
- ``goldenpath_request_duration_seconds{kind,outcome}``: how long workers of this process
  took per request (scaffold durations: ``kind="service.create"``).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from goldenpath.errors import StoreError
from goldenpath.store import Store

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WORK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._store.requests.counts()
            stats = self._store.requests.queue_stats()
        except StoreError:  # /readyz says why; a scrape still gets the process's metrics
            return
        states = GaugeMetricFamily("goldenpath_requests", "Durable requests by state",
                                   labels=["state"])
        for state, count in counts.items():
            states.add_metric([state], count)
        yield states
        yield GaugeMetricFamily("goldenpath_queue_depth", "Requests waiting for a worker",
                                value=stats.depth)
        yield GaugeMetricFamily("goldenpath_queue_oldest_age_seconds",
                                "How long the oldest queued request has waited",
                                value=stats.oldest_age_seconds)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http = Histogram("goldenpath_http_request_duration_seconds",
                              "HTTP request latency by route template and status",
                              ["method", "route", "status"], buckets=_HTTP_BUCKETS,
                              registry=self.registry)
        self.work = Histogram("goldenpath_request_duration_seconds",
                              "Time workers of this process took per request",
                              ["kind", "outcome"], buckets=_WORK_BUCKETS,
                              registry=self.registry)

    def watch(self, store: Store) -> None:
        self.registry.register(_StoreCollector(store))

    def observe_work(self, kind: str, outcome: str, seconds: float) -> None:
        self.work.labels(kind, outcome).observe(seconds)
