"""Network isolation: deny everything, then allow exactly what the spec names.

Every namespace selector matches ``kubernetes.io/metadata.name``, which the API server
sets and tenants cannot change, so a tenant cannot label its way into another team's
allow list.

Cross-team traffic needs both ends: when team B lists team A in ``allowFromTeams``, B's
namespace admits A's (``allow-from-teams``) and A's namespace in the same environment
may send to B's (``allow-to-teams``). B's consent authorizes both; A declares nothing.
So A's objects depend on who lists A (see :mod:`goldenpath.render.digest`). Both rules
are namespace to namespace, on every port: policies see the pod behind a Service, and
the receiver's own pods decide what they listen on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.render import edge
from goldenpath.render.concern import Concern, no_platform_objects, per_environment
from goldenpath.render.meta import LABEL_NAMESPACE_NAME, k8s_object, metadata, team_labels
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec, namespace_name

CONCERN = "network"
API = "networking.k8s.io/v1"
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}


def policies(spec: PlatformSpec, team: Team, env: str) -> Iterator[dict[str, Any]]:
    ns = namespace_name(team.name, env)
    net = spec.platform.spec.network

    def policy(name: str, **spec_fields: Any) -> dict[str, Any]:
        body = {"podSelector": {}, **spec_fields}
        return k8s_object(
            API, "NetworkPolicy", metadata(name, ns, team_labels(team, env)), spec=body
        )

    yield policy("default-deny", policyTypes=["Ingress", "Egress"])
    dns_peer = {**namespaces_peer([DNS_NAMESPACE]), "podSelector": {"matchLabels": DNS_POD_LABELS}}
    dns_ports = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    yield policy(
        "allow-dns", policyTypes=["Egress"], egress=[{"to": [dns_peer], "ports": dns_ports}]
    )
    yield policy(
        "allow-same-namespace",
        policyTypes=["Ingress", "Egress"],
        ingress=[{"from": [{"podSelector": {}}]}],
        egress=[{"to": [{"podSelector": {}}]}],
    )
    # The ingress controllers reach only the ports goldenpath routes hosts to, in the
    # environments that serve them (see goldenpath.render.edge).
    ports = sorted({s.port for s in edge.ingress_services(team, env)})
    if net.ingress_namespaces and ports:
        yield policy(
            "allow-from-ingress",
            policyTypes=["Ingress"],
            ingress=[{"from": [namespaces_peer(net.ingress_namespaces)],
                      "ports": [{"protocol": "TCP", "port": port} for port in ports]}],
        )
    if net.monitoring_namespaces:
        yield policy(
            "allow-from-monitoring",
            policyTypes=["Ingress"],
            ingress=[{"from": [namespaces_peer(net.monitoring_namespaces)]}],
        )
    peers = sorted(
        namespace_name(other, env)
        for other in team.spec.network.allow_from_teams
        if env in spec.facts(other).environments and other != team.name
    )
    if peers:
        yield policy(
            "allow-from-teams",
            policyTypes=["Ingress"],
            ingress=[{"from": [namespaces_peer(peers)]}],
        )
    callees = sorted(namespace_name(other.name, env)
                     for other in spec.listed_by(team.name) if env in other.environments)
    if callees:
        yield policy(
            "allow-to-teams",
            policyTypes=["Egress"],
            egress=[{"to": [namespaces_peer(callees)]}],
        )
    cidrs = team.spec.network.egress_cidrs
    if cidrs:
        yield policy(
            "allow-egress-cidrs",
            policyTypes=["Egress"],
            egress=[{"to": [{"ipBlock": {"cidr": cidr}} for cidr in sorted(cidrs)]}],
        )


def namespaces_peer(names: list[str]) -> dict[str, Any]:
    """A peer selecting namespaces by their unforgeable name label."""
    expression = {"key": LABEL_NAMESPACE_NAME, "operator": "In", "values": sorted(set(names))}
    return {"namespaceSelector": {"matchExpressions": [expression]}}


RENDERER = Concern(no_platform_objects, per_environment(CONCERN, policies))
render = RENDERER.render
