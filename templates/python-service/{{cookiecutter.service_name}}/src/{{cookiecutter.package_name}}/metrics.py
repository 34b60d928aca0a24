"""The metrics the platform reads: names come from the golden path's metrics contract.

The platform's ServiceMonitor scrapes the port named "{{ cookiecutter.metrics.metrics_port_name }}",
and its SLO rules and dashboards query exactly these series, so keep the names and labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "{{ cookiecutter.metrics.requests_total }}",
    "HTTP requests handled, by method, route template and status code.",
    ["method", "route", "code"],
)
DURATION = Histogram(
    "{{ cookiecutter.metrics.request_duration }}",
    "HTTP request duration in seconds, by method and route template.",
    ["method", "route"],
    buckets=({{ cookiecutter.metrics.buckets | join(", ") }}),
)
METRICS_PORT = {{ cookiecutter.metrics.metrics_port }}
#: The kubelet's probe routes: answered, never counted. The platform's SLOs measure users;
#: a probe that succeeds while every real request fails must not look like good traffic.
PROBE_ROUTES = frozenset({"{{ cookiecutter.metrics.probe_routes | join('", "') }}"})


def observe(method: str, route: str, code: int, seconds: float) -> None:
    if route in PROBE_ROUTES:
        return
    REQUESTS.labels(method=method, route=route, code=str(code)).inc()
    DURATION.labels(method=method, route=route).observe(seconds)
