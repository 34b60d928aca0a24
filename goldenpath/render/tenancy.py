"""Tenancy: a team's namespace per environment, its quota, limit range and service accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.render import edge
from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.concern import Concern, no_platform_objects
from goldenpath.render.meta import (
    LABEL_APP_NAME,
    LABEL_COST_CENTER,
    LABEL_NAMESPACE_NAME,
    LABEL_SERVICE,
    k8s_object,
    metadata,
    team_labels,
)
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec, ResolvedQuota, namespace_name

CONCERN = "tenancy"
#: Every tenant namespace carries it; platform selectors (Alertmanager, Prometheus) key on it.
LABEL_TENANT = "goldenpath.dev/tenant"
PSA_MODES = ("enforce", "audit", "warn")


def render_team(spec: PlatformSpec, team: Team) -> Iterator[Resource]:
    for env in team.spec.environments:
        coords = Coordinates(spec.cluster_of[env].name, team.name, env)
        ns = namespace_name(team.name, env)
        yield Resource(coords, namespace(spec, team, env), CONCERN)
        body = resource_quota(ns, team, env, spec.quota(team, env))
        yield Resource(coords, body, CONCERN)
        yield Resource(coords, limit_range(spec, ns, team, env), CONCERN)
        for service in team.spec.services:
            body = service_account(ns, team, env, service.name)
            yield Resource(Coordinates(coords.cluster, team.name, env, service.name), body, CONCERN)


RENDERER = Concern(no_platform_objects, render_team)
render = RENDERER.render


def namespace(spec: PlatformSpec, team: Team, env: str) -> dict[str, Any]:
    name = namespace_name(team.name, env)
    level = spec.environments[env].pod_security
    version = f"v{spec.platform.spec.kubernetes_version}"
    labels = {
        **team_labels(team, env),
        LABEL_COST_CENTER: team.spec.cost_center,
        LABEL_TENANT: "true",
        LABEL_NAMESPACE_NAME: name,
    }
    for mode in PSA_MODES:
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    annotations = {"goldenpath.dev/display-name": team.spec.display_name,
                   **edge.hosts_annotation(team, env)}
    return k8s_object("v1", "Namespace", metadata(name, None, labels, annotations))


def resource_quota(ns: str, team: Team, env: str, quota: ResolvedQuota) -> dict[str, Any]:
    hard = {
        "requests.cpu": quota.cpu,
        "requests.memory": quota.memory,
        "limits.cpu": quota.limits_cpu,
        "limits.memory": quota.limits_memory,
        "requests.ephemeral-storage": quota.ephemeral_storage,
        "limits.ephemeral-storage": quota.ephemeral_storage,
        "requests.storage": quota.storage,
        "persistentvolumeclaims": str(quota.persistentvolumeclaims),
        "pods": str(quota.pods),
        "services": str(quota.services),
        "secrets": str(quota.secrets),
        "configmaps": str(quota.configmaps),
        # Tenants never open ports on every node or buy cloud load balancers;
        # traffic enters through the platform's ingress controllers.
        "services.nodeports": "0",
        "services.loadbalancers": "0",
    }
    meta = metadata("quota", ns, team_labels(team, env))
    return k8s_object("v1", "ResourceQuota", meta, spec={"hard": hard})


def limit_range(spec: PlatformSpec, ns: str, team: Team, env: str) -> dict[str, Any]:
    c = spec.platform.spec.defaults.container
    limit = {
        "type": "Container",
        "default": {"cpu": c.cpu_limit, "memory": c.memory_limit},
        "defaultRequest": {"cpu": c.cpu_request, "memory": c.memory_request},
        "max": {"cpu": c.max_cpu, "memory": c.max_memory},
    }
    meta = metadata("limits", ns, team_labels(team, env))
    return k8s_object("v1", "LimitRange", meta, spec={"limits": [limit]})


def service_account(ns: str, team: Team, env: str, service: str) -> dict[str, Any]:
    labels = {**team_labels(team, env), LABEL_APP_NAME: service, LABEL_SERVICE: service}
    return k8s_object(
        "v1",
        "ServiceAccount",
        metadata(service, ns, labels),
        # Workloads that need the API opt in per pod; the default is no token on disk.
        automountServiceAccountToken=False,
    )
