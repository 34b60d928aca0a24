"""Argo CD guardrails: a team's project reaches only its own namespaces on its cluster,
from its own service repositories, with the kinds tenants may deploy; the platform
project is the admins', syncs only the control repository, and each Application in it
syncs exactly the directory that belongs where it deploys.

Argo CD's controller applies whatever a project allows, so these checks are the gate for
everything a tenant delivers through GitOps. They decide from the objects themselves: a
project's team is the team owning its destinations, an Application's is the team owning
its destination namespace, and what each may read and write is derived from the spec,
never from the coordinates the renderer attached. The one coordinate read is the
cluster, which is where the object is written and applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render import argocd, paths, rbac
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec

PLATFORM_PROJECT = argocd.PLATFORM_PROJECT
IN_CLUSTER = "https://kubernetes.default.svc"
#: Kinds a team project must blacklist whatever its whitelist says: the guardrails and
#: the shared edge. Listed here, not read from the renderer, so a renderer that drops
#: one is caught. ``*`` as a kind blacklists the whole group.
BLACKLISTED = frozenset(
    {
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        ("", "Endpoints"),
        ("", "ServiceAccount"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("gateway.networking.k8s.io", "*"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
    }
)
Owned = Mapping[str, tuple[str, str, str]]


def check_projects(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    for project in bundle.of_kind("AppProject"):
        findings.cover()
        body: dict[str, Any] = project.body.get("spec") or {}
        if body.get("sourceNamespaces"):
            findings.fail(project, "sourceNamespaces lets Applications outside the Argo CD "
                          "namespace use this project; remove it")
        for dest in body.get("destinations") or []:
            if dest.get("server") != IN_CLUSTER:
                findings.fail(project, f"destination server {dest.get('server')!r} is not "
                              f"this cluster's own API server {IN_CLUSTER}")
        if project.name == PLATFORM_PROJECT:
            _check_platform_project(spec, project, body, owned, findings)
        else:
            _check_team_project(spec, project, body, owned, findings)


def project_team(project: Resource, owned: Owned) -> str | None:
    """The team a project serves: the one team owning its destinations on its cluster
    (None when they are not exactly one team's)."""
    teams = {owned[ns][1] for ns in _destinations(project)
             if ns in owned and owned[ns][0] == project.coords.cluster}
    return teams.pop() if len(teams) == 1 else None


def _destinations(project: Resource) -> list[str]:
    return [str(d.get("namespace")) for d in project.body.get("spec", {}).get("destinations")
            or []]


def _check_team_project(spec: PlatformSpec, project: Resource, body: dict[str, Any],
                        owned: Owned, findings: Findings) -> None:
    cluster = project.coords.cluster
    for ns in _destinations(project):
        if ns not in owned or owned[ns][0] != cluster:
            findings.fail(project, f"destination namespace {ns!r} is not a tenant namespace "
                          f"on cluster {cluster}")
    teams = sorted({owned[ns][1] for ns in _destinations(project) if ns in owned})
    if len(teams) > 1:
        findings.fail(project, f"destinations span teams {', '.join(teams)}; a team project "
                      "reaches one team's namespaces")
    _check_kinds(project, body, findings)
    team = project_team(project, owned)
    if team is None:
        return
    repos = team_repos(spec, team)
    for repo in body.get("sourceRepos") or []:
        if repo not in repos:
            findings.fail(project, f"sourceRepos entry {repo!r} is not one of team {team}'s "
                          "service repositories")
    for role in body.get("roles") or []:
        for message in _role_issues(spec, project, role, team):
            findings.fail(project, message)


def _role_issues(spec: PlatformSpec, project: Resource, role: dict[str, Any],
                 team: str) -> Iterator[str]:
    """A team project's role is one of its audiences (owners, members, viewers): only that
    audience's subjects, granted per environment of the project's cluster no more than the
    environment's access level gives that audience (no exec, no delete, no sync where the
    level is view)."""
    name = str(role.get("name"))
    body = spec.team(team).spec
    audiences = {"owners": body.owners, "members": body.members, "viewers": body.viewers}
    if name not in audiences:
        yield f"role {name} is not one of the audiences owners, members, viewers"
        return
    everyone, members = _principals([*body.owners, *body.members, *body.viewers]), \
        _principals(audiences[name])
    for group in sorted(set(role.get("groups") or []) - members):
        whose = f"one of team {team}'s {name}" if group in everyone else \
            f"a subject of team {team}"
        yield f"role {name} grants the project to {group!r}, which is not {whose}"
    yield from _policy_issues(project.name, role)
    granted = _grants(spec, project, team, name)
    for line in role.get("policies") or []:
        parts = tuple(p.strip() for p in str(line).split(","))
        well_formed = len(parts) == 6 and parts[1] == f"proj:{project.name}:{name}" \
            and parts[4].startswith(f"{project.name}/")  # else reported above
        if well_formed and parts[5] == "allow" and parts[2:5] not in granted:
            yield (f"role {name} policy {line!r} grants more than the platform's access "
                   f"levels give team {team}'s {name}")


def _check_kinds(project: Resource, body: dict[str, Any], findings: Findings) -> None:
    if body.get("clusterResourceWhitelist"):
        findings.fail(
            project,
            "team projects may not deploy cluster-scoped kinds "
            "(clusterResourceWhitelist must be absent)",
        )
    if {"group": "*", "kind": "*"} not in (body.get("clusterResourceBlacklist") or []):
        findings.fail(project, "clusterResourceBlacklist lacks {group: '*', kind: '*'}")
    whitelist = body.get("namespaceResourceWhitelist")
    tenant_kinds = {(k.group, k.kind) for k in rbac.TENANT_KINDS}
    if not whitelist:
        findings.fail(project, "namespaceResourceWhitelist is missing: without it the "
                      "project syncs every namespaced kind not blacklisted")
    for entry in whitelist or []:
        group, kind = entry.get("group", ""), entry.get("kind")
        if (group, kind) in BLACKLISTED or (group, "*") in BLACKLISTED:
            findings.fail(project, f"namespaceResourceWhitelist allows {kind} (group "
                          f"{group!r}), which tenants must never deploy")
        elif (group, kind) not in tenant_kinds:
            findings.fail(project, f"namespaceResourceWhitelist allows {kind} (group "
                          f"{group!r}), which is not one of the kinds tenants may deploy")
    listed = {(k.get("group", ""), k.get("kind"))
              for k in body.get("namespaceResourceBlacklist") or []}
    for group, kind in sorted(BLACKLISTED):
        if (group, kind) not in listed and (group, "*") not in listed:
            findings.fail(project, f"namespaceResourceBlacklist lacks {kind} (group {group!r})")


def _policy_issues(project: str, role: dict[str, Any]) -> Iterator[str]:
    """A role's policies may only name the role itself, on the project's own Applications."""
    subject = f"proj:{project}:{role.get('name')}"
    for line in role.get("policies") or []:
        parts = [p.strip() for p in str(line).split(",")]
        if len(parts) != 6 or parts[0] != "p" or parts[1] != subject \
                or not parts[4].startswith(f"{project}/"):
            yield (f"role {role.get('name')} policy {line!r} must read "
                   f"'p, {subject}, <resource>, <action>, {project}/<application>, <effect>'")


def _principals(subjects: list[str]) -> set[str]:
    """The names Argo CD matches in a role's groups for user and group subjects."""
    return {s.partition(":")[2] for s in subjects if s.startswith(("user:", "group:"))}


def _grants(spec: PlatformSpec, project: Resource, team: str,
            audience: str) -> set[tuple[str, ...]]:
    """(resource, action, object) an audience may be allowed: per environment of the team
    on the project's cluster, what that environment's access level gives the audience, on
    the team's Applications of that environment."""
    out: set[tuple[str, ...]] = set()
    for env in spec.team(team).spec.environments:
        if spec.cluster_of[env].name != project.coords.cluster:
            continue
        level = getattr(spec.environments[env].access, audience)
        obj = f"{project.name}/{argocd.service_app_name(team, '*', env)}"
        out |= {(res, act, obj) for res, act in argocd.ACCESS_ACTIONS.get(level, ())}
    return out


def team_repos(spec: PlatformSpec, team: str) -> set[str]:
    template = spec.platform.spec.service_repos.url_template
    return {template.format(team=team, service=s.name) for s in spec.team(team).spec.services}


def _check_platform_project(spec: PlatformSpec, project: Resource, body: dict[str, Any],
                            owned: Owned, findings: Findings) -> None:
    p = spec.platform.spec
    # Argo CD matches a role's "groups" against the token's sub and the claims in
    # `scopes`, so a name there stands for a user or a group alike: only the names of
    # user: and group: admins may appear. A serviceaccount: admin's name may not: it has
    # no Argo CD login, and the same string could be an SSO group's.
    allowed = {name for kind, _, name in (s.partition(":") for s in p.admins)
               if kind in ("user", "group")}
    for role in body.get("roles") or []:
        outsiders = set(role.get("groups") or []) - allowed
        if outsiders:
            findings.fail(
                project,
                f"role {role.get('name')} grants the platform project to "
                f"non-admins: {', '.join(sorted(outsiders))}",
            )
        for message in _policy_issues(project.name, role):
            findings.fail(project, message)
    for repo in body.get("sourceRepos") or []:
        if repo != p.gitops.repo_url:
            findings.fail(project, f"sourceRepos entry {repo!r} is not the control repository "
                          f"{p.gitops.repo_url}, the platform project's only source")
    # tenant namespaces by one pattern per environment the cluster hosts (see
    # render.argocd.platform_project), or by name (looked up per destination: the
    # project lists a few patterns, and the set of every tenant namespace on the cluster
    # cost more than the rest of a one-team check at 1,000 teams)
    cluster = spec.clusters.get(project.coords.cluster)
    allowed = _platform_namespaces(spec) | {
        argocd.tenant_pattern(env) for env in (cluster.environments if cluster else [])}
    for ns in _destinations(project):
        if ns not in allowed and owned.get(ns, ("",))[0] != project.coords.cluster:
            findings.fail(project, f"destination namespace {ns!r} is neither a platform "
                          f"namespace nor a tenant namespace on cluster {project.coords.cluster}")


def _platform_namespaces(spec: PlatformSpec) -> set[str]:
    p = spec.platform.spec
    return {p.argocd.namespace, p.observability.dashboards_namespace,
            *p.network.monitoring_namespaces}


def check_applications(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    projects = {(r.coords.cluster, r.name): project_team(r, owned)
                for r in bundle.of_kind("AppProject") if r.name != PLATFORM_PROJECT}
    home = spec.platform.spec.argocd.namespace
    dirs = {cluster: _argocd_dirs(spec, cluster) for cluster in spec.clusters}
    for app in bundle.of_kind("Application"):
        findings.cover()
        body: dict[str, Any] = app.body.get("spec") or {}
        if app.namespace != home:
            findings.fail(app, f"Applications live in the Argo CD namespace {home!r} only")
        destination = body.get("destination") or {}
        if destination.get("server") != IN_CLUSTER:
            findings.fail(app, f"destination server {destination.get('server')!r} is not "
                          f"this cluster's own API server {IN_CLUSTER}")
        sources = [s for s in (body.get("source"), *(body.get("sources") or [])) if s]
        ns = str(destination.get("namespace"))
        if body.get("project") == PLATFORM_PROJECT:
            _check_platform_application(spec, app, findings, sources=sources, ns=ns,
                                        owned=owned, dirs=dirs.get(app.coords.cluster))
            continue
        project = str(body.get("project"))
        if (app.coords.cluster, project) not in projects:
            findings.fail(app, f"project {project!r} is not a team project on cluster "
                          f"{app.coords.cluster}")
            continue
        team = projects[(app.coords.cluster, project)]
        if team is None:
            continue  # a project not confined to one team is refused by argocd-projects
        where = owned.get(ns)
        if where is None or where[1] != team:
            findings.fail(app, f"deploys to {ns!r}, which team {team} does not own")
        elif where[0] != app.coords.cluster:
            findings.fail(app, f"deploys to {ns!r}, which is on cluster {where[0]}, "
                          f"not {app.coords.cluster}")
        repos = team_repos(spec, team)
        for source in sources:
            if source.get("repoURL") not in repos:
                findings.fail(app, f"source {source.get('repoURL')!r} is not one of team "
                              f"{team}'s service repositories")


ArgocdDirs = tuple[set[str], dict[str, str]]


def _argocd_dirs(spec: PlatformSpec, cluster: str) -> ArgocdDirs:
    """What project platform may sync into a cluster's Argo CD namespace: the cluster's
    directory and the apps directory of each team on it (path -> team); once per
    cluster, not per Application."""
    teams = {team for team, _ in spec.namespaces_on(cluster)}
    apps = {paths.apps_dir(t): t for t in teams}
    return {paths.cluster_dir(cluster), *apps}, apps


def _check_platform_application(spec: PlatformSpec, app: Resource, findings: Findings, *,
                                sources: list[Any], ns: str, owned: Owned,
                                dirs: ArgocdDirs | None) -> None:
    """Project platform syncs the control repository only, and each directory of it only
    into the namespace it is for: a cluster's directory and the teams' app lists into the
    Argo CD namespace, a tenant's directory into that tenant namespace on its cluster."""
    gitops = spec.platform.spec.gitops
    cluster = app.coords.cluster
    if ns == spec.platform.spec.argocd.namespace:
        allowed, apps = dirs if dirs is not None else _argocd_dirs(spec, cluster)
        expected = f"{paths.cluster_dir(cluster)} or {paths.apps_dir('<team>')} of a team on it"
    elif ns in owned and owned[ns][0] == cluster:
        _, team, env = owned[ns]
        apps = {}
        allowed = {paths.tenant_dir(team, env)}
        expected = paths.tenant_dir(team, env)
    else:
        findings.fail(app, f"project platform deploys to {ns!r}, which is neither the Argo "
                      f"CD namespace nor a tenant namespace on cluster {cluster}")
        return
    for source in sources:
        repo, path = source.get("repoURL"), source.get("path")
        if repo != gitops.repo_url or source.get("targetRevision") != gitops.target_revision:
            findings.fail(app, f"project platform syncs only the control repository "
                          f"{gitops.repo_url} at {gitops.target_revision}, not {repo!r} at "
                          f"{source.get('targetRevision')!r}")
        elif path not in allowed:
            findings.fail(app, f"project platform may sync only {expected} into {ns!r} on "
                          f"cluster {cluster}, not {path!r}")
        elif path in apps:
            for message in _include_issues(spec, source, apps[path], cluster):
                findings.fail(app, message)


def _include_issues(spec: PlatformSpec, source: dict[str, Any], team: str,
                    cluster: str) -> Iterator[str]:
    """A team's apps directory holds its Applications of every environment; the cluster's
    Argo CD may sync only those of its own environments, each file named."""
    directory = source.get("directory") or {}
    include = directory.get("include")
    if not include:
        yield (f"syncs {source.get('path')} without directory.include: every environment's "
               f"Applications of team {team}, other clusters' included")
        return
    text = str(include)
    names = text[1:-1].split(",") if text.startswith("{") and text.endswith("}") else [text]
    body = spec.team(team).spec
    own = {paths.object_file("Application", argocd.service_app_name(team, s.name, env))
           for s in body.services
           for env in body.environments if spec.cluster_of[env].name == cluster}
    foreign = [name for name in names if name not in own]
    if foreign or directory.get("recurse"):
        yield (f"directory.include {text!r} must name only team {team}'s Application files "
               f"of cluster {cluster} (not {', '.join(foreign) or 'recurse'})")
