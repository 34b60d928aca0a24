"""Network isolation objects: default deny, then exactly the allows the spec names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.render import network
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform

NAME = "kubernetes.io/metadata.name"


@pytest.fixture(scope="module")
def example() -> Bundle:
    return Bundle.of(network.render(load_platform(EXAMPLE_PLATFORM)))


def _load(root: Path, platform: dict[str, Any], teams: list[dict[str, Any]]) -> PlatformSpec:
    return load_platform(write_platform(root, platform, teams))


def _policies(bundle: Bundle, namespace: str) -> dict[str, Resource]:
    return {r.name: r for r in bundle.of_kind("NetworkPolicy") if r.namespace == namespace}


def _by_names(names: list[str]) -> dict[str, Any]:
    return {"namespaceSelector": {"matchExpressions": [
        {"key": NAME, "operator": "In", "values": names}]}}


def test_policy_set_per_namespace(example: Bundle) -> None:
    assert sorted(_policies(example, "payments-prod")) == [
        "allow-dns", "allow-egress-cidrs", "allow-from-ingress", "allow-from-monitoring",
        "allow-from-teams", "allow-same-namespace", "default-deny",
    ]
    # checkout is listed by payments: it may send there
    assert sorted(_policies(example, "checkout-prod")) == [
        "allow-dns", "allow-from-ingress", "allow-from-monitoring", "allow-from-teams",
        "allow-same-namespace", "allow-to-teams", "default-deny",
    ]
    # data-platform names no teams and no CIDRs, and serves no host
    assert sorted(_policies(example, "data-platform-dev")) == [
        "allow-dns", "allow-from-monitoring", "allow-same-namespace", "default-deny",
    ]


def test_default_deny_for_ingress_and_egress(example: Bundle) -> None:
    policy = _policies(example, "checkout-dev")["default-deny"]
    assert policy.coords == Coordinates("nonprod", "checkout", "dev")
    assert policy.body == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "checkout-dev", "labels": {
            "app.kubernetes.io/managed-by": "goldenpath", "app.kubernetes.io/part-of": "checkout",
            "goldenpath.dev/team": "checkout", "goldenpath.dev/environment": "dev",
        }},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def test_every_namespace_has_default_deny_and_dns(example: Bundle) -> None:
    namespaces = {r.namespace for r in example.of_kind("NetworkPolicy")}
    assert len(namespaces) == 10
    for ns in namespaces:
        assert {"default-deny", "allow-dns", "allow-same-namespace"} <= set(
            _policies(example, ns))  # type: ignore[arg-type]


def test_dns_goes_to_kube_dns_selected_by_namespace_name(example: Bundle) -> None:
    assert _policies(example, "payments-dev")["allow-dns"].body["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{
            "to": [{**_by_names(["kube-system"]),
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }],
    }


def test_same_namespace_traffic(example: Bundle) -> None:
    assert _policies(example, "payments-dev")["allow-same-namespace"].body["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
        "egress": [{"to": [{"podSelector": {}}]}],
    }


def test_ingress_and_monitoring_namespaces(tmp_path: Path) -> None:
    platform = platform_doc(network={"ingressNamespaces": ["traefik", "ingress-nginx"],
                                     "monitoringNamespaces": ["prometheus"]})
    services = [{"name": "api", "template": "python-service", "port": 8000,
                 "ingress": {"host": "api.example.com", "environments": ["prod"]}},
                {"name": "web", "template": "python-service", "port": 8080,
                 "ingress": {"host": "web.example.com", "environments": ["prod"]}},
                {"name": "internal", "template": "python-service", "port": 9000}]
    team = team_doc("alpha", services=services)
    bundle = Bundle.of(network.render(_load(tmp_path, platform, [team])))
    policies = _policies(bundle, "alpha-prod")
    # the ingress controllers reach the ports hosts are routed to, and no other
    assert policies["allow-from-ingress"].body["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [_by_names(["ingress-nginx", "traefik"])],
                     "ports": [{"protocol": "TCP", "port": 8000},
                               {"protocol": "TCP", "port": 8080}]}],
    }
    # an environment that serves no host admits no ingress controller
    assert "allow-from-ingress" not in _policies(bundle, "alpha-dev")
    assert policies["allow-from-monitoring"].body["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [_by_names(["prometheus"])]}],
    }


def test_no_platform_namespaces_means_no_allow(tmp_path: Path) -> None:
    platform = platform_doc(network={"ingressNamespaces": [], "monitoringNamespaces": []})
    bundle = Bundle.of(network.render(_load(tmp_path, platform, [team_doc("alpha")])))
    assert sorted(_policies(bundle, "alpha-dev")) == [
        "allow-dns", "allow-same-namespace", "default-deny"]


def test_allow_from_teams_only_where_the_other_team_has_the_environment(tmp_path: Path) -> None:
    teams = [
        team_doc("alpha", network={"allowFromTeams": ["beta", "gamma", "alpha"]}),
        team_doc("beta", environments=["dev", "prod"], services=[]),
        team_doc("gamma", environments=["dev"], services=[]),
    ]
    bundle = Bundle.of(network.render(_load(tmp_path, platform_doc(), teams)))

    def allowed(ns: str) -> Any:
        policy = _policies(bundle, ns).get("allow-from-teams")
        return None if policy is None else policy.body["spec"]["ingress"]

    assert allowed("alpha-dev") == [{"from": [_by_names(["beta-dev", "gamma-dev"])]}]
    assert allowed("alpha-prod") == [{"from": [_by_names(["beta-prod"])]}]
    assert allowed("alpha-staging") is None  # neither beta nor gamma is in staging
    assert allowed("beta-dev") is None  # allowing is one-way
    assert _policies(bundle, "alpha-dev")["allow-from-teams"].body["spec"]["policyTypes"] == [
        "Ingress"]


def test_example_allow_from_teams(example: Bundle) -> None:
    ingress = _policies(example, "checkout-prod")["allow-from-teams"].body["spec"]["ingress"]
    assert ingress == [{"from": [_by_names(["storefront-prod"])]}]
    # storefront has no staging namespace, so checkout-staging allows no team
    assert "allow-from-teams" not in _policies(example, "checkout-staging")


def test_a_team_sends_to_the_teams_that_list_it(tmp_path: Path) -> None:
    """The receiver's consent (its allowFromTeams) opens the caller's egress, in every
    environment both have, namespace to namespace: the other half of allow-from-teams."""
    teams = [
        team_doc("alpha", network={"allowFromTeams": ["beta", "gamma", "alpha"]}),
        team_doc("beta", environments=["dev", "prod"], services=[]),
        team_doc("gamma", environments=["dev"], services=[],
                 network={"allowFromTeams": ["beta"]}),
    ]
    bundle = Bundle.of(network.render(_load(tmp_path, platform_doc(), teams)))

    def sends_to(ns: str) -> Any:
        policy = _policies(bundle, ns).get("allow-to-teams")
        return None if policy is None else policy.body["spec"]

    assert sends_to("beta-dev") == {"podSelector": {}, "policyTypes": ["Egress"],
                                    "egress": [{"to": [_by_names(["alpha-dev", "gamma-dev"])]}]}
    assert sends_to("beta-prod") == {"podSelector": {}, "policyTypes": ["Egress"],
                                     "egress": [{"to": [_by_names(["alpha-prod"])]}]}
    assert sends_to("gamma-dev") == {"podSelector": {}, "policyTypes": ["Egress"],
                                     "egress": [{"to": [_by_names(["alpha-dev"])]}]}
    # alpha lists itself (same-namespace covers it) and nobody lists alpha
    for ns in ("alpha-dev", "alpha-staging", "alpha-prod"):
        assert sends_to(ns) is None


def test_example_caller_reaches_its_callee(example: Bundle) -> None:
    """storefront -> checkout -> payments, as their allowFromTeams consent to: each hop
    has the caller's egress and the callee's ingress, in the same environment."""
    for caller, callee in (("storefront", "checkout"), ("checkout", "payments")):
        for env in ("dev", "prod"):
            policies = _policies(example, f"{caller}-{env}")
            assert policies["allow-to-teams"].body["spec"]["egress"] == [
                {"to": [_by_names([f"{callee}-{env}"])]}]
            ingress = _policies(example, f"{callee}-{env}")["allow-from-teams"]
            assert ingress.body["spec"]["ingress"] == [{"from": [_by_names([f"{caller}-{env}"])]}]
    assert "allow-to-teams" not in _policies(example, "payments-prod")


def test_egress_cidrs(example: Bundle) -> None:
    policy = _policies(example, "storefront-prod")["allow-egress-cidrs"]
    assert policy.body["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "172.16.5.10/32"}},
                           {"ipBlock": {"cidr": "192.168.100.0/24"}}]}],
    }
    assert "allow-egress-cidrs" not in _policies(example, "checkout-prod")


def test_every_namespace_selector_uses_the_name_label(example: Bundle) -> None:
    for policy in example.of_kind("NetworkPolicy"):
        spec = policy.body["spec"]
        peers = [p for rule in spec.get("ingress", []) for p in rule["from"]]
        peers += [p for rule in spec.get("egress", []) for p in rule["to"]]
        for peer in peers:
            if "namespaceSelector" in peer:
                assert peer["namespaceSelector"].keys() == {"matchExpressions"}
                assert [e["key"] for e in peer["namespaceSelector"]["matchExpressions"]] == [NAME]


def test_coordinates_and_concern(example: Bundle) -> None:
    for policy in example:
        assert policy.concern == "network"
        assert policy.namespace == f"{policy.coords.team}-{policy.coords.environment}"
