"""Argo CD guardrails: a team's project reaches only the team's namespaces, deploys no
cluster-scoped kinds, and cannot touch the platform-owned guardrail objects; the platform
project is for platform admins only."""

from __future__ import annotations

from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec

PLATFORM_PROJECT = "platform"
BLACKLISTED = frozenset(
    {("", "ResourceQuota"), ("", "LimitRange"), ("networking.k8s.io", "NetworkPolicy")}
)


def check_projects(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    admins = set(spec.platform.spec.admins)
    for project in bundle.of_kind("AppProject"):
        findings.cover()
        team = project.coords.team
        if team is None:
            _check_platform_project(project, admins, findings)
            continue
        body = project.body["spec"]
        for dest in body.get("destinations", []):
            ns = dest.get("namespace", "")
            if ns not in owned or owned[ns][1] != team:
                findings.fail(
                    project, f"destination namespace {ns!r} is not one of team {team}'s namespaces"
                )
        if body.get("clusterResourceWhitelist"):
            findings.fail(
                project,
                "team projects may not deploy cluster-scoped kinds "
                "(clusterResourceWhitelist must be absent)",
            )
        listed = {
            (k.get("group", ""), k.get("kind")) for k in body.get("namespaceResourceBlacklist", [])
        }
        for group, kind in sorted(BLACKLISTED - listed):
            findings.fail(project, f"namespaceResourceBlacklist lacks {kind} (group {group!r})")
        if "*" in body.get("sourceRepos", []):
            findings.fail(project, "sourceRepos must list the team's repositories, not '*'")


def _check_platform_project(project: Resource, admins: set[str], findings: Findings) -> None:
    # Argo CD matches a role's "groups" against the token's sub and the claims in
    # `scopes`, so a name there stands for a user or a group alike: only the names of
    # user: and group: admins may appear. A serviceaccount: admin's name may not: it has
    # no Argo CD login, and the same string could be an SSO group's.
    allowed = {name for kind, _, name in (s.partition(":") for s in admins)
               if kind in ("user", "group")}
    for role in project.body["spec"].get("roles", []):
        outsiders = set(role.get("groups", [])) - allowed
        if outsiders:
            findings.fail(
                project,
                f"role {role.get('name')} grants the platform project to "
                f"non-admins: {', '.join(sorted(outsiders))}",
            )


def check_applications(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    for app in bundle.of_kind("Application"):
        team = app.coords.team
        body: dict[str, Any] = app.body["spec"]
        if team is None or body.get("project") == PLATFORM_PROJECT:
            continue
        findings.cover()
        ns = body.get("destination", {}).get("namespace", "")
        if ns not in owned or owned[ns][1] != team:
            findings.fail(app, f"deploys to {ns!r}, which team {team} does not own")
