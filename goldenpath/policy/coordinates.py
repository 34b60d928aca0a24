"""Coordinates guardrail: every object is where its coordinates say, and is an object
goldenpath renders there.

The coordinates the renderer attaches decide where an object goes: the GitOps layout
picks its file from them (``tenants/<team>/<env>/`` is synced to the cluster of that
environment, ``clusters/<cluster>/...`` to that cluster), and ownership makes it part of
a team's unit or a cluster's. So a tampered Bundle can put an object in the wrong place
by changing its coordinates alone: a quota of ``payments-prod`` written into
``tenants/payments/dev/`` lands on the nonprod cluster and leaves prod unbounded, and an
object carrying another team's coordinates is rewritten or deleted with that team's files.
This guardrail decides from the object itself (apiVersion, kind, namespace, name) where it
must be, and refuses coordinates that disagree:

- an object in a tenant namespace carries exactly that namespace's cluster, team and
  environment, and is of a kind goldenpath renders there;
- a team's object elsewhere is one goldenpath renders for it there: its Namespaces, its
  dashboards (named after the team and environment) in the dashboards namespace, its
  AppProject and Applications (named after the team) in the Argo CD namespace, on a
  cluster hosting one of its environments;
- platform-owned coordinates (no team) only for the cluster-level objects goldenpath
  renders: ClusterRoles, the tenant edge's ValidatingAdmissionPolicy and its binding
  (named :data:`goldenpath.render.edge.POLICY`), the stack values in the dashboards
  namespace, the root Application and the ``platform`` AppProject in the Argo CD
  namespace;
- any other kind has no place, and is refused.

An object rendered twice is ``unique-names``' to refuse (one identity on a cluster is one
object, whatever its coordinates), not this guardrail's.

It needs only the teams the coordinates name, so ``check_teams`` (a Bundle of some teams
plus the cluster-level objects) refuses an object of a team it did not render.
"""

from __future__ import annotations

from goldenpath.policy.report import Findings
from goldenpath.render import argocd, edge, paths
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.render.observability import dashboards, stack
from goldenpath.spec.resolve import PlatformSpec, namespace_name

ARGO = argocd.API
ADMISSION = "admissionregistration.k8s.io"
#: (apiVersion, kind) -> where goldenpath renders it: in a team's namespace ("tenant"),
#: cluster-scoped ("cluster"), or in a platform namespace ("argocd", "dashboards").
PLACES: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "cluster",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "cluster",
    ("v1", "ResourceQuota"): "tenant",
    ("v1", "LimitRange"): "tenant",
    ("v1", "ServiceAccount"): "tenant",
    ("networking.k8s.io/v1", "NetworkPolicy"): "tenant",
    ("networking.k8s.io/v1", "Ingress"): "tenant",
    # v1 from Kubernetes 1.30, v1beta1 on 1.28 and 1.29 (render.edge.admission_api)
    (f"{ADMISSION}/v1", "ValidatingAdmissionPolicy"): "cluster",
    (f"{ADMISSION}/v1", "ValidatingAdmissionPolicyBinding"): "cluster",
    (f"{ADMISSION}/v1beta1", "ValidatingAdmissionPolicy"): "cluster",
    (f"{ADMISSION}/v1beta1", "ValidatingAdmissionPolicyBinding"): "cluster",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "tenant",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "tenant",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "tenant",
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): "tenant",
    ("v1", "ConfigMap"): "dashboards",
    (ARGO, "AppProject"): "argocd",
    (ARGO, "Application"): "argocd",
}
#: Tenant kinds rendered once per service rather than once per namespace.
PER_SERVICE = frozenset({"ServiceAccount", "ServiceMonitor", "PrometheusRule", "Ingress"})
#: The one name of each cluster-scoped platform kind that has one (ClusterRoles: any).
CLUSTER_NAMES = {"ValidatingAdmissionPolicy": edge.POLICY,
                 "ValidatingAdmissionPolicyBinding": edge.POLICY}


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for resource in bundle:
        findings.cover()
        problem = _problem(spec, resource)
        if problem:
            findings.fail(resource, problem)


def _problem(spec: PlatformSpec, resource: Resource) -> str:
    """What is wrong with the object's coordinates, or "" when nothing is."""
    c = resource.coords
    if c.cluster not in spec.clusters:
        return f"coordinates name cluster {c.cluster!r}, which the platform does not declare"
    place = PLACES.get((resource.api_version, resource.kind))
    if place is None:
        return (f"goldenpath renders no {resource.api_version} {resource.kind}, so nothing "
                "says where it belongs; refused")
    if c.team is None:
        return _platform_problem(spec, resource, place)
    if c.team not in spec.entry:
        return f"coordinates name team {c.team!r}, which is not one of the teams checked"
    return _team_problem(spec, resource, place, c.team)


def _platform_problem(spec: PlatformSpec, resource: Resource, place: str) -> str:
    p = spec.platform.spec
    # where each platform-owned kind lives, and its one name (a kind not named: any name)
    expected: dict[str, tuple[str | None, dict[str, str]]] = {
        "cluster": (None, CLUSTER_NAMES),
        "argocd": (p.argocd.namespace,
                   {"Application": paths.ROOT_APP, "AppProject": argocd.PLATFORM_PROJECT}),
        "dashboards": (p.observability.dashboards_namespace, {"ConfigMap": stack.NAME}),
    }
    if place in expected and resource.kind != "Namespace":
        namespace, names = expected[place]
        if resource.namespace == namespace \
                and names.get(resource.kind, resource.name) == resource.name:
            if resource.coords != Coordinates(resource.coords.cluster):
                return (f"platform-owned coordinates name no environment or service, found "
                        f"{_text(resource.coords)}")
            return ""
    # nothing platform-owned in a tenant namespace, and no Namespace
    return (f"has platform-owned coordinates, but goldenpath renders no platform-owned "
            f"{resource.kind} {_where(resource, place)}")


def _team_problem(spec: PlatformSpec, resource: Resource, place: str, team: str) -> str:
    c = resource.coords
    facts = spec.facts(team)
    envs = {namespace_name(team, env): env for env in facts.environments}
    if c.environment is not None and c.environment not in facts.environments:
        return f"coordinates name environment {c.environment!r}, which team {team} is not in"
    if c.service is not None and all(s.name != c.service for s in spec.team(team).spec.services):
        return f"coordinates name service {c.service!r}, which team {team} does not have"
    if place == "tenant" or resource.kind == "Namespace":
        where = resource.name if resource.kind == "Namespace" else resource.namespace
        env = envs.get(where or "")
        if env is None:
            found = f"namespace {where!r} is" if where else "no namespace is given, which is"
            return (f"has team {team}'s coordinates, but {found} not one of its namespaces "
                    f"({', '.join(sorted(envs))})")
        service = c.service if resource.kind in PER_SERVICE else None
        want = Coordinates(spec.cluster_of[env].name, team, env, service)
        if c != want:
            return (f"is in team {team}'s namespace {where}, so its coordinates must be "
                    f"{_text(want)}, not {_text(c)}")
        return ""
    return _outside_problem(spec, resource, place, team)


def _outside_problem(spec: PlatformSpec, resource: Resource, place: str, team: str) -> str:
    """A team's object outside its namespaces: its dashboards, its Argo CD objects."""
    c = resource.coords
    p = spec.platform.spec
    hosted = [env for env in spec.facts(team).environments
              if spec.cluster_of[env].name == c.cluster]
    if not hosted or (c.environment is not None and c.environment not in hosted):
        envs = f"its environment {c.environment}" if c.environment else "any of its environments"
        return f"has team {team}'s coordinates on cluster {c.cluster}, which does not host {envs}"
    name = _expected_name(resource, team)
    namespace = p.argocd.namespace if place == "argocd" else p.observability.dashboards_namespace
    if name is None or resource.namespace != namespace or resource.name != name:
        return (f"has team {team}'s coordinates {_text(c)}, but goldenpath renders no "
                f"{resource.kind} {_where(resource, place)} for them")
    return ""


def _expected_name(resource: Resource, team: str) -> str | None:
    """The one name goldenpath gives a team's object of this kind at these coordinates."""
    env, service = resource.coords.environment, resource.coords.service
    if resource.kind == "AppProject":
        return team if env is None and service is None else None
    if resource.kind == "Application":
        if env is None:
            return argocd.services_app_name(team) if service is None else None
        if service is None:
            return argocd.tenancy_app_name(team, env)
        return argocd.service_app_name(team, service, env)
    if resource.kind == "ConfigMap" and env is not None:
        return dashboards.configmap_name(team, env, service)
    return None


def _where(resource: Resource, place: str) -> str:
    if place == "cluster":
        return f"named {resource.name}"
    if resource.namespace is None:
        return "without a namespace"
    return f"in namespace {resource.namespace}"


def _text(c: Coordinates) -> str:
    return (f"(cluster {c.cluster}, team {c.team}, environment {c.environment}, "
            f"service {c.service})")
