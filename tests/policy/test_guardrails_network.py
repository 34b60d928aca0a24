"""Network guardrails refuse a tampered Bundle: default deny, DNS, unforgeable selectors."""

from __future__ import annotations

from typing import Any

from goldenpath.render import Bundle
from goldenpath.spec import PlatformSpec
from tests.policy.support import refused, tamper, without

Example = tuple[PlatformSpec, Bundle]
NO_DENY = ("has no default-deny NetworkPolicy for ingress and egress (podSelector {}, both "
           "policyTypes, no rules)")


def test_removed_default_deny(example: Example) -> None:
    spec, bundle = example
    bundle = without(bundle, "NetworkPolicy", "payments-prod", "default-deny")
    assert refused(spec, bundle) == [f"[default-deny] Namespace payments-prod: {NO_DENY}"]


def test_default_deny_that_denies_only_ingress(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-dev", "default-deny",
                    lambda b: b["spec"].update({"policyTypes": ["Ingress"]}))
    assert refused(spec, bundle) == [f"[default-deny] Namespace payments-dev: {NO_DENY}"]


def test_default_deny_with_an_allow_rule(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "checkout-dev", "default-deny",
                    lambda b: b["spec"].update({"ingress": [{"from": [{"podSelector": {}}]}]}))
    assert refused(spec, bundle) == [f"[default-deny] Namespace checkout-dev: {NO_DENY}"]


def test_removed_dns_allow(example: Example) -> None:
    spec, bundle = example
    bundle = without(bundle, "NetworkPolicy", "storefront-dev", "allow-dns")
    assert refused(spec, bundle) == [
        "[default-deny] Namespace storefront-dev: has no NetworkPolicy allowing DNS (UDP and "
        "TCP 53) to kube-dns in kube-system"
    ]


def test_namespace_selected_by_a_team_label(example: Example) -> None:
    spec, bundle = example
    selector = {"matchLabels": {"goldenpath.dev/team": "storefront"}}

    def by_label(body: dict[str, Any]) -> None:
        body["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = selector

    bundle = tamper(bundle, "NetworkPolicy", "checkout-prod", "allow-from-teams", by_label)
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy checkout-prod/allow-from-teams: "
        "namespaceSelector must select namespaces only by kubernetes.io/metadata.name with "
        f"operator In, found {selector}"
    ]


def test_namespace_selected_with_not_in(example: Example) -> None:
    spec, bundle = example

    def not_in(body: dict[str, Any]) -> None:
        peer = body["spec"]["ingress"][0]["from"][0]
        peer["namespaceSelector"]["matchExpressions"][0]["operator"] = "NotIn"

    bundle = tamper(bundle, "NetworkPolicy", "payments-staging", "allow-from-ingress", not_in)
    [line] = refused(spec, bundle)
    assert line.startswith("[network-selectors] nonprod/NetworkPolicy "
                           "payments-staging/allow-from-ingress: namespaceSelector must select")


def test_allow_from_a_team_the_spec_does_not_name(example: Example) -> None:
    spec, bundle = example

    def widen(body: dict[str, Any]) -> None:
        expression = body["spec"]["ingress"][0]["from"][0]["namespaceSelector"][
            "matchExpressions"][0]
        expression["values"] = ["data-platform-dev", "storefront-dev"]

    bundle = tamper(bundle, "NetworkPolicy", "checkout-dev", "allow-from-teams", widen)
    assert refused(spec, bundle) == [
        "[network-selectors] nonprod/NetworkPolicy checkout-dev/allow-from-teams: allows "
        "namespaces the spec does not name: data-platform-dev"
    ]


def test_rule_without_peers_allows_everything(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-dev", "allow-from-monitoring",
                    lambda b: b["spec"].update({"ingress": [{}]}))
    assert refused(spec, bundle) == [
        "[network-selectors] nonprod/NetworkPolicy payments-dev/allow-from-monitoring: an "
        "ingress rule without 'from' allows every peer; name the peers"
    ]


def test_egress_rule_with_ports_only_allows_everything(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-dev", "allow-dns",
                    lambda b: b["spec"]["egress"].append({"ports": [{"port": 443}]}))
    assert refused(spec, bundle) == [
        "[network-selectors] nonprod/NetworkPolicy payments-dev/allow-dns: an egress rule "
        "without 'to' allows every peer; name the peers"
    ]


def test_ip_block_that_opens_every_address(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-prod", "allow-egress-cidrs",
                    lambda b: b["spec"]["egress"][0]["to"].append(
                        {"ipBlock": {"cidr": "0.0.0.0/0"}}))
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy payments-prod/allow-egress-cidrs: ipBlock "
        "0.0.0.0/0 opens every address"
    ]


def test_ip_block_the_spec_does_not_name(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-prod", "allow-egress-cidrs",
                    lambda b: b["spec"]["egress"][0]["to"].extend(
                        [{"ipBlock": {"cidr": "10.0.0.0/8"}},
                         {"ipBlock": {"cidr": "10.20.30.0/24"}}]))
    # 10.20.30.0/24 lies within the team's 10.20.0.0/16; 10.0.0.0/8 does not
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy payments-prod/allow-egress-cidrs: ipBlock "
        "10.0.0.0/8 is not within the team's egressCIDRs"
    ]
