"""Tenant RBAC: goldenpath's own ClusterRoles, granted only through RoleBindings."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.render import rbac
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform

FORBIDDEN_VERBS = {"*", "escalate", "bind", "impersonate"}
GUARDED = {("", "resourcequotas"), ("", "limitranges"), ("", "namespaces"),
           ("networking.k8s.io", "networkpolicies")}
READ = {"get", "list", "watch"}


@pytest.fixture(scope="module")
def example() -> Bundle:
    return Bundle.of(rbac.render(load_platform(EXAMPLE_PLATFORM)))


def _bindings(bundle: Bundle, namespace: str) -> dict[str, Resource]:
    return {r.name: r for r in bundle.of_kind("RoleBinding") if r.namespace == namespace}


def _role_ref(name: str) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}


def test_cluster_roles_once_per_cluster(example: Bundle) -> None:
    roles = sorted((r.coords, r.name) for r in example.of_kind("ClusterRole"))
    assert roles == [
        (Coordinates("nonprod"), "goldenpath-tenant-edit"),
        (Coordinates("nonprod"), "goldenpath-tenant-view"),
        (Coordinates("prod"), "goldenpath-tenant-edit"),
        (Coordinates("prod"), "goldenpath-tenant-view"),
    ]
    assert example.of_kind("ClusterRoleBinding") == []
    assert example.of_kind("Role") == []


def test_cluster_roles_are_the_same_on_every_cluster(example: Bundle) -> None:
    by_cluster = {}
    for role in example.of_kind("ClusterRole"):
        by_cluster.setdefault(role.name, []).append(role.body)
    for bodies in by_cluster.values():
        assert bodies[0] == bodies[1]


@pytest.mark.parametrize("name", ["goldenpath-tenant-edit", "goldenpath-tenant-view"])
def test_cluster_roles_cannot_escalate_or_change_guardrails(example: Bundle, name: str) -> None:
    role = next(r for r in example.of_kind("ClusterRole") if r.name == name)
    assert role.body["metadata"] == {"name": name,
                                     "labels": {"app.kubernetes.io/managed-by": "goldenpath"}}
    for rule in role.body["rules"]:
        assert not set(rule["verbs"]) & FORBIDDEN_VERBS
        assert "*" not in rule["apiGroups"] and "*" not in rule["resources"]
        assert "nonResourceURLs" not in rule and "resourceNames" not in rule
        if set(rule["verbs"]) - READ:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    assert (group, resource.split("/")[0]) not in GUARDED
                    assert group != "rbac.authorization.k8s.io"


def test_view_role_only_reads(example: Bundle) -> None:
    role = next(r for r in example.of_kind("ClusterRole") if r.name == "goldenpath-tenant-view")
    assert {v for rule in role.body["rules"] for v in rule["verbs"]} == READ
    readable = {(g, res) for rule in role.body["rules"] for g in rule["apiGroups"]
                for res in rule["resources"]}
    # tenants see their guardrails
    assert readable >= GUARDED
    assert ("", "secrets") not in readable


def test_edit_role_writes_workloads_and_debugs_pods(example: Bundle) -> None:
    role = next(r for r in example.of_kind("ClusterRole") if r.name == "goldenpath-tenant-edit")
    writable = {(g, res) for rule in role.body["rules"] if set(rule["verbs"]) - READ
                for g in rule["apiGroups"] for res in rule["resources"]}
    assert {("apps", "deployments"), ("", "secrets"), ("", "services"),
            ("", "pods/exec")} <= writable
    assert not writable & GUARDED
    # the shared edge is platform-owned: no hand-made endpoints, Ingresses or tokens
    assert not writable & {("", "endpoints"), ("discovery.k8s.io", "endpointslices"),
                           ("networking.k8s.io", "ingresses"), ("", "serviceaccounts"),
                           ("", "serviceaccounts/token"), ("", "pods/ephemeralcontainers")}
    assert not {g for g, _ in writable} & {"gateway.networking.k8s.io"}


def test_bindings_follow_the_environment_access_levels(example: Bundle) -> None:
    # dev: owners edit, members edit, viewers view
    dev = _bindings(example, "payments-dev")
    assert {n: b.body["roleRef"]["name"] for n, b in dev.items()} == {
        "goldenpath-owners": "goldenpath-tenant-edit",
        "goldenpath-members": "goldenpath-tenant-edit",
        "goldenpath-viewers": "goldenpath-tenant-view",
    }
    # staging: owners edit, members view, viewers view
    staging = _bindings(example, "payments-staging")
    assert {n: b.body["roleRef"]["name"] for n, b in staging.items()} == {
        "goldenpath-owners": "goldenpath-tenant-edit",
        "goldenpath-members": "goldenpath-tenant-view",
        "goldenpath-viewers": "goldenpath-tenant-view",
    }
    # prod: owners view, members view, viewers none -> no binding at all
    prod = _bindings(example, "payments-prod")
    assert {n: b.body["roleRef"]["name"] for n, b in prod.items()} == {
        "goldenpath-owners": "goldenpath-tenant-view",
        "goldenpath-members": "goldenpath-tenant-view",
    }


def test_binding_body(example: Bundle) -> None:
    binding = _bindings(example, "payments-dev")["goldenpath-owners"]
    assert binding.coords == Coordinates("nonprod", "payments", "dev")
    assert binding.body == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "goldenpath-owners", "namespace": "payments-dev", "labels": {
            "app.kubernetes.io/managed-by": "goldenpath", "app.kubernetes.io/part-of": "payments",
            "goldenpath.dev/team": "payments", "goldenpath.dev/environment": "dev",
        }},
        "roleRef": _role_ref("goldenpath-tenant-edit"),
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                      "name": "alice@example.com"}],
    }


def test_subjects_map_users_groups_and_service_accounts(example: Bundle) -> None:
    members = _bindings(example, "checkout-dev")["goldenpath-members"]
    assert members.body["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "checkout-devs"},
        {"kind": "ServiceAccount", "name": "checkout-deployer", "namespace": "ci"},
    ]
    owners = _bindings(example, "storefront-dev")["goldenpath-owners"]
    assert [s["name"] for s in owners.body["subjects"]] == ["bob@example.com",
                                                            "carol@example.com"]


def test_no_binding_for_empty_subject_lists(example: Bundle) -> None:
    # storefront names no viewers
    assert sorted(_bindings(example, "storefront-dev")) == ["goldenpath-members",
                                                            "goldenpath-owners"]


def test_access_none_renders_no_binding(tmp_path: Path) -> None:
    platform = platform_doc(environments=[
        {"name": "dev", "access": {"owners": "edit", "members": "none", "viewers": "none"}},
        {"name": "staging", "access": {"owners": "none", "members": "none", "viewers": "none"}},
        {"name": "prod"},
    ])
    spec = load_platform(write_platform(tmp_path, platform, [team_doc("alpha")]))
    bundle = Bundle.of(rbac.render(spec))
    assert sorted(_bindings(bundle, "alpha-dev")) == ["goldenpath-owners"]
    assert _bindings(bundle, "alpha-staging") == {}
    # defaults: owners edit, members edit, viewers view
    assert {n: b.body["roleRef"]["name"] for n, b in _bindings(bundle, "alpha-prod").items()} == {
        "goldenpath-owners": "goldenpath-tenant-edit",
        "goldenpath-members": "goldenpath-tenant-edit",
        "goldenpath-viewers": "goldenpath-tenant-view",
    }


def test_bindings_only_in_the_teams_own_namespaces(example: Bundle) -> None:
    for binding in example.of_kind("RoleBinding"):
        assert binding.namespace == f"{binding.coords.team}-{binding.coords.environment}"
        assert binding.body["roleRef"]["kind"] == "ClusterRole"
        assert binding.body["roleRef"]["name"] in {"goldenpath-tenant-edit",
                                                   "goldenpath-tenant-view"}


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("user:alice@example.com",
         {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"}),
        ("group:devs", {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                        "name": "devs"}),
        ("serviceaccount:ci/deployer",
         {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}),
    ],
)
def test_subject(text: str, subject: dict[str, str]) -> None:
    assert rbac.subject(text) == subject
