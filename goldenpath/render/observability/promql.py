"""PromQL text for the series of the metrics contract, always scoped to one service.

Rules and dashboards build their queries here so that every expression selects the
team's namespace and the service's job, leaves the kubelet's probe routes out (users, not
probes, make an SLI), and so that the SLIs a dashboard shows are the same expressions the
alerts fire on. Series names come from :mod:`goldenpath.render.metrics`.
"""

from __future__ import annotations

from functools import lru_cache

from goldenpath.render import metrics

#: Labels every service series carries: ``namespace`` from the Prometheus Operator, and
#: ``job``, which the ServiceMonitor's ``jobLabel`` sets to the service name.
SERVICE_LABELS = ("namespace", "job")


def quote(value: str) -> str:
    """A PromQL string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@lru_cache(maxsize=4096)  # every window of a service's rules repeats the same selectors
def selector(metric: str, *matchers: tuple[str, str, str]) -> str:
    """``metric{name op "value", ...}`` from (name, op, value) triples."""
    inner = ",".join(f"{name}{op}{quote(value)}" for name, op, value in matchers)
    return f"{metric}{{{inner}}}"


def service_matchers(namespace: str, job: str) -> tuple[tuple[str, str, str], ...]:
    return (("namespace", "=", namespace), ("job", "=", job))


#: Requests of users: the kubelet's probes (:data:`metrics.PROBE_ROUTES`) left out.
NOT_PROBES = (metrics.LABEL_ROUTE, "!~", metrics.probe_routes_regex())


def user_requests(series: str, *matchers: tuple[str, str, str]) -> str:
    """A request series (the counter or the histogram's) without the probe routes."""
    return selector(series, *matchers, NOT_PROBES)


def summed_rate(series: str, window: str, by: tuple[str, ...] = SERVICE_LABELS) -> str:
    """``sum by (...) (rate(series[window]))``; ``series`` is a full selector."""
    return f"sum by ({', '.join(by)}) (rate({series}[{window}]))"


def requests(namespace: str, job: str, *extra: tuple[str, str, str]) -> str:
    return user_requests(metrics.HTTP_REQUESTS_TOTAL, *service_matchers(namespace, job), *extra)


def server_errors(namespace: str, job: str) -> str:
    return requests(namespace, job, (metrics.LABEL_CODE, "=~", metrics.SERVER_ERROR_CODES))


def rate_ratio(part: str, whole: str, window: str, by: tuple[str, ...] = SERVICE_LABELS) -> str:
    """The share of ``whole``'s rate that ``part`` (a subset of it) makes up."""
    return f"{summed_rate(part, window, by)}\n/\n{summed_rate(whole, window, by)}"


def availability_error_ratio(namespace: str, job: str, window: str) -> str:
    """Share of requests answered with a 5xx over ``window``."""
    return rate_ratio(server_errors(namespace, job), requests(namespace, job), window)


def latency_error_ratio(namespace: str, job: str, window: str, latency_ms: int) -> str:
    """Share of requests slower than ``latency_ms`` over ``window``, from the histogram
    bucket at exactly that bound (the template adds it to its buckets)."""
    scope = service_matchers(namespace, job)
    fast = user_requests(metrics.bucket_series(), *scope,
                         (metrics.LABEL_LE, "=", metrics.le_value(latency_ms)))
    total = user_requests(metrics.count_series(), *scope)
    return f"1 - (\n{rate_ratio(fast, total, window)}\n)"


def quantile(q: str, buckets: str, window: str, by: tuple[str, ...] = ()) -> str:
    """The ``q`` quantile of request duration; ``buckets`` selects the bucket series."""
    return f"histogram_quantile({q}, {summed_rate(buckets, window, (*by, metrics.LABEL_LE))})"
