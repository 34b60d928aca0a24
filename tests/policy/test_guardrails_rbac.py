"""RBAC guardrails refuse a tampered Bundle: no ClusterRoleBindings, no foreign namespaces,
no roles that escalate or rewrite the guardrails."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.render import Bundle
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
RBAC = "rbac.authorization.k8s.io"
EDIT = "goldenpath-tenant-edit"


def test_cluster_role_binding(example: Example) -> None:
    spec, bundle = example
    binding = {
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "payments-view"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "goldenpath-tenant-view"},
        "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": "payments-devs"}],
    }
    assert refused(spec, plus(bundle, Coordinates("prod", "payments"), binding)) == [
        # nothing says where an object of a kind goldenpath never renders belongs
        "[coordinates] prod/ClusterRoleBinding payments-view: goldenpath renders no "
        "rbac.authorization.k8s.io/v1 ClusterRoleBinding, so nothing says where it belongs; "
        "refused",
        "[rbac-bindings] prod/ClusterRoleBinding payments-view: ClusterRoleBindings are not "
        "rendered for anyone: they grant across every namespace; use RoleBindings in the "
        "team's namespaces"
    ]


def test_role_binding_in_another_teams_namespace(example: Example) -> None:
    spec, bundle = example
    owners = next(r for r in bundle.of_kind("RoleBinding")
                  if r.namespace == "payments-dev" and r.name == "goldenpath-owners")
    # Named apart from checkout's own binding, which unique-names would refuse on its own.
    meta = {**owners.body["metadata"], "namespace": "checkout-dev", "name": "payments-owners"}
    body: dict[str, Any] = {**owners.body, "metadata": meta}
    assert refused(spec, plus(bundle, owners.coords, body)) == [
        "[coordinates] nonprod/RoleBinding checkout-dev/payments-owners: has team payments's "
        "coordinates, but namespace 'checkout-dev' is not one of its namespaces (payments-dev, "
        "payments-prod, payments-staging)",
        # judged by the team owning the namespace, whose spec does not name payments' owner
        "[rbac-bindings] nonprod/RoleBinding checkout-dev/payments-owners: binds User "
        "'alice@example.com', which team checkout's spec does not give access to dev"
    ]


def test_role_binding_to_a_built_in_role(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "RoleBinding", "payments-dev", "goldenpath-members",
                    lambda b: b["roleRef"].update({"name": "admin"}))
    assert refused(spec, bundle) == [
        "[rbac-roles] nonprod/RoleBinding payments-dev/goldenpath-members: refers to "
        "ClusterRole admin, which goldenpath does not render; tenants may only hold "
        "goldenpath's roles"
    ]


def _add_rule(rule: dict[str, Any]) -> Any:
    return lambda body: body["rules"].append(rule)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["escalate"]},
         "grants escalate"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["bind", "get"]},
         "grants bind"),
        ({"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]},
         "grants impersonate"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "grants *"),
        ({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]},
         "uses a wildcard in apiGroups=['*'] resources=['deployments'] verbs=['get']"),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["list"]},
         "uses a wildcard in apiGroups=[''] resources=['*'] verbs=['list']"),
        ({"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
          "verbs": ["get", "patch"]},
         "lets tenants change networkpolicies (patch)"),
        ({"apiGroups": [""], "resources": ["resourcequotas"], "verbs": ["update"]},
         "lets tenants change resourcequotas (update)"),
        ({"apiGroups": [""], "resources": ["limitranges"], "verbs": ["delete"]},
         "lets tenants change limitranges (delete)"),
        ({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create", "patch"]},
         "lets tenants change namespaces (create, patch)"),
        ({"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["create"]},
         "lets tenants change rolebindings (create)"),
        ({"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
         "grants non-resource or wildcard access: apiGroups=None resources=None verbs=['get']"),
    ],
    ids=["escalate", "bind", "impersonate", "star-verb", "star-group", "star-resource",
         "networkpolicies", "resourcequotas", "limitranges", "namespaces", "rolebindings",
         "non-resource"],
)
def test_dangerous_rule_in_a_tenant_role(
    example: Example, rule: dict[str, Any], message: str
) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ClusterRole", None, EDIT, _add_rule(rule), cluster="nonprod")
    assert refused(spec, bundle) == [f"[rbac-roles] nonprod/ClusterRole {EDIT}: {message}"]


def test_each_bound_role_is_checked_once(example: Example) -> None:
    spec, bundle = example
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["escalate"]}
    bundle = tamper(bundle, "ClusterRole", None, "goldenpath-tenant-view", _add_rule(rule),
                    cluster="prod")
    # bound by every prod RoleBinding, reported once
    assert refused(spec, bundle) == [
        "[rbac-roles] prod/ClusterRole goldenpath-tenant-view: grants escalate"
    ]


def test_escalate_on_roles_is_reported_twice(example: Example) -> None:
    spec, bundle = example
    rule = {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate"]}
    bundle = tamper(bundle, "ClusterRole", None, EDIT, _add_rule(rule), cluster="nonprod")
    assert refused(spec, bundle) == [
        f"[rbac-roles] nonprod/ClusterRole {EDIT}: grants escalate",
        f"[rbac-roles] nonprod/ClusterRole {EDIT}: lets tenants change roles (escalate)",
    ]
