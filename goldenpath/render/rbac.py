"""Tenant RBAC: goldenpath's own ClusterRoles, granted only through RoleBindings.

The built-in ``edit`` and ``admin`` roles let a tenant rewrite its NetworkPolicies (and
``admin`` its RBAC), which would undo the isolation rendered elsewhere. So goldenpath
renders two roles of its own per cluster, listing resources and verbs explicitly, and
binds them with RoleBindings inside the team's namespaces: a ClusterRole bound by a
RoleBinding grants nothing outside that namespace.

What tenants may write is one table, :data:`TENANT_KINDS`, which the team AppProjects of
:mod:`goldenpath.render.argocd` whitelist too: kubectl and Argo CD open the same doors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.concern import Concern, per_environment
from goldenpath.render.meta import MANAGED_BY, k8s_object, metadata, team_labels
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec, namespace_name

CONCERN = "rbac"
API = "rbac.authorization.k8s.io/v1"
ROLE_EDIT = "goldenpath-tenant-edit"
ROLE_VIEW = "goldenpath-tenant-view"
READ = ["get", "list", "watch"]
WRITE = [*READ, "create", "update", "patch", "delete", "deletecollection"]


@dataclass(frozen=True)
class TenantKind:
    """A namespaced kind tenants may deploy: its API group, kind, resource (plural) and
    the subresources that come with writing it."""

    group: str
    kind: str
    resource: str
    subresources: tuple[str, ...] = ()


#: The one list of kinds tenants may create in their namespaces. Both gates read it: the
#: "edit" role (kubectl) and the team AppProject's namespaceResourceWhitelist (Argo CD's
#: controller applies whatever the project allows, so the project is the gate for
#: everything synced from a service repository). Deliberately absent: Endpoints and
#: EndpointSlices (hand-made ones route a Service to any address, another tenant's pods
#: included), Ingress and Gateway API routes (goldenpath renders each service's Ingress
#: for the host the team owns), ServiceAccounts and their tokens, and the guardrails
#: (ResourceQuota, LimitRange, NetworkPolicy, RBAC).
TENANT_KINDS = (
    TenantKind("", "ConfigMap", "configmaps"),
    TenantKind("", "PersistentVolumeClaim", "persistentvolumeclaims"),
    TenantKind("", "Pod", "pods"),
    TenantKind("", "Secret", "secrets"),
    TenantKind("", "Service", "services"),
    TenantKind("apps", "DaemonSet", "daemonsets"),
    TenantKind("apps", "Deployment", "deployments", ("deployments/scale",)),
    TenantKind("apps", "ReplicaSet", "replicasets", ("replicasets/scale",)),
    TenantKind("apps", "StatefulSet", "statefulsets", ("statefulsets/scale",)),
    TenantKind("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    TenantKind("batch", "CronJob", "cronjobs"),
    TenantKind("batch", "Job", "jobs"),
    TenantKind("monitoring.coreos.com", "PodMonitor", "podmonitors"),
    TenantKind("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
    TenantKind("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
    TenantKind("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
)


def _writable() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(apiGroup, resources) tenants may change in their namespaces with "edit"."""
    groups: dict[str, list[str]] = {}
    for kind in TENANT_KINDS:
        groups.setdefault(kind.group, []).extend((kind.resource, *kind.subresources))
    return tuple((group, tuple(resources)) for group, resources in groups.items())


_WRITABLE = _writable()
#: (apiGroup, resources) everyone with access may read. Quota, limits, network policies
#: and the namespace are here and only here: tenants see their guardrails, never change them.
_READABLE = (
    (
        "",
        (
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "persistentvolumeclaims",
            "pods",
            "pods/log",
            "pods/status",
            "resourcequotas",
            "serviceaccounts",
            "services",
        ),
    ),
    ("apps", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("batch", ("cronjobs", "jobs")),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("policy", ("poddisruptionbudgets",)),
    ("networking.k8s.io", ("ingresses", "networkpolicies")),
    ("events.k8s.io", ("events",)),
    ("monitoring.coreos.com", ("podmonitors", "prometheusrules", "servicemonitors")),
)
#: Interactive debugging on pods; part of "edit" only.
POD_DEBUG = ("pods/exec", "pods/attach", "pods/portforward")

ROLE_FOR_ACCESS = {"edit": ROLE_EDIT, "view": ROLE_VIEW}


def render_platform(spec: PlatformSpec) -> Iterator[Resource]:
    for cluster in spec.clusters:
        coords = Coordinates(cluster)
        yield Resource(coords, cluster_role(ROLE_VIEW, view_rules()), CONCERN)
        yield Resource(coords, cluster_role(ROLE_EDIT, edit_rules()), CONCERN)


def _rules(
    groups: tuple[tuple[str, tuple[str, ...]], ...], verbs: list[str]
) -> list[dict[str, Any]]:
    return [{"apiGroups": [g], "resources": sorted(res), "verbs": list(verbs)} for g, res in groups]


def view_rules() -> list[dict[str, Any]]:
    return _rules(_READABLE, READ)


def edit_rules() -> list[dict[str, Any]]:
    pod_debug = {
        "apiGroups": [""],
        "resources": sorted(POD_DEBUG),
        "verbs": ["create", "get"],
    }
    return [*_rules(_READABLE, READ), *_rules(_WRITABLE, WRITE), pod_debug]


def cluster_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return k8s_object(API, "ClusterRole", metadata(name, None, MANAGED_BY), rules=rules)


def role_bindings(spec: PlatformSpec, team: Team, env: str) -> Iterator[dict[str, Any]]:
    access = spec.environments[env].access
    ns = namespace_name(team.name, env)
    groups = (
        ("owners", access.owners, team.spec.owners),
        ("members", access.members, team.spec.members),
        ("viewers", access.viewers, team.spec.viewers),
    )
    for group, level, subjects in groups:
        if level == "none" or not subjects:
            continue
        yield k8s_object(
            API,
            "RoleBinding",
            metadata(f"goldenpath-{group}", ns, team_labels(team, env)),
            roleRef={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": ROLE_FOR_ACCESS[level],
            },
            subjects=[subject(s) for s in subjects],
        )


def subject(text: str) -> dict[str, str]:
    """Turn ``user:x``, ``group:x`` or ``serviceaccount:ns/name`` into an RBAC subject."""
    kind, _, rest = text.partition(":")
    if kind == "serviceaccount":
        namespace, _, name = rest.partition("/")
        return {"kind": "ServiceAccount", "name": name, "namespace": namespace}
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind.title(), "name": rest}


RENDERER = Concern(render_platform, per_environment(CONCERN, role_bindings))
render = RENDERER.render
