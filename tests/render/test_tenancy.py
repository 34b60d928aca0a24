"""Tenancy objects: namespaces with Pod Security labels, merged quotas, limit ranges,
service accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.render import tenancy
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform


@pytest.fixture(scope="module")
def example() -> Bundle:
    return Bundle.of(tenancy.render(load_platform(EXAMPLE_PLATFORM)))


def _load(root: Path, platform: dict[str, Any], teams: list[dict[str, Any]]) -> PlatformSpec:
    return load_platform(write_platform(root, platform, teams))


def _one(bundle: Bundle, kind: str, namespace: str | None, name: str) -> Resource:
    found = [r for r in bundle.of_kind(kind) if r.namespace == namespace and r.name == name]
    assert len(found) == 1, f"{kind} {namespace}/{name}: {len(found)} found"
    return found[0]


def _hard(bundle: Bundle, namespace: str) -> dict[str, str]:
    return _one(bundle, "ResourceQuota", namespace, "quota").body["spec"]["hard"]  # type: ignore[no-any-return]


def test_one_namespace_per_team_and_environment(example: Bundle) -> None:
    names = sorted(r.name for r in example.of_kind("Namespace"))
    assert names == [
        "checkout-dev", "checkout-prod", "checkout-staging",
        "data-platform-dev", "data-platform-staging",
        "payments-dev", "payments-prod", "payments-staging",
        "storefront-dev", "storefront-prod",
    ]
    for kind in ("ResourceQuota", "LimitRange"):
        assert sorted(r.namespace for r in example.of_kind(kind)) == names  # type: ignore[type-var]


def test_namespace_labels_and_annotations(example: Bundle) -> None:
    ns = _one(example, "Namespace", None, "payments-dev")
    assert ns.coords == Coordinates("nonprod", "payments", "dev")
    assert ns.body == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "payments-dev",
            "labels": {
                "app.kubernetes.io/managed-by": "goldenpath",
                "app.kubernetes.io/part-of": "payments",
                "goldenpath.dev/team": "payments",
                "goldenpath.dev/environment": "dev",
                "goldenpath.dev/cost-center": "CC-1234",
                "goldenpath.dev/tenant": "true",
                "kubernetes.io/metadata.name": "payments-dev",
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/enforce-version": "v1.31",
                "pod-security.kubernetes.io/audit": "baseline",
                "pod-security.kubernetes.io/audit-version": "v1.31",
                "pod-security.kubernetes.io/warn": "baseline",
                "pod-security.kubernetes.io/warn-version": "v1.31",
            },
            "annotations": {"goldenpath.dev/display-name": "Payments"},
        },
    }


@pytest.mark.parametrize(
    ("namespace", "level", "cluster"),
    [("storefront-dev", "baseline", "nonprod"), ("checkout-staging", "restricted", "nonprod"),
     ("payments-prod", "restricted", "prod")],
)
def test_pod_security_level_follows_the_environment(
    example: Bundle, namespace: str, level: str, cluster: str
) -> None:
    ns = _one(example, "Namespace", None, namespace)
    labels = ns.body["metadata"]["labels"]
    assert ns.coords.cluster == cluster
    assert {k: v for k, v in labels.items() if k.startswith("pod-security")} == {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", level), ("-version", "v1.31"))
    }


def test_pod_security_version_follows_kubernetes_version(tmp_path: Path) -> None:
    spec = _load(tmp_path, platform_doc(kubernetesVersion="1.30"), [team_doc("alpha")])
    ns = _one(Bundle.of(tenancy.render(spec)), "Namespace", None, "alpha-prod")
    assert ns.body["metadata"]["labels"]["pod-security.kubernetes.io/warn-version"] == "v1.30"


def test_quota_of_a_team_with_only_builtin_defaults(tmp_path: Path) -> None:
    bundle = Bundle.of(tenancy.render(_load(tmp_path, platform_doc(), [team_doc("alpha")])))
    assert _hard(bundle, "alpha-dev") == {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "requests.ephemeral-storage": "10Gi",
        "limits.ephemeral-storage": "10Gi",
        "requests.storage": "20Gi",
        "persistentvolumeclaims": "10",
        "pods": "40",
        "services": "20",
        "secrets": "50",
        "configmaps": "50",
        "services.nodeports": "0",
        "services.loadbalancers": "0",
    }


def test_quota_merges_defaults_then_team_then_environment(tmp_path: Path) -> None:
    platform = platform_doc(defaults={"quota": {"cpu": "2", "memory": "4Gi", "pods": 10,
                                                "secrets": 5, "storage": "1Gi"}})
    team = team_doc("alpha", quota={"cpu": "6", "secrets": 7},
                    environmentOverrides={"prod": {"quota": {"memory": "16Gi", "secrets": 9,
                                                             "limitsCpu": "20"}}})
    bundle = Bundle.of(tenancy.render(_load(tmp_path, platform, [team])))
    dev, prod = _hard(bundle, "alpha-dev"), _hard(bundle, "alpha-prod")
    picked = ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods",
              "secrets", "requests.storage", "configmaps")
    assert {k: dev[k] for k in picked} == {
        "requests.cpu": "6", "limits.cpu": "12", "requests.memory": "4Gi",
        "limits.memory": "8Gi", "pods": "10", "secrets": "7", "requests.storage": "1Gi",
        "configmaps": "50",
    }
    assert {k: prod[k] for k in picked} == {
        "requests.cpu": "6", "limits.cpu": "20", "requests.memory": "16Gi",
        "limits.memory": "32Gi", "pods": "10", "secrets": "9", "requests.storage": "1Gi",
        "configmaps": "50",
    }
    assert _hard(bundle, "alpha-staging") == dev


def test_limits_default_to_twice_the_latest_request(tmp_path: Path) -> None:
    # a limit set by the team no longer fits once the environment raises the request,
    # so the limit follows the request again
    team = team_doc("alpha", quota={"cpu": "2", "limitsCpu": "3", "memory": "1Gi",
                                    "limitsMemory": "1536Mi"},
                    environmentOverrides={"prod": {"quota": {"cpu": "8", "memory": "3Gi"}}})
    bundle = Bundle.of(tenancy.render(_load(tmp_path, platform_doc(), [team])))
    dev, prod = _hard(bundle, "alpha-dev"), _hard(bundle, "alpha-prod")
    assert (dev["limits.cpu"], dev["limits.memory"]) == ("3", "1536Mi")
    assert (prod["limits.cpu"], prod["limits.memory"]) == ("16", "6Gi")


def test_fractional_limits_are_exact(tmp_path: Path) -> None:
    team = team_doc("alpha", quota={"cpu": "750m", "memory": "768Mi"})
    hard = _hard(Bundle.of(tenancy.render(_load(tmp_path, platform_doc(), [team]))), "alpha-dev")
    assert (hard["limits.cpu"], hard["limits.memory"]) == ("1500m", "1536Mi")


def test_example_quota_with_environment_override(example: Bundle) -> None:
    hard = _hard(example, "payments-prod")
    assert {k: hard[k] for k in ("requests.cpu", "limits.cpu", "requests.memory",
                                  "limits.memory", "pods")} == {
        "requests.cpu": "32", "limits.cpu": "48", "requests.memory": "64Gi",
        "limits.memory": "96Gi", "pods": "100",
    }
    dev = _hard(example, "storefront-dev")
    assert (dev["pods"], dev["persistentvolumeclaims"], dev["requests.storage"]) == (
        "20", "2", "50Gi")
    assert _hard(example, "storefront-prod")["pods"] == "60"


def test_every_quota_forbids_nodeports_and_load_balancers(example: Bundle) -> None:
    for quota in example.of_kind("ResourceQuota"):
        hard = quota.body["spec"]["hard"]
        assert (hard["services.nodeports"], hard["services.loadbalancers"]) == ("0", "0")
        assert all(isinstance(v, str) for v in hard.values())


def test_quota_metadata(example: Bundle) -> None:
    quota = _one(example, "ResourceQuota", "checkout-prod", "quota")
    assert quota.coords == Coordinates("prod", "checkout", "prod")
    assert quota.body["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "goldenpath", "app.kubernetes.io/part-of": "checkout",
        "goldenpath.dev/team": "checkout", "goldenpath.dev/environment": "prod",
    }


def test_limit_range_uses_container_defaults(tmp_path: Path) -> None:
    platform = platform_doc(defaults={"container": {"cpuRequest": "50m", "memoryLimit": "1Gi",
                                                    "maxCpu": "2"}})
    bundle = Bundle.of(tenancy.render(_load(tmp_path, platform, [team_doc("alpha")])))
    limits = _one(bundle, "LimitRange", "alpha-dev", "limits")
    assert limits.body["spec"] == {"limits": [{
        "type": "Container",
        "default": {"cpu": "500m", "memory": "1Gi"},
        "defaultRequest": {"cpu": "50m", "memory": "128Mi"},
        "max": {"cpu": "2", "memory": "8Gi"},
    }]}


def test_one_service_account_per_service_and_environment(example: Bundle) -> None:
    accounts = sorted((r.namespace, r.name) for r in example.of_kind("ServiceAccount"))  # type: ignore[type-var]
    assert accounts == [
        ("checkout-dev", "cart"), ("checkout-dev", "pricing"),
        ("checkout-prod", "cart"), ("checkout-prod", "pricing"),
        ("checkout-staging", "cart"), ("checkout-staging", "pricing"),
        ("data-platform-dev", "ingest"), ("data-platform-staging", "ingest"),
        ("payments-dev", "ledger"), ("payments-dev", "settlement-worker"),
        ("payments-prod", "ledger"), ("payments-prod", "settlement-worker"),
        ("payments-staging", "ledger"), ("payments-staging", "settlement-worker"),
        ("storefront-dev", "web"), ("storefront-prod", "web"),
    ]


def test_service_account_does_not_automount_its_token(example: Bundle) -> None:
    sa = _one(example, "ServiceAccount", "payments-prod", "ledger")
    assert sa.coords == Coordinates("prod", "payments", "prod", "ledger")
    assert sa.body == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "ledger", "namespace": "payments-prod", "labels": {
            "app.kubernetes.io/managed-by": "goldenpath", "app.kubernetes.io/part-of": "payments",
            "goldenpath.dev/team": "payments", "goldenpath.dev/environment": "prod",
            "app.kubernetes.io/name": "ledger", "goldenpath.dev/service": "ledger",
        }},
        "automountServiceAccountToken": False,
    }
    assert all(r.body["automountServiceAccountToken"] is False
               for r in example.of_kind("ServiceAccount"))


def test_team_without_services_gets_no_service_accounts(tmp_path: Path) -> None:
    spec = _load(tmp_path, platform_doc(), [team_doc("alpha", services=[])])
    assert Bundle.of(tenancy.render(spec)).of_kind("ServiceAccount") == []


def test_every_object_is_tagged_with_its_concern(example: Bundle) -> None:
    assert {r.concern for r in example} == {"tenancy"}
