"""The guardrail set as a whole: the example passes with real coverage; schema, secrets and
capacity refuse what breaks them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.policy.schema import CUSTOM_GROUPS
from goldenpath.render import Bundle, render
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
NAMES = ["schema", "coordinates", "pod-security", "resource-quota", "limit-range", "default-deny",
         "network-selectors", "rbac-bindings", "rbac-roles", "service-accounts",
         "argocd-projects", "argocd-applications", "shared-edge", "edge-admission", "no-secrets",
         "network-reach", "object-size", "team-objects", "quota-max", "capacity", "unique-names"]


def test_guardrails_are_listed_in_order() -> None:
    assert [g.name for g in policy.GUARDRAILS] == NAMES


def test_example_passes_every_guardrail_with_coverage(example: Example) -> None:
    spec, bundle = example
    report = policy.enforce(spec, bundle)
    assert report.passed and report.violations == []
    covered = {r.name: r.covered for r in report.results}
    assert list(covered) == NAMES
    tenant_policies = [r for r in bundle.of_kind("NetworkPolicy") if r.coords.team]
    tenant_bindings = [r for r in bundle.of_kind("RoleBinding") if r.coords.team]
    built_in = [r for r in bundle if r.api_version.rpartition("/")[0] not in CUSTOM_GROUPS]
    assert covered | {"argocd-projects": 0, "argocd-applications": 0} == {
        "schema": len(built_in),
        "coordinates": len(bundle),
        "pod-security": 10,
        "resource-quota": 10,
        "limit-range": 10,
        "default-deny": 10,
        "network-selectors": len(tenant_policies),
        "rbac-bindings": len(tenant_bindings),
        # every ClusterRole (aggregation), then the rules of nonprod edit + view and
        # prod view: the roles tenant bindings refer to
        "rbac-roles": 4 + 3,
        "service-accounts": 16,
        "argocd-projects": 0,
        "argocd-applications": 0,
        # the six Ingresses and the ten Namespaces (their hosts annotation); the policy and
        # binding of each of the two clusters
        "shared-edge": len(bundle.of_kind("Ingress")) + len(bundle.of_kind("Namespace")),
        "edge-admission": 4,
        "no-secrets": len(bundle),
        "network-reach": len(bundle.of_kind("NetworkPolicy")),
        "object-size": len(bundle),
        "team-objects": 4,
        "quota-max": 10,
        # the quotas of checkout-prod, payments-prod and storefront-prod on "prod"
        "capacity": 3,
        "unique-names": len(bundle),
    }
    assert len(tenant_policies) >= 50 and len(tenant_bindings) == 26
    assert len(bundle.of_kind("Ingress")) == 6 and len(bundle.of_kind("Namespace")) == 10
    assert covered["argocd-projects"] == len(bundle.of_kind("AppProject"))


def test_check_reports_without_raising(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ServiceAccount", "payments-prod", "ledger",
                    lambda b: b.update({"automountServiceAccountToken": True}))
    report = policy.check(spec, bundle)
    assert not report.passed
    assert [r.name for r in report.results if not r.passed] == ["service-accounts"]
    assert [str(v) for v in report.violations] == [
        "[service-accounts] prod/ServiceAccount payments-prod/ledger: tenant service accounts "
        "must set automountServiceAccountToken: false"
    ]


# --- schema -----------------------------------------------------------------------------


def test_schema_refuses_an_invalid_object(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Namespace", None, "payments-dev",
                    lambda b: b.update({"colour": "red"}))
    assert refused(spec, bundle) == [
        "[schema] nonprod/Namespace payments-dev: <root>: Additional properties are not "
        "allowed ('colour' was unexpected)"
    ]


def test_schema_refuses_a_wrong_type(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ResourceQuota", "payments-dev", "quota",
                    lambda b: b["spec"]["hard"].update({"configmaps": ["50"]}))
    schema_line, quota_line = refused(spec, bundle)
    assert schema_line.startswith("[schema] nonprod/ResourceQuota payments-dev/quota: "
                                  "spec.hard.configmaps: ")
    # nor can the quota guardrail read it as a quantity
    assert quota_line == ("[resource-quota] Namespace payments-dev: ResourceQuota quota: "
                          "configmaps: ['50'] is not a Kubernetes quantity")


def test_schema_refuses_a_kind_it_does_not_know(example: Example) -> None:
    spec, bundle = example
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert refused(spec, plus(bundle, Coordinates("prod"), widget)) == [
        "[schema] prod/Widget w: no Kubernetes 1.31 schema for example.com/v1 Widget",
        "[coordinates] prod/Widget w: goldenpath renders no example.com/v1 Widget, so nothing "
        "says where it belongs; refused",
    ]


def test_schema_refuses_an_unsupported_kubernetes_version(tmp_path: Path) -> None:
    spec = load_platform(write_platform(tmp_path, platform_doc(kubernetesVersion="1.99"),
                                        [team_doc("alpha")]))
    report = policy.check(spec, render(spec))
    [schema] = [r for r in report.results if r.name == "schema"]
    [violation] = schema.violations
    assert violation.object_ref == "platform"
    assert violation.message.startswith("kubernetesVersion 1.99 is not supported; choose one of ")
    assert "1.31" in violation.message


# --- secrets ----------------------------------------------------------------------------


def test_secret_object(example: Example) -> None:
    spec, bundle = example
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "creds", "namespace": "payments-dev"},
              "stringData": {"password": "hunter2"}}
    assert refused(spec, plus(bundle, Coordinates("nonprod", "payments", "dev"), secret)) == [
        "[coordinates] nonprod/Secret payments-dev/creds: goldenpath renders no v1 Secret, so "
        "nothing says where it belongs; refused",
        "[no-secrets] nonprod/Secret payments-dev/creds: Secret objects are never written to "
        "git; reference a Secret created out of band"
    ]


@pytest.mark.parametrize(
    ("field", "path"),
    [("apiURL", "spec.receivers[0].slackConfigs[0].apiURL"),
     ("routingKey", "spec.receivers[0].slackConfigs[0].routingKey")],
)
def test_literal_credential(example: Example, field: str, path: str) -> None:
    spec, bundle = example
    config: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
        "metadata": {"name": "leaky", "namespace": "payments-dev"},
        "spec": {"receivers": [{"name": "slack", "slackConfigs": [
            {field: "https://hooks.slack.com/services/T000/B000/XXXX"}]}]},
    }
    assert refused(spec, plus(bundle, Coordinates("nonprod", "payments", "dev"), config)) == [
        f"[no-secrets] nonprod/AlertmanagerConfig payments-dev/leaky: {path} holds a literal "
        "value; use a secret reference"
    ]


def test_literal_credential_in_a_built_in_object(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ConfigMap", "monitoring", "dashboard.checkout.prod",
                    lambda b: b["data"].update({"token": "abc123"}))
    assert refused(spec, bundle) == [
        "[no-secrets] prod/ConfigMap monitoring/dashboard.checkout.prod: data.token holds a "
        "literal value; use a secret reference"
    ]


# --- capacity ---------------------------------------------------------------------------


def _capacity_spec(root: Path, cpu: str, memory: str, quotas: dict[str, str]) -> PlatformSpec:
    platform = platform_doc()
    platform["spec"]["clusters"][1]["capacity"] = {"cpu": cpu, "memory": memory}
    teams = [team_doc(name, quota={"cpu": q}) for name, q in quotas.items()]
    return load_platform(write_platform(root, platform, teams))


def test_capacity_overflow_names_the_largest_consumers(tmp_path: Path) -> None:
    spec = _capacity_spec(tmp_path, "10", "1Ti", {"alpha": "4", "beta": "6", "gamma": "2"})
    assert refused(spec, render(spec)) == [
        "[capacity] cluster prod: team quotas request 12 cpu, more than the cluster's capacity "
        "10; largest: beta-prod 6, alpha-prod 4, gamma-prod 2"
    ]


def test_capacity_lists_at_most_five_consumers(tmp_path: Path) -> None:
    quotas = {f"t{i}": f"{i}" for i in range(1, 8)}
    spec = _capacity_spec(tmp_path, "100", "20Gi", quotas)
    # 7 teams x 8Gi default memory = 56Gi; cpu 28 fits
    assert refused(spec, render(spec)) == [
        "[capacity] cluster prod: team quotas request 56Gi memory, more than the cluster's "
        "capacity 20Gi; largest: t1-prod 8Gi, t2-prod 8Gi, t3-prod 8Gi, t4-prod 8Gi, t5-prod 8Gi"
    ]


def test_capacity_that_fits_exactly(tmp_path: Path) -> None:
    spec = _capacity_spec(tmp_path, "12", "24Gi", {"alpha": "4", "beta": "6", "gamma": "2"})
    report = policy.enforce(spec, render(spec))
    assert {r.name: r.covered for r in report.results}["capacity"] == 3


def test_capacity_is_not_checked_without_a_declaration(tmp_path: Path) -> None:
    spec = load_platform(write_platform(tmp_path, platform_doc(), [team_doc("alpha")]))
    report = policy.enforce(spec, render(spec))
    assert {r.name: r.covered for r in report.results}["capacity"] == 0


@pytest.mark.parametrize(("version", "api"), [("1.28", "v1beta1"), ("1.29", "v1beta1"),
                                              ("1.30", "v1")])
def test_every_admission_api_passes_every_guardrail(tmp_path: Path, version: str,
                                                    api: str) -> None:
    """The tenant edge's admission policy is v1beta1 before Kubernetes 1.30: coordinates
    knows both versions as platform-owned cluster objects, as the Ingress as a tenant's."""
    services = [{"name": "api", "template": "python-service",
                 "ingress": {"host": "api.alpha.example.com", "environments": ["dev", "prod"]}}]
    doc = platform_doc(kubernetesVersion=version)
    spec = load_platform(write_platform(tmp_path, doc, [team_doc("alpha", services=services)]))
    bundle = render(spec)
    assert {r.api_version for r in bundle if r.kind.startswith("ValidatingAdmission")} == {
        f"admissionregistration.k8s.io/{api}"}
    assert len(bundle.of_kind("Ingress")) == 2
    assert policy.check(spec, bundle).violations == []
