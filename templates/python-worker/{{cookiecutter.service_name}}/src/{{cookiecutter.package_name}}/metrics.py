"""The metrics the platform reads: names come from the golden path's metrics contract.

A worker reports each message as one "request" (method ``CONSUME``, route = the queue,
code 200 or 500), so the platform's availability and latency SLO rules, written for
these series, measure the worker too. The ServiceMonitor scrapes the port named
"{{ cookiecutter.metrics.metrics_port_name }}".
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "{{ cookiecutter.metrics.requests_total }}",
    "Messages handled, as requests: method CONSUME, route = queue, code 200 or 500.",
    ["method", "route", "code"],
)
DURATION = Histogram(
    "{{ cookiecutter.metrics.request_duration }}",
    "Message handling duration in seconds, by method and route (queue).",
    ["method", "route"],
    buckets=({{ cookiecutter.metrics.buckets | join(", ") }}),
)
METRICS_PORT = {{ cookiecutter.metrics.metrics_port }}
METRICS_PATH = "{{ cookiecutter.metrics.metrics_path }}"


def observe(queue: str, ok: bool, seconds: float) -> None:
    REQUESTS.labels(method="CONSUME", route=queue, code="200" if ok else "500").inc()
    DURATION.labels(method="CONSUME", route=queue).observe(seconds)
