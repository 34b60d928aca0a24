"""The metrics contract between golden-path templates and the observability renderer.

Services made from a golden path export these series; the ServiceMonitors, SLO rules and
dashboards goldenpath renders read them. Both sides take the names from here (the
scaffolder passes them to cookiecutter), so they cannot drift apart.
"""

from __future__ import annotations

import re
from decimal import Decimal

from goldenpath.render.meta import LABEL_TEAM

#: counter of handled HTTP requests; labels: method, route, code (status code as text)
HTTP_REQUESTS_TOTAL = "http_requests_total"
#: histogram of request durations in seconds; labels: method, route
HTTP_REQUEST_DURATION = "http_request_duration_seconds"
#: the container port name Prometheus scrapes (the Operator needs a name, not a number)
METRICS_PORT_NAME = "http-metrics"
METRICS_PATH = "/metrics"
METRICS_PORT = 9090
#: the container port name serving traffic
HTTP_PORT_NAME = "http"
#: Go's shortest float format (strconv 'g', -1) switches to an exponent at 10^6
_GO_EXPONENT_FROM = 6
#: histogram buckets (seconds) every service exports; SLO thresholds are added to them
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)


#: label names the template's series carry (Prometheus client conventions)
LABEL_CODE = "code"
LABEL_LE = "le"
#: the route template a request matched (``/orders/{id}``, never the raw path)
LABEL_ROUTE = "route"
#: The kubelet's liveness and readiness probe routes. They are not users: SLIs, alerts and
#: dashboards leave requests with these ``route`` values out, and the template does not
#: count them at all. A service not made from a template keeps its SLO honest by serving
#: its probes at these routes (or not counting them either).
PROBE_ROUTES: tuple[str, ...] = ("/healthz", "/readyz")
#: server-error status codes, as a regular expression over ``code``
SERVER_ERROR_CODES = "5.."

# Series goldenpath's rules and dashboards read that the platform, not the service,
# exports: Prometheus itself and kube-state-metrics (shipped by kube-prometheus-stack).
#: 1 when the last scrape of a target succeeded
UP = "up"
#: the alerts Prometheus holds, one series per alert and state
ALERTS = "ALERTS"
KUBE_POD_WAITING_REASON = "kube_pod_container_status_waiting_reason"
KUBE_POD_LABELS = "kube_pod_labels"
KUBE_DEPLOYMENT_UNAVAILABLE = "kube_deployment_status_replicas_unavailable"
KUBE_DEPLOYMENT_LABELS = "kube_deployment_labels"


def bucket_series() -> str:
    """The histogram's cumulative bucket counter."""
    return f"{HTTP_REQUEST_DURATION}_bucket"


def count_series() -> str:
    """The histogram's observation counter."""
    return f"{HTTP_REQUEST_DURATION}_count"


def probe_routes_regex() -> str:
    """A regular expression matching exactly the probe routes (Prometheus anchors it)."""
    return "|".join(re.escape(route) for route in PROBE_ROUTES)


def kube_label(label: str) -> str:
    """The name kube-state-metrics gives an allow-listed Kubernetes label
    (``app.kubernetes.io/name`` -> ``label_app_kubernetes_io_name``)."""
    return "label_" + "".join(c if c.isalnum() else "_" for c in label)


def le_value(latency_ms: int) -> str:
    """The ``le`` label value of the bucket at ``latency_ms``, as the client library and
    Prometheus write it: Go's shortest float format with at least one decimal (``0.3``,
    ``1.0``), an exponent from 10^6 s on (``1e+06``, ``1.5e+09``). Any other text is a
    bucket no service exports, and the SLO reading it would never fire."""
    seconds = (Decimal(latency_ms) / 1000).normalize()
    exponent = seconds.adjusted()
    if exponent >= _GO_EXPONENT_FROM:
        digits = "".join(map(str, seconds.as_tuple().digits)).rstrip("0")
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        return f"{mantissa}e+{exponent:02d}"
    text = format(seconds, "f")
    return text if "." in text else f"{text}.0"


def latency_bucket(latency_ms: int) -> float:
    """The ``le`` bucket bound (seconds) that measures a latency objective in ms."""
    return latency_ms / 1000


def buckets_for(latency_ms: int | None) -> tuple[float, ...]:
    """Default buckets plus the SLO threshold, so the latency SLI is exact."""
    if latency_ms is None:
        return DEFAULT_BUCKETS
    return tuple(sorted({*DEFAULT_BUCKETS, latency_bucket(latency_ms)}))


def template_context() -> dict[str, object]:
    """The metric names as cookiecutter context, for the scaffolder."""
    return {
        "requests_total": HTTP_REQUESTS_TOTAL,
        "request_duration": HTTP_REQUEST_DURATION,
        "metrics_port_name": METRICS_PORT_NAME,
        "metrics_path": METRICS_PATH,
        "metrics_port": METRICS_PORT,
        "http_port_name": HTTP_PORT_NAME,
        "buckets": list(DEFAULT_BUCKETS),
        "probe_routes": list(PROBE_ROUTES),
        # The Service's label the ServiceMonitor copies onto every series (targetLabels):
        # rules and alert routes select a team's series by it.
        "team_label": LABEL_TEAM,
    }
