"""The cookiecutter context of a new service: team and platform facts plus parameters.

Templates never ask questions; everything they need comes from the specs, so a service
starts in the right namespaces, with the platform's default resources and the metric
names the observability renderer reads (:mod:`goldenpath.render.metrics`).
"""

from __future__ import annotations

from typing import Any

from goldenpath.render import metrics
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec, namespace_name


def service_context(spec: PlatformSpec, team: Team, name: str, params: dict[str, str],
                    latency_ms: int | None = None) -> dict[str, Any]:
    environments = team.spec.environments
    return {
        "service_name": name,
        "team": team.name,
        "team_display_name": team.spec.display_name,
        "port": "8080",
        # Backstage takes one namespace; the last environment is the production-most one.
        "catalog_namespace": namespace_name(team.name, environments[-1]),
        "kubernetes_version": spec.platform.spec.kubernetes_version,
        "environments": {env: environment_context(spec, team, env) for env in environments},
        "metrics": {**metrics.template_context(), "buckets": list(metrics.buckets_for(latency_ms))},
        **params,
    }


def environment_context(spec: PlatformSpec, team: Team, env: str) -> dict[str, Any]:
    container = spec.platform.spec.defaults.container
    return {
        "namespace": namespace_name(team.name, env),
        "replicas": 1,
        "cpu": container.cpu_request,
        "memory": container.memory_request,
        "cpu_limit": container.cpu_limit,
        "memory_limit": container.memory_limit,
    }
