"""RBAC guardrails: tenants get RoleBindings in their own namespaces to roles that cannot
escalate, impersonate, or rewrite the guardrails (quota, limits, network policy, RBAC,
the namespace itself)."""

from __future__ import annotations

from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec

DANGEROUS_VERBS = frozenset({"*", "escalate", "bind", "impersonate"})
READ_VERBS = frozenset({"get", "list", "watch"})
#: (apiGroup, resource) tenants may read but never change
GUARDED = frozenset(
    {
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("", "namespaces"),
        ("networking.k8s.io", "networkpolicies"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
    }
)


def check_bindings(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    for resource in bundle.of_kind("ClusterRoleBinding"):
        findings.cover()
        findings.fail(
            resource,
            "ClusterRoleBindings are not rendered for anyone: they grant "
            "across every namespace; use RoleBindings in the team's namespaces",
        )
    for resource in bundle.of_kind("RoleBinding"):
        team = resource.coords.team
        if team is None:
            continue
        findings.cover()
        namespace = resource.namespace or ""
        if namespace not in owned or owned[namespace][1] != team:
            findings.fail(
                resource,
                f"binds team {team} in namespace {namespace!r}, which the team does not own",
            )


def check_roles(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    roles = {("ClusterRole", r.coords.cluster, r.name): r for r in bundle.of_kind("ClusterRole")}
    roles.update(
        {("Role", r.coords.cluster, f"{r.namespace}/{r.name}"): r for r in bundle.of_kind("Role")}
    )
    checked: set[tuple[str, str, str]] = set()
    for binding in bundle.of_kind("RoleBinding"):
        if binding.coords.team is None:
            continue
        ref = binding.body["roleRef"]
        name = ref["name"] if ref["kind"] == "ClusterRole" else f"{binding.namespace}/{ref['name']}"
        key = (ref["kind"], binding.coords.cluster, name)
        role = roles.get(key)
        if role is None:
            findings.fail(
                binding,
                f"refers to {ref['kind']} {ref['name']}, which goldenpath "
                "does not render; tenants may only hold goldenpath's roles",
            )
        elif key not in checked:
            checked.add(key)
            findings.cover()
            _check_rules(role, findings)


def _check_rules(role: Resource, findings: Findings) -> None:
    for rule in role.body.get("rules", []):
        verbs = set(rule.get("verbs", []))
        groups = rule.get("apiGroups", [])
        resources = rule.get("resources", [])
        if verbs & DANGEROUS_VERBS:
            findings.fail(role, f"grants {', '.join(sorted(verbs & DANGEROUS_VERBS))}")
        if "*" in groups or "*" in resources:
            findings.fail(role, f"uses a wildcard in {_rule_text(rule)}")
        if rule.get("nonResourceURLs") or rule.get("resourceNames") == ["*"]:
            findings.fail(role, f"grants non-resource or wildcard access: {_rule_text(rule)}")
        if verbs - READ_VERBS:
            for group in groups:
                for res in resources:
                    if (group, res.split("/")[0]) in GUARDED:
                        findings.fail(
                            role,
                            f"lets tenants change {res} ({', '.join(sorted(verbs - READ_VERBS))})",
                        )


def _rule_text(rule: dict[str, Any]) -> str:
    return (
        f"apiGroups={rule.get('apiGroups')} resources={rule.get('resources')} "
        f"verbs={rule.get('verbs')}"
    )
