"""RBAC guardrails: tenants get RoleBindings in their own namespaces, for the subjects and
access levels their spec names, to roles that cannot escalate, impersonate, rewrite the
guardrails (quota, limits, network policy, RBAC, the namespace itself) or reach past the
shared edge (hand-made endpoints, Ingresses, Gateway routes, service-account tokens).

Every decision is taken from the objects themselves: a binding's namespace says whose it
is (from the spec, never from the coordinates the renderer attached), its subjects and
roleRef say what it grants. The one coordinate read is the cluster, which is where the
object is written and applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render import rbac
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
#: Writes that are refused with a reason of their own (anything else outside the tenant
#: kinds is refused as "not a kind tenants may deploy"). Listed here, not derived from
#: the renderer's table, so a renderer that grows one of them is caught.
EDGE = {
    ("", "endpoints"): "hand-made endpoints send a Service's traffic to any address, "
                       "another tenant's pods included",
    ("discovery.k8s.io", "endpointslices"): "hand-made endpoints send a Service's traffic "
                                            "to any address, another tenant's pods included",
    ("networking.k8s.io", "ingresses"): "Ingresses are platform-owned: goldenpath renders "
                                        "one per service for the host the team owns",
    ("", "serviceaccounts"): "service accounts are platform-owned",
    ("", "serviceaccounts/token"): "it mints API tokens for any service account of the "
                                   "namespace",
    ("", "pods/ephemeralcontainers"): "ephemeral containers run outside the LimitRange "
                                      "and the quota",
}
#: Every write in this group is refused: routes claim hosts at the shared edge.
EDGE_GROUPS = {"gateway.networking.k8s.io": "Gateway API objects claim hosts and routes at "
                                            "the shared edge; goldenpath renders Ingresses"}
#: The roles a tenant binding may refer to, and the access level each stands for.
TENANT_ROLES = {role: level for level, role in rbac.ROLE_FOR_ACCESS.items()}
AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-"
_ACCESS_RANK = {"none": 0, "view": 1, "edit": 2}


def check_bindings(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for resource in bundle.of_kind("ClusterRoleBinding"):
        findings.cover()
        findings.fail(
            resource,
            "ClusterRoleBindings are not rendered for anyone: they grant "
            "across every namespace; use RoleBindings in the team's namespaces",
        )
    owned = tenant_namespaces(spec)
    for resource in bundle.of_kind("RoleBinding"):
        findings.cover()
        namespace = resource.namespace or ""
        where = owned.get(namespace)
        if where is None:
            findings.fail(resource, f"binds in namespace {namespace!r}, which is not a tenant "
                          "namespace; goldenpath renders RoleBindings only for tenants")
            continue
        cluster, team, env = where
        if resource.coords.cluster != cluster:
            findings.fail(resource, f"namespace {namespace!r} is on cluster {cluster}, "
                          f"not {resource.coords.cluster}")
        _check_subjects(spec, resource, team, env, findings)


def _check_subjects(spec: PlatformSpec, binding: Resource, team: str, env: str,
                    findings: Findings) -> None:
    """Each subject must be one the team's spec names, bound at most at its access level."""
    granted = _granted(spec, team, env)
    level = TENANT_ROLES.get(str(binding.body.get("roleRef", {}).get("name")))
    for subject in binding.body.get("subjects") or []:
        key = _subject_key(subject)
        allowed = granted.get(key)
        if allowed is None:
            findings.fail(binding, f"binds {_subject_text(subject)}, which team {team}'s "
                          f"spec does not give access to {env}")
        elif level is not None and _ACCESS_RANK[level] > _ACCESS_RANK[allowed]:
            findings.fail(binding, f"grants {_subject_text(subject)} {level} access to {env}, "
                          f"where the platform gives it {allowed}")


def _granted(spec: PlatformSpec, team: str, env: str) -> dict[tuple[str, ...], str]:
    """Subject -> the highest access level the spec gives it in ``env`` (never "none")."""
    body = spec.team(team).spec
    access = spec.environments[env].access
    out: dict[tuple[str, ...], str] = {}
    for level, subjects in ((access.owners, body.owners), (access.members, body.members),
                            (access.viewers, body.viewers)):
        if level == "none":
            continue
        for text in subjects:
            key = _subject_key(rbac.subject(text))
            if _ACCESS_RANK[level] > _ACCESS_RANK[out.get(key, "none")]:
                out[key] = level
    return out


def _subject_key(subject: dict[str, Any]) -> tuple[str, ...]:
    """A subject's identity, every field included: a User with a foreign apiGroup or a
    ServiceAccount in another namespace is another subject."""
    return tuple(sorted(f"{k}={v}" for k, v in subject.items()))


def _subject_text(subject: dict[str, Any]) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    namespace = subject.get("namespace")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name!r}"


def check_roles(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    roles = {(r.coords.cluster, r.name): r for r in bundle.of_kind("ClusterRole")}
    for cluster_role in roles.values():
        _check_aggregation(cluster_role, findings)
    checked: set[tuple[str, str]] = set()
    for binding in bundle.of_kind("RoleBinding"):
        if (binding.namespace or "") not in owned:
            continue  # refused by rbac-bindings
        ref = binding.body.get("roleRef", {})
        key = (binding.coords.cluster, str(ref.get("name")))
        role = roles.get(key) if ref.get("kind") == "ClusterRole" else None
        if role is None or key[1] not in TENANT_ROLES:
            findings.fail(
                binding,
                f"refers to {ref.get('kind')} {ref.get('name')}, which goldenpath "
                "does not render; tenants may only hold goldenpath's roles",
            )
        elif key not in checked:
            checked.add(key)
            findings.cover()
            _check_rules(role, findings)
            if TENANT_ROLES[key[1]] == "view":
                _check_read_only(role, findings)


def _check_aggregation(role: Resource, findings: Findings) -> None:
    """An aggregated role takes in the rules of every ClusterRole whose labels match,
    including ones installed later; a role labelled ``aggregate-to-*`` adds its rules to
    the built-in admin/edit/view roles that other namespaces' users hold."""
    findings.cover()
    if "aggregationRule" in role.body:
        findings.fail(role, "has an aggregationRule: its rules would be whatever other "
                      "ClusterRoles' labels add; list the rules")
    labels = role.body.get("metadata", {}).get("labels") or {}
    for label in sorted(k for k in labels if k.startswith(AGGREGATE_LABEL)):
        findings.fail(role, f"label {label} adds its rules to a built-in role")


def _check_rules(role: Resource, findings: Findings) -> None:
    for rule in role.body.get("rules") or []:
        verbs = set(rule.get("verbs", []))
        groups = rule.get("apiGroups", [])
        resources = rule.get("resources", [])
        if verbs & DANGEROUS_VERBS:
            findings.fail(role, f"grants {', '.join(sorted(verbs & DANGEROUS_VERBS))}")
        if "*" in groups or "*" in resources:
            findings.fail(role, f"uses a wildcard in {_rule_text(rule)}")
        if rule.get("nonResourceURLs") or rule.get("resourceNames") == ["*"]:
            findings.fail(role, f"grants non-resource or wildcard access: {_rule_text(rule)}")
        writes = verbs - READ_VERBS
        if writes:
            # escalate/bind alone on a resource that is not a guardrail is reported once,
            # as a dangerous verb, not again as a write
            guarded_only = writes <= DANGEROUS_VERBS
            for message in _write_issues(groups, resources, guarded_only):
                findings.fail(role, message.format(writes=", ".join(sorted(writes))))


def _write_issues(groups: list[str], resources: list[str], guarded_only: bool) -> Iterator[str]:
    """What is wrong with writing ``resources`` of ``groups``; ``{writes}`` is filled in."""
    for group in groups:
        for res in resources:
            if "*" in (group, res):
                continue  # reported as a wildcard
            if (group, res.split("/")[0]) in GUARDED:
                yield f"lets tenants change {res} ({{writes}})"
            elif guarded_only:
                continue
            elif group in EDGE_GROUPS:
                yield f"lets tenants change {group} {res} ({{writes}}): {EDGE_GROUPS[group]}"
            elif (group, res) in EDGE:
                yield f"lets tenants change {res} ({{writes}}): {EDGE[(group, res)]}"
            elif (group, res) not in _TENANT_WRITES:
                yield (f"lets tenants change {_qualified(group, res)} ({{writes}}), which is "
                       "not one of the kinds tenants may deploy")


def _check_read_only(role: Resource, findings: Findings) -> None:
    for rule in role.body.get("rules") or []:
        writes = set(rule.get("verbs", [])) - READ_VERBS - DANGEROUS_VERBS
        if writes:
            findings.fail(role, f"is bound for view access but grants "
                          f"{', '.join(sorted(writes))} in {_rule_text(rule)}")


def _tenant_writes() -> frozenset[tuple[str, str]]:
    kinds = {(k.group, res) for k in rbac.TENANT_KINDS for res in (k.resource, *k.subresources)}
    return frozenset(kinds | {("", res) for res in rbac.POD_DEBUG})


_TENANT_WRITES = _tenant_writes()


def _qualified(group: str, resource: str) -> str:
    return f"{resource}.{group}" if group else resource


def _rule_text(rule: dict[str, Any]) -> str:
    return (
        f"apiGroups={rule.get('apiGroups')} resources={rule.get('resources')} "
        f"verbs={rule.get('verbs')}"
    )
