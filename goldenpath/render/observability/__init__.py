"""Observability: every team's services are monitored from their first deploy.

Per service and environment a ServiceMonitor, a PrometheusRule (SLI recording rules,
SLO burn-rate alerts, baseline alerts) and a RED dashboard; per team namespace an
AlertmanagerConfig and an overview dashboard; per cluster the kube-prometheus-stack
values that make the stack pick all of it up. Metric names come from
:mod:`goldenpath.render.metrics`, the contract with the golden-path templates.
"""

from __future__ import annotations

from collections.abc import Iterator

from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.concern import Concern
from goldenpath.render.observability.alertmanager import alertmanager_config
from goldenpath.render.observability.dashboards import (
    dashboard_configmap,
    service_dashboard,
    team_dashboard,
)
from goldenpath.render.observability.prometheusrule import prometheus_rule
from goldenpath.render.observability.scope import Scope, service_scopes, team_scopes
from goldenpath.render.observability.servicemonitor import service_monitor
from goldenpath.render.observability.stack import values, values_configmap
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec

CONCERN = "observability"

__all__ = ["CONCERN", "render", "values"]


def render_platform(spec: PlatformSpec) -> Iterator[Resource]:
    for cluster in spec.clusters:
        yield Resource(Coordinates(cluster), values_configmap(spec, cluster), CONCERN)


def render_team(spec: PlatformSpec, team: Team) -> Iterator[Resource]:
    for scope in team_scopes(spec, team):
        yield from _team(scope)
    for scope in service_scopes(spec, team):
        yield from _service(scope)


RENDERER = Concern(render_platform, render_team)
render = RENDERER.render


def _team(scope: Scope) -> Iterator[Resource]:
    config = alertmanager_config(scope)
    if config is not None:
        yield Resource(scope.coords, config, CONCERN)
    yield Resource(scope.coords, dashboard_configmap(scope, team_dashboard(scope)), CONCERN)


def _service(scope: Scope) -> Iterator[Resource]:
    for body in (service_monitor(scope), prometheus_rule(scope),
                 dashboard_configmap(scope, service_dashboard(scope))):
        yield Resource(scope.coords, body, CONCERN)
