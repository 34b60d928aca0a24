"""Policy layer: guardrails checked on a rendered Bundle, never trusted from the renderer.

``check`` runs every guardrail and returns a Report; ``enforce`` raises PolicyViolation
when any guardrail fails, so nothing is written.

Most guardrails are per team: what they find about one team's objects depends only on
that team, the platform and the cluster-level objects. ``check_teams`` runs them on a
Bundle holding the cluster-level objects and some teams' objects (``render_teams``), with
the spec narrowed to those teams, so a namespace the spec gives them and the Bundle lacks
is still caught. The global guardrails (capacity: the sum of every team's quotas;
argocd-projects: the platform project lists every tenant namespace of its cluster) always
see every team: they get the whole spec, and count the teams not rendered from it.
"""

from __future__ import annotations

from collections.abc import Iterable

from goldenpath.errors import PolicyViolation
from goldenpath.policy import (
    argocd,
    bounds,
    capacity,
    coordinates,
    edge,
    names,
    network,
    rbac,
    reach,
    schema,
    secrets,
    tenancy,
)
from goldenpath.policy.report import Guardrail, GuardrailResult, Report
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec

GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail("schema", "objects valid against the Kubernetes OpenAPI schema", schema.check),
    Guardrail(
        "coordinates",
        "each object's coordinates are those its kind, namespace and name imply",
        coordinates.check,
    ),
    Guardrail(
        "pod-security",
        "tenant namespaces carry PSA enforce/audit/warn labels",
        tenancy.check_pod_security,
    ),
    Guardrail(
        "resource-quota", "tenant namespaces have a complete ResourceQuota", tenancy.check_quota
    ),
    Guardrail(
        "limit-range", "tenant namespaces have a container LimitRange", tenancy.check_limit_range
    ),
    Guardrail(
        "default-deny",
        "tenant namespaces deny by default and allow DNS",
        network.check_default_deny,
    ),
    Guardrail(
        "network-selectors",
        "peers selected by kubernetes.io/metadata.name only",
        network.check_selectors,
    ),
    Guardrail(
        "rbac-bindings", "tenant RoleBindings only, in the team's namespaces", rbac.check_bindings
    ),
    Guardrail("rbac-roles", "tenant roles cannot escalate or change guardrails", rbac.check_roles),
    Guardrail(
        "service-accounts",
        "service account tokens are not automounted",
        tenancy.check_service_accounts,
    ),
    Guardrail(
        "argocd-projects",
        "team AppProjects confined to the team's namespaces",
        argocd.check_projects,
    ),
    Guardrail(
        "argocd-applications",
        "team Applications deploy to the team's namespaces",
        argocd.check_applications,
    ),
    Guardrail(
        "shared-edge",
        "Ingresses and host annotations only for the hosts a namespace serves; no Services, "
        "endpoints or routes",
        edge.check_objects,
    ),
    Guardrail(
        "edge-admission",
        "every cluster denies tenants' foreign hosts and non-ClusterIP Services at admission",
        edge.check_admission,
    ),
    Guardrail("no-secrets", "no secret values, only references", secrets.check),
    Guardrail("network-reach", "ipBlocks only within the platform's allowed egress ranges",
              reach.check),
    Guardrail("object-size", "no object beyond spec.limits.maxObjectBytes",
              bounds.check_object_size),
    Guardrail("team-objects", "no team beyond its object cap", bounds.check_team_objects),
    Guardrail("quota-max", "no tenant ResourceQuota beyond the team's maximum",
              bounds.check_quota_max),
    Guardrail("capacity", "team quotas fit the declared cluster capacity", capacity.check),
    Guardrail("unique-names", "one object per identity on a cluster, one file per object",
              names.check),
)
#: Guardrails that need every team, whichever teams were rendered: capacity sums every
#: team's quota; the platform AppProject lists every tenant namespace of its cluster.
GLOBAL = frozenset({"capacity", "argocd-projects"})


def check(spec: PlatformSpec, bundle: Bundle) -> Report:
    return Report(tuple(guardrail.run(spec, bundle) for guardrail in GUARDRAILS))


def check_teams(spec: PlatformSpec, names: Iterable[str], bundle: Bundle) -> Report:
    """Every guardrail, for a Bundle of the cluster-level objects and the teams ``names``."""
    subset = spec.subset(names)
    return Report(tuple(
        guardrail.run(spec if guardrail.name in GLOBAL else subset, bundle)
        for guardrail in GUARDRAILS
    ))


def enforce(spec: PlatformSpec, bundle: Bundle) -> Report:
    return _enforced(check(spec, bundle))


def enforce_teams(spec: PlatformSpec, names: Iterable[str], bundle: Bundle) -> Report:
    return _enforced(check_teams(spec, names, bundle))


def _enforced(report: Report) -> Report:
    if not report.passed:
        raise PolicyViolation(report.violations)
    return report


__all__ = ["GUARDRAILS", "GuardrailResult", "Report", "check", "check_teams", "enforce",
           "enforce_teams"]
