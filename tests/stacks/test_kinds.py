"""Kind -> pulumi-kubernetes class: typed classes for built-ins, CustomResource otherwise,
and whatever the class, the registered object is the manifest, field for field."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi_kubernetes.apiextensions import CustomResource

from goldenpath_stack import kinds
from tests.stacks.conftest import RecordingMonitor


@pytest.mark.parametrize(
    ("api_version", "kind", "cls"),
    [
        ("v1", "Namespace", k8s.core.v1.Namespace),
        ("v1", "ConfigMap", k8s.core.v1.ConfigMap),
        ("networking.k8s.io/v1", "NetworkPolicy", k8s.networking.v1.NetworkPolicy),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", k8s.rbac.v1.ClusterRole),
        ("apps/v1", "Deployment", k8s.apps.v1.Deployment),
        ("policy/v1", "PodDisruptionBudget", k8s.policy.v1.PodDisruptionBudget),
        ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", k8s.flowcontrol.v1.FlowSchema),
        ("networking.k8s.io/v1", "Ingress", k8s.networking.v1.Ingress),
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy",
         k8s.admissionregistration.v1.ValidatingAdmissionPolicy),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding",
         k8s.admissionregistration.v1beta1.ValidatingAdmissionPolicyBinding),
    ],
)
def test_builtin_kinds_get_their_typed_class(api_version: str, kind: str, cls: type) -> None:
    assert kinds.typed_class(api_version, kind) is cls


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("argoproj.io/v1alpha1", "AppProject"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        # a CRD group whose first label is a pulumi_kubernetes module must not be taken
        ("policy.example.com/v1", "PodDisruptionBudget"),
        ("v1", "NotAKindYet"),
        ("v9", "Namespace"),
        ("v1", "PodSpecArgs"),  # a class of the module, not a resource
    ],
)
def test_other_kinds_have_no_typed_class(api_version: str, kind: str) -> None:
    assert kinds.typed_class(api_version, kind) is None


CASES: list[tuple[str, dict[str, Any], str, type]] = [
    ("typed with camelCase fields", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "rb", "namespace": "t-dev"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"},
        "subjects": [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}],
    }, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", k8s.rbac.v1.RoleBinding),
    ("typed with data", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "dash", "namespace": "monitoring",
                     "labels": {"grafana_dashboard": "1"}},
        "data": {"team.json": '{"panels": []}'},
    }, "kubernetes:core/v1:ConfigMap", k8s.core.v1.ConfigMap),
    ("custom kind", {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "api", "namespace": "t-dev"},
        "spec": {"endpoints": [{"port": "http-metrics", "interval": "30s"}],
                 "selector": {"matchLabels": {"app": "api"}}},
    }, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", CustomResource),
    ("custom kind with a top-level field besides spec", {
        "apiVersion": "example.dev/v1", "kind": "Thing",
        "metadata": {"name": "t"}, "spec": {"a": 1}, "data": {"b": [1, 2]},
    }, "kubernetes:example.dev/v1:Thing", pulumi.CustomResource),
    ("built-in kind unknown to pulumi-kubernetes", {
        "apiVersion": "v1", "kind": "FutureThing", "metadata": {"name": "f", "namespace": "n"},
        "spec": {"x": True},
    }, "kubernetes:v1:FutureThing", CustomResource),
    ("typed kind with a field its class does not have", {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "n"},
        "futureField": {"enabled": True},
    }, "kubernetes:v1:ServiceAccount", pulumi.CustomResource),
]


@pytest.mark.parametrize(("case", "body", "token", "cls"), CASES, ids=[c[0] for c in CASES])
@pulumi.runtime.test
def test_registered_object_is_the_manifest(monitor: RecordingMonitor, case: str,
                                           body: dict[str, Any], token: str, cls: type) -> Any:
    resource = kinds.create("obj", body, pulumi.ResourceOptions())
    assert isinstance(resource, cls)

    def check(urn: str) -> None:
        registered = monitor.registrations[urn]
        assert registered.type == token
        assert registered.inputs == body

    return resource.urn.apply(check)
