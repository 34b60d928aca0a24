"""Network guardrails refuse a tampered Bundle: default deny, DNS, unforgeable selectors."""

from __future__ import annotations

from typing import Any

from goldenpath.render import Bundle
from goldenpath.spec import PlatformSpec
from tests.policy.support import plus, refused, tamper, without

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


def _to_names(names: list[str]) -> dict[str, Any]:
    return {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": names}]}}


def test_egress_to_a_team_that_does_not_list_the_sender(example: Example) -> None:
    """storefront may send to checkout (checkout lists it), not to payments (which lists
    only checkout), nor to a team that lists nobody."""
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "storefront-prod", "allow-to-teams",
                    lambda b: b["spec"]["egress"][0]["to"].append(
                        _to_names(["payments-prod", "data-platform-dev"])))
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy storefront-prod/allow-to-teams: sends egress "
        "to namespaces: data-platform-dev, payments-prod"
    ]


def test_egress_towards_a_team_the_sender_admits(example: Example) -> None:
    """Admitting a team (checkout lists storefront) lets it in; it does not let the
    admitting team send to it: consent runs from the receiver only."""
    spec, bundle = example
    [admits] = [r for r in bundle if r.namespace == "checkout-prod"
                and r.name == "allow-from-teams"]
    body = {**admits.body, "metadata": {**admits.body["metadata"], "name": "sneaky"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"to": [_to_names(["storefront-prod"])]}]}}
    assert refused(spec, plus(bundle, admits.coords, body)) == [
        "[network-selectors] prod/NetworkPolicy checkout-prod/sneaky: sends egress to "
        "namespaces: storefront-prod"
    ]


def test_ingress_from_a_team_that_lists_the_receiver(example: Example) -> None:
    """Being listed by payments lets checkout send there, not payments send to checkout."""
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "checkout-prod", "allow-from-teams",
                    lambda b: b["spec"]["ingress"][0]["from"].append(
                        _to_names(["payments-prod"])))
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy checkout-prod/allow-from-teams: allows "
        "namespaces the spec does not name: payments-prod"
    ]


def test_egress_to_a_listing_team_in_another_environment(example: Example) -> None:
    """checkout lists storefront, but checkout-dev is not storefront-prod's peer."""
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "storefront-prod", "allow-to-teams",
                    lambda b: b["spec"]["egress"][0]["to"].append(_to_names(["checkout-dev"])))
    assert refused(spec, bundle) == [
        "[network-selectors] prod/NetworkPolicy storefront-prod/allow-to-teams: sends egress "
        "to namespaces: checkout-dev"
    ]
