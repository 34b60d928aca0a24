"""Network guardrails: default deny everywhere, DNS allowed, selectors tenants cannot forge.

ipBlocks are judged by the ``network-reach`` guardrail (:mod:`goldenpath.policy.reach`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.policy.index import by_namespace, tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec, namespace_name

NAME_LABEL = "kubernetes.io/metadata.name"


def check_default_deny(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    policies = by_namespace(bundle, "NetworkPolicy")
    for name in tenant_namespaces(spec):
        findings.cover()
        found = policies.get(name, [])
        if not any(_is_default_deny(p.body["spec"]) for p in found):
            findings.fail(
                f"Namespace {name}",
                "has no default-deny NetworkPolicy for "
                "ingress and egress (podSelector {}, both policyTypes, no rules)",
            )
        if not any(_allows_dns(p.body["spec"]) for p in found):
            findings.fail(
                f"Namespace {name}",
                "has no NetworkPolicy allowing DNS (UDP and TCP 53) to kube-dns in kube-system",
            )


def _is_default_deny(spec: dict[str, Any]) -> bool:
    return (
        spec.get("podSelector") == {}
        and set(spec.get("policyTypes", [])) == {"Ingress", "Egress"}
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def _allows_dns(spec: dict[str, Any]) -> bool:
    for rule in spec.get("egress", []):
        protocols = {p.get("protocol") for p in rule.get("ports", []) if p.get("port") == 53}
        peers_ok = any(_selects_only(peer, ["kube-system"]) for peer in rule.get("to", []))
        if peers_ok and {"UDP", "TCP"} <= protocols:
            return True
    return False


def _selects_only(peer: dict[str, Any], names: list[str]) -> bool:
    selector = peer.get("namespaceSelector")
    return selector is not None and _selected_names(selector) == set(names)


def _selected_names(selector: dict[str, Any]) -> set[str] | None:
    """Namespace names a selector picks, or None if it uses anything but the name label."""
    names: set[str] | None = None
    match = selector.get("matchLabels", {})
    if set(match) - {NAME_LABEL}:
        return None
    if NAME_LABEL in match:
        names = {match[NAME_LABEL]}
    for expr in selector.get("matchExpressions", []):
        if expr.get("key") != NAME_LABEL or expr.get("operator") != "In":
            return None
        values = set(expr.get("values", []))
        names = values if names is None else names & values
    return names


def check_selectors(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    net = spec.platform.spec.network
    platform = {"kube-system", *net.ingress_namespaces, *net.monitoring_namespaces}
    for resource in bundle.of_kind("NetworkPolicy"):
        team, env = resource.coords.team, resource.coords.environment
        if team is None or env is None:
            continue
        findings.cover()
        network = spec.team(team).spec.network
        own = platform | {namespace_name(team, env)}
        # a team admits the teams it lists, and sends to the teams that list it
        allowed = {
            "ingress": own | {namespace_name(t, env) for t in network.allow_from_teams},
            "egress": own | {namespace_name(t.name, env) for t in spec.listed_by(team)
                             if env in t.environments},
        }
        for direction, side in (("ingress", "from"), ("egress", "to")):
            for rule in resource.body["spec"].get(direction, []):
                # a rule without peers matches every address, in the cluster and outside
                if not rule.get(side):
                    findings.fail(resource, f"an {direction} rule without '{side}' allows "
                                  "every peer; name the peers")
        for direction, peer in _peers(resource.body["spec"]):
            _check_peer(resource, peer, allowed[direction], findings)


def _peers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(direction, peer) of every peer of a policy."""
    for rule in spec.get("ingress", []):
        yield from (("ingress", peer) for peer in rule.get("from", []))
    for rule in spec.get("egress", []):
        yield from (("egress", peer) for peer in rule.get("to", []))


def _check_peer(
    resource: Resource, peer: dict[str, Any], allowed: set[str], findings: Findings
) -> None:
    if "namespaceSelector" in peer:
        names = _selected_names(peer["namespaceSelector"])
        if names is None or not names:
            findings.fail(
                resource,
                "namespaceSelector must select namespaces only by "
                f"{NAME_LABEL} with operator In, found {peer['namespaceSelector']}",
            )
        elif names - allowed:
            findings.fail(
                resource,
                f"allows namespaces the spec does not name: {', '.join(sorted(names - allowed))}",
            )

