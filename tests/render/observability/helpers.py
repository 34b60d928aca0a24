"""Readers over rendered observability objects, shared by the tests of this package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import promql_parser

from goldenpath.render import Bundle, Resource
from goldenpath.render.observability.dashboards import DASHBOARD_LABEL
from goldenpath.render.observability.dashboards import RATE as GRAFANA_RATE

CONCERN = "observability"


def observability(bundle: Bundle) -> list[Resource]:
    return [r for r in bundle if r.concern == CONCERN]


def rules(resource: Resource) -> Iterator[dict[str, Any]]:
    for group in resource.body["spec"]["groups"]:
        yield from group["rules"]


def alerts(resource: Resource) -> list[dict[str, Any]]:
    return [rule for rule in rules(resource) if "alert" in rule]


def dashboards(bundle: Bundle) -> Iterator[tuple[Resource, dict[str, Any]]]:
    """Every dashboard ConfigMap with its (single) parsed dashboard."""
    for resource in bundle.of_kind("ConfigMap"):
        if DASHBOARD_LABEL in resource.body["metadata"].get("labels", {}):
            (text,) = resource.body["data"].values()
            yield resource, json.loads(text)


def panel_exprs(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield target["expr"]


def parse(expr: str) -> Any:
    """Parse PromQL with promql-parser (the Prometheus 3 grammar, UTF-8 names and info()
    included; it lacks nothing goldenpath emits). Grafana's ``$__rate_interval`` is not
    PromQL: Grafana substitutes a duration before the query reaches Prometheus, so we do
    the same here."""
    return promql_parser.parse(expr.replace(GRAFANA_RATE, "5m"))


def selectors(expr: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric name, {label: (op, value)}) of every vector selector in ``expr``."""
    found: list[tuple[str, dict[str, tuple[str, str]]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {m.name: (str(m.op).rsplit(".", 1)[-1], m.value)
                        for m in node.matchers.matchers}
            found.append((node.name, matchers))

    promql_parser.walk(parse(expr), pre_visit=visit)
    return found


def numbers(expr: str) -> list[float]:
    found: list[float] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.NumberLiteral):
            found.append(node.val)

    promql_parser.walk(parse(expr), pre_visit=visit)
    return found
