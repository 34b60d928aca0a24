"""Every PromQL expression goldenpath renders parses and stays inside its scope."""

from __future__ import annotations

import re

import pytest

from goldenpath.render import Bundle, metrics
from goldenpath.render.meta import LABEL_APP_NAME
from goldenpath.render.metrics import kube_label
from tests.render.observability.helpers import dashboards, panel_exprs, parse, rules, selectors

SERVICE_KEYS = ("job", kube_label(LABEL_APP_NAME))


def test_every_rule_expression_parses(bundle: Bundle) -> None:
    exprs = [rule["expr"] for r in bundle.of_kind("PrometheusRule") for rule in rules(r)]
    assert exprs
    for expr in exprs:
        parse(expr)  # raises on a syntax error


def test_every_dashboard_expression_parses(bundle: Bundle) -> None:
    exprs = [expr for _, dashboard in dashboards(bundle) for expr in panel_exprs(dashboard)]
    assert exprs
    for expr in exprs:
        parse(expr)


def test_parse_rejects_broken_promql() -> None:
    with pytest.raises(ValueError):
        parse('sum(rate(http_requests_total{namespace="a"}[5m])')


def test_rule_selectors_are_scoped_to_namespace_and_service(bundle: Bundle) -> None:
    for resource in bundle.of_kind("PrometheusRule"):
        namespace, service = resource.namespace, resource.coords.service
        for rule in rules(resource):
            found = selectors(rule["expr"])
            assert found, rule["expr"]
            for metric, matchers in found:
                assert matchers.get("namespace") == ("Equal", namespace), (metric, rule)
            # series without a job label (kube-state-metrics) are joined to one that names
            # the service, so every expression names the service at least once
            named = [m for _, m in found if any(m.get(k) == ("Equal", service)
                                                for k in SERVICE_KEYS)]
            assert named, rule["expr"]


def test_dashboard_selectors_are_scoped_to_the_team_namespace(bundle: Bundle) -> None:
    for resource, dashboard in dashboards(bundle):
        namespace = f"{resource.coords.team}-{resource.coords.environment}"
        for expr in panel_exprs(dashboard):
            for metric, matchers in selectors(expr):
                assert matchers.get("namespace") == ("Equal", namespace), (metric, expr)


SERVICE_SERIES = {metrics.HTTP_REQUESTS_TOTAL, metrics.bucket_series(), metrics.count_series()}


def test_slis_leave_probe_routes_out(bundle: Bundle) -> None:
    """Kubelet probes are not users: every rule and panel reading the request series
    drops the probe routes, so a service whose probes pass and whose users fail burns."""
    exprs = [rule["expr"] for r in bundle.of_kind("PrometheusRule") for rule in rules(r)]
    exprs += [expr for _, dashboard in dashboards(bundle) for expr in panel_exprs(dashboard)]
    read = 0
    for expr in exprs:
        for metric, matchers in selectors(expr):
            if metric in SERVICE_SERIES:
                read += 1
                assert matchers.get(metrics.LABEL_ROUTE) == ("NotRe", "/healthz|/readyz"), expr
    assert read


def test_the_probe_regex_matches_exactly_the_probe_routes() -> None:
    pattern = re.compile(metrics.probe_routes_regex())
    assert metrics.PROBE_ROUTES == ("/healthz", "/readyz")
    for route in metrics.PROBE_ROUTES:
        assert pattern.fullmatch(route)  # Prometheus anchors regular expressions
    for route in ("/", "/healthz/deep", "/api/readyz", "unmatched", "/healthzz"):
        assert not pattern.fullmatch(route)
