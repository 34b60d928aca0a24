"""Network guardrails: default deny everywhere, DNS allowed, selectors tenants cannot forge.

Every NetworkPolicy in a tenant namespace is judged by the namespace it is in, whatever
coordinates it carries: what it may admit is what the spec lets that namespace's team
admit (a policy placed in another team's namespace is judged by that team's spec). A
NetworkPolicy anywhere else is refused by the ``coordinates`` guardrail. Each direction
has its own peers: ingress from the namespace itself, the platform's ingress and
monitoring namespaces and the teams the spec names; egress to the namespace itself, the
kube-dns pods on port 53 and the team's ``egressCIDRs``.
ipBlocks are judged by the ``network-reach`` guardrail (:mod:`goldenpath.policy.reach`).
"""

from __future__ import annotations

from typing import Any

from goldenpath.policy.index import by_namespace, tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.render.network import DNS_NAMESPACE, DNS_POD_LABELS
from goldenpath.spec.resolve import PlatformSpec, namespace_name

NAME_LABEL = "kubernetes.io/metadata.name"
DNS_PORT = 53


def check_default_deny(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    policies = by_namespace(bundle, "NetworkPolicy")
    for name in tenant_namespaces(spec):
        findings.cover()
        found = policies.get(name, [])
        if not any(_is_default_deny(p.body.get("spec") or {}) for p in found):
            findings.fail(
                f"Namespace {name}",
                "has no default-deny NetworkPolicy for "
                "ingress and egress (podSelector {}, both policyTypes, no rules)",
            )
        if not any(_allows_dns(p.body.get("spec") or {}) for p in found):
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
    for rule in spec.get("egress") or []:
        protocols = {p.get("protocol") for p in rule.get("ports") or []
                     if p.get("port") == DNS_PORT}
        peers_ok = any(_is_dns_peer(peer) for peer in rule.get("to") or [])
        if peers_ok and {"UDP", "TCP"} <= protocols:
            return True
    return False


def _is_dns_peer(peer: dict[str, Any]) -> bool:
    """kube-dns pods in kube-system, selected by labels only the platform sets there."""
    return (_selects_only(peer, [DNS_NAMESPACE])
            and peer.get("podSelector") == {"matchLabels": DNS_POD_LABELS})


def _dns_ports_only(rule: dict[str, Any]) -> bool:
    ports = rule.get("ports") or []
    return bool(ports) and all(p.get("port") == DNS_PORT and p.get("protocol") in ("UDP", "TCP")
                               and "endPort" not in p for p in ports)


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
    platform = {*net.ingress_namespaces, *net.monitoring_namespaces}
    owned = tenant_namespaces(spec)
    for resource in bundle.of_kind("NetworkPolicy"):
        if (resource.namespace or "") not in owned:
            continue  # goldenpath renders none elsewhere: the coordinates guardrail refuses it
        namespace = str(resource.namespace)
        _, team, env = owned[namespace]
        findings.cover()
        network = spec.team(team).spec.network
        own = {namespace}
        # a team admits the teams it lists, and sends to the teams that list it
        admitted = platform | own | {namespace_name(t, env) for t in network.allow_from_teams}
        sends_to = own | {namespace_name(t.name, env) for t in spec.listed_by(team)
                          if env in t.environments}
        body = resource.body.get("spec") or {}
        for direction, side in (("ingress", "from"), ("egress", "to")):
            for rule in body.get(direction) or []:
                # a rule without peers matches every address, in the cluster and outside
                if not rule.get(side):
                    findings.fail(resource, f"an {direction} rule without '{side}' allows "
                                  "every peer; name the peers")
        for rule in body.get("ingress") or []:
            for peer in rule.get("from") or []:
                _check_peer(resource, peer, admitted, "allows", findings)
        for rule in body.get("egress") or []:
            for peer in rule.get("to") or []:
                _check_egress_peer(resource, rule, peer, sends_to, findings)


def _check_egress_peer(resource: Resource, rule: dict[str, Any], peer: dict[str, Any],
                       allowed: set[str], findings: Findings) -> None:
    """Egress reaches the namespace itself, the teams that list its team, kube-dns for DNS
    only, or ipBlocks (judged by ``network-reach``)."""
    if _selected_names(peer.get("namespaceSelector") or {}) == {DNS_NAMESPACE}:
        if not _is_dns_peer(peer) or not _dns_ports_only(rule):
            findings.fail(
                resource,
                f"egress to {DNS_NAMESPACE} may reach only the pods "
                f"{_labels(DNS_POD_LABELS)} on port {DNS_PORT} (UDP, TCP)",
            )
        return
    _check_peer(resource, peer, allowed, "sends egress to", findings)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _check_peer(resource: Resource, peer: dict[str, Any], allowed: set[str], verb: str,
                findings: Findings) -> None:
    if not {"podSelector", "namespaceSelector", "ipBlock"} & set(peer):
        findings.fail(resource, "a peer needs a podSelector, namespaceSelector or ipBlock")
    if "namespaceSelector" in peer:
        names = _selected_names(peer["namespaceSelector"] or {})
        if names is None or not names:
            findings.fail(
                resource,
                "namespaceSelector must select namespaces only by "
                f"{NAME_LABEL} with operator In, found {peer['namespaceSelector']}",
            )
        elif names - allowed:
            what = "namespaces the spec does not name" if verb == "allows" else "namespaces"
            findings.fail(resource, f"{verb} {what}: {', '.join(sorted(names - allowed))}")

