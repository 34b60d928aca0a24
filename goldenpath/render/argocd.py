"""Argo CD objects: how each cluster's Argo CD finds and syncs what goldenpath renders.

Argo CD runs on every cluster and manages only that cluster, so every destination is the
in-cluster API server (:data:`IN_CLUSTER`); a cluster's ``server`` in the spec is for
Pulumi and humans, never for Argo CD. Per cluster this module renders an app of apps:

    root (bootstrap)            syncs clusters/<cluster>/ -- itself, the projects below,
     │                          the platform's cluster objects and the applications below
     ├─ AppProject platform     admin-only; syncs platform-owned objects from the control repo
     ├─ AppProject <team>       a team's service repos -> only its namespaces on this cluster
     ├─ <team>-<env>-tenancy    project platform: tenants/<team>/<env> (namespace first)
     └─ <team>-services         project platform: the team's service Applications of this
         └─ <team>.<svc>.<env>  cluster; each in the team's project, synced from the
                                service repo's deploy/overlays/<env>

The repository paths Argo CD reads come from :mod:`goldenpath.render.paths`, which the
writer in goldenpath.gitops uses too, so a source path and the file it points at cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.render import rbac
from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.concern import Concern
from goldenpath.render.meta import LABEL_SERVICE, MANAGED_BY, k8s_object, metadata, team_labels
from goldenpath.render.paths import ROOT_APP, apps_dir, cluster_dir, object_file, tenant_dir
from goldenpath.spec.models import ClusterSpec, Team
from goldenpath.spec.resolve import (
    PlatformSpec,
    application_name,
    namespace_name,
    services_application_name,
    tenancy_application_name,
)

CONCERN = "argocd"
API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
PLATFORM_PROJECT = "platform"
#: On an Application: deleting it deletes what it synced (offboarding cleans up).
#: On an AppProject: Argo CD keeps it until no Application uses it.
FINALIZER = "resources-finalizer.argocd.argoproj.io"
WAVE = "argocd.argoproj.io/sync-wave"
#: Projects exist before applications that name them; tenancy (namespaces, quota,
#: policies) is in place before any service Application syncs into the namespace.
WAVE_PROJECTS, WAVE_TENANCY, WAVE_SERVICES = "-1", "1", "2"
#: What a team may sync is the whitelist, :data:`goldenpath.render.rbac.TENANT_KINDS`
#: (the same kinds its "edit" role may write). The blacklist repeats the kinds that must
#: never be on it, in case the whitelist ever grows one by mistake: the guardrails (a
#: RoleBinding to the built-in ``admin`` role would let a tenant rewrite its
#: NetworkPolicies) and the shared edge (hand-made endpoints, Ingresses and Gateway API
#: routes, which goldenpath renders itself for the hosts a team owns).
TENANT_BLACKLIST = (
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "ServiceAccount"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("gateway.networking.k8s.io", "*"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
)
#: Project role -> the Argo CD (resource, action) pairs an access level grants.
ACCESS_ACTIONS = {
    "view": (("applications", "get"), ("logs", "get")),
    "edit": (("applications", "get"), ("logs", "get"), ("applications", "sync"),
             ("applications", "action/*")),
}


# --- names -----------------------------------------------------------------------------
#
# Collision-free: namespaces (``<team>-<env>``) are unique on the platform (the spec
# checks it), so tenancy Applications ``<namespace>-tenancy`` are; ``<team>-services``
# ends otherwise and teams are unique; service Applications are joined with ``.``, which
# no other name and no label has (see ``application_name``). AppProjects are named after
# their team, and the team name ``platform`` is reserved.


tenancy_app_name = tenancy_application_name
services_app_name = services_application_name
service_app_name = application_name


# --- render ----------------------------------------------------------------------------


def render_platform(spec: PlatformSpec) -> Iterator[Resource]:
    for cluster in spec.clusters.values():
        yield Resource(Coordinates(cluster.name), root_application(spec, cluster), CONCERN)
        yield Resource(Coordinates(cluster.name), platform_project(spec, cluster), CONCERN)


def render_team(spec: PlatformSpec, team: Team) -> Iterator[Resource]:
    for cluster in spec.clusters.values():
        envs = [env for env in team.spec.environments if env in cluster.environments]
        if envs:
            yield from _team_objects(spec, cluster, team, envs)


RENDERER = Concern(render_platform, render_team)
render = RENDERER.render


def _team_objects(spec: PlatformSpec, cluster: ClusterSpec, team: Team,
                  envs: list[str]) -> Iterator[Resource]:
    yield Resource(Coordinates(cluster.name, team.name), team_project(spec, team, envs),
                   CONCERN)
    for env in envs:
        coords = Coordinates(cluster.name, team.name, env)
        yield Resource(coords, tenancy_application(spec, team, env), CONCERN)
        for service in team.spec.services:
            body = service_application(spec, team, service.name, env)
            yield Resource(Coordinates(cluster.name, team.name, env, service.name), body,
                           CONCERN)
    if team.spec.services:
        yield Resource(Coordinates(cluster.name, team.name),
                       services_application(spec, team, envs), CONCERN)


def _meta(spec: PlatformSpec, name: str, labels: dict[str, str], wave: str | None,
          finalizer: bool = True) -> dict[str, Any]:
    meta = metadata(name, spec.platform.spec.argocd.namespace, labels,
                    {WAVE: wave} if wave is not None else None)
    if finalizer:
        meta["finalizers"] = [FINALIZER]
    return meta


def _source(spec: PlatformSpec, path: str) -> dict[str, Any]:
    gitops = spec.platform.spec.gitops
    return {"repoURL": gitops.repo_url, "targetRevision": gitops.target_revision, "path": path}


def _automated(*options: str) -> dict[str, Any]:
    policy: dict[str, Any] = {"automated": {"prune": True, "selfHeal": True}}
    if options:
        policy["syncOptions"] = list(options)
    return policy


def application(meta: dict[str, Any], project: str, source: dict[str, Any],
                namespace: str, sync_policy: dict[str, Any]) -> dict[str, Any]:
    destination = {"server": IN_CLUSTER, "namespace": namespace}
    return k8s_object(API, "Application", meta, spec={
        "project": project, "source": source, "destination": destination,
        "syncPolicy": sync_policy,
    })


def root_application(spec: PlatformSpec, cluster: ClusterSpec) -> dict[str, Any]:
    """The app of apps a cluster's Argo CD starts from. No finalizer: deleting the root
    by mistake must not cascade into deleting every tenant namespace."""
    meta = _meta(spec, ROOT_APP, dict(MANAGED_BY), None, finalizer=False)
    return application(meta, PLATFORM_PROJECT, _source(spec, cluster_dir(cluster.name)),
                       spec.platform.spec.argocd.namespace, _automated())


def platform_project(spec: PlatformSpec, cluster: ClusterSpec) -> dict[str, Any]:
    """Admin-only: only the control repository, only platform and tenant namespaces.

    Tenant namespaces are named by one pattern per environment (``*-<env>``), not one by
    one: listed one by one, the project of a 1,000-team cluster outgrew what client-side
    apply can hold (148 KiB at 1,000 teams x 3 environments), and every onboarding changed
    it. The pattern is no wider a grant than it looks: the project's only source is the
    reviewed control repository, and the ``argocd-applications`` guardrail checks each of
    its Applications' exact destination and path."""
    p = spec.platform.spec
    namespaces = {
        p.argocd.namespace, p.observability.dashboards_namespace, *p.network.monitoring_namespaces,
        *(tenant_pattern(env) for env in cluster.environments),
    }
    # Groups and users, bound as team roles bind them; service accounts have no Argo CD
    # identity. The policy layer checks each role group against the platform's admins.
    admins = sorted({_principal(s) for s in p.admins} - {""})
    role = {"name": "admin", "description": "Platform administrators", "groups": admins,
            "policies": _policies(PLATFORM_PROJECT, "admin", [("applications", "*")],
                                  f"{PLATFORM_PROJECT}/*")}
    body = {
        "description": f"Platform-owned objects of cluster {cluster.name} (admins only)",
        "sourceRepos": [p.gitops.repo_url],
        "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in sorted(namespaces)],
        # The root syncs Namespaces, ClusterRoles and Argo CD objects; admins review them.
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
    }
    if admins:
        body["roles"] = [role]
    meta = _meta(spec, PLATFORM_PROJECT, dict(MANAGED_BY), WAVE_PROJECTS)
    return k8s_object(API, "AppProject", meta, spec=body)


def tenant_pattern(env: str) -> str:
    """The platform project's destination for the tenant namespaces of ``env``."""
    return namespace_name("*", env)


def team_project(spec: PlatformSpec, team: Team, envs: list[str]) -> dict[str, Any]:
    """A team's project on one cluster: its repositories, its namespaces, the kinds of
    :data:`~goldenpath.render.rbac.TENANT_KINDS`, nothing else.

    ``sourceRepos`` is omitted rather than emptied for a team without services (an empty
    list denies every repository, and so does an absent one).
    """
    template = spec.platform.spec.service_repos.url_template
    repos = sorted({template.format(team=team.name, service=s.name) for s in team.spec.services})
    body: dict[str, Any] = {
        "description": f"{team.spec.display_name}: service repositories into "
                       f"{', '.join(namespace_name(team.name, e) for e in envs)}",
        "destinations": [{"server": IN_CLUSTER, "namespace": namespace_name(team.name, env)}
                         for env in sorted(envs)],
        # No whitelist means no cluster-scoped kind; the blacklist says so explicitly too.
        "clusterResourceBlacklist": [{"group": "*", "kind": "*"}],
        "namespaceResourceWhitelist": [{"group": k.group, "kind": k.kind}
                                       for k in rbac.TENANT_KINDS],
        "namespaceResourceBlacklist": [{"group": g, "kind": k} for g, k in TENANT_BLACKLIST],
    }
    if repos:
        body["sourceRepos"] = repos
    roles = list(project_roles(spec, team, envs))
    if roles:
        body["roles"] = roles
    meta = _meta(spec, team.name, team_labels(team), WAVE_PROJECTS)
    return k8s_object(API, "AppProject", meta, spec=body)


def project_roles(spec: PlatformSpec, team: Team, envs: list[str]) -> Iterator[dict[str, Any]]:
    """owners/members/viewers, each granted per environment what the platform's access
    level for that environment allows, on the team's applications of that environment."""
    groups_of = {"owners": team.spec.owners, "members": team.spec.members,
                 "viewers": team.spec.viewers}
    for role, subjects in groups_of.items():
        groups = sorted({_principal(s) for s in subjects} - {""})
        policies: list[str] = []
        for env in sorted(envs):
            level = getattr(spec.environments[env].access, role)
            if level != "none":
                obj = f"{team.name}/{service_app_name(team.name, '*', env)}"
                policies += _policies(team.name, role, list(ACCESS_ACTIONS[level]), obj)
        if groups and policies:
            yield {"name": role, "description": f"{team.spec.display_name} {role}",
                   "groups": groups, "policies": policies}


def _policies(project: str, role: str, grants: list[tuple[str, str]], obj: str) -> list[str]:
    return [f"p, proj:{project}:{role}, {res}, {act}, {obj}, allow" for res, act in grants]


def _principal(subject: str) -> str:
    """The name Argo CD matches in a role's groups (an SSO group, or a user's subject).
    Kubernetes service accounts have no Argo CD identity, so they map to nothing."""
    kind, _, name = subject.partition(":")
    return name if kind in ("user", "group") else ""


def tenancy_application(spec: PlatformSpec, team: Team, env: str) -> dict[str, Any]:
    meta = _meta(spec, tenancy_app_name(team.name, env), team_labels(team, env), WAVE_TENANCY)
    # The namespace is one of the synced objects, so Argo CD must not create it bare.
    policy = _automated("CreateNamespace=false", "ServerSideApply=true")
    return application(meta, PLATFORM_PROJECT, _source(spec, tenant_dir(team.name, env)),
                       namespace_name(team.name, env), policy)


def services_application(spec: PlatformSpec, team: Team, envs: list[str]) -> dict[str, Any]:
    """Syncs the team's service Applications of this cluster's environments only: the
    apps directory holds every environment's, so the files are listed explicitly."""
    files = sorted(object_file("Application", service_app_name(team.name, s.name, env))
                   for s in team.spec.services for env in envs)
    include = files[0] if len(files) == 1 else "{" + ",".join(files) + "}"
    source = {**_source(spec, apps_dir(team.name)), "directory": {"include": include}}
    meta = _meta(spec, services_app_name(team.name), team_labels(team), WAVE_SERVICES)
    return application(meta, PLATFORM_PROJECT, source, spec.platform.spec.argocd.namespace,
                       _automated())


def service_application(spec: PlatformSpec, team: Team, service: str, env: str) -> dict[str, Any]:
    url = spec.platform.spec.service_repos.url_template.format(team=team.name, service=service)
    labels = {**team_labels(team, env), LABEL_SERVICE: service}
    meta = _meta(spec, service_app_name(team.name, service, env), labels, None)
    source = {"repoURL": url, "targetRevision": "HEAD", "path": f"deploy/overlays/{env}"}
    return application(meta, team.name, source, namespace_name(team.name, env),
                       _automated("CreateNamespace=false"))
