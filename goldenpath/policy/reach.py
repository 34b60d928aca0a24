"""Network reach guardrail: where the ipBlocks of every NetworkPolicy let traffic go.

Decided from the objects, not from the coordinates the renderer attached: every
NetworkPolicy in the Bundle is read, its namespace is the one in its own metadata, and
every ipBlock of every ingress and egress rule is judged. An ipBlock's ``except`` is
ignored: it only narrows the block, so judging the whole ``cidr`` is the stricter check.
Each ipBlock must

1. be a CIDR;
2. pass the platform's reach rules (:class:`goldenpath.spec.reach.Reach`: within
   ``spec.network.egressAllowedCIDRs``, into no refused range), the very rules the spec
   checks apply to ``egressCIDRs``;
3. lie within the egressCIDRs of the team that owns its namespace;

and the ipBlocks of one namespace, which add up across its NetworkPolicies, must not
together reach every IPv4 or every IPv6 address.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.reach import Network, canonical, reaches_everything
from goldenpath.spec.resolve import PlatformSpec
from goldenpath.spec.types import CIDR_MAX


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owners = tenant_namespaces(spec)
    named: dict[str, list[Network]] = {}
    reached: dict[str, list[Network]] = defaultdict(list)
    for resource in bundle.of_kind("NetworkPolicy"):
        findings.cover()
        namespace = resource.namespace or ""
        for cidr in _ip_blocks(resource.body):
            network = _network(cidr)
            if network is None:
                findings.fail(resource, f"ipBlock {_shown(cidr)} is not a CIDR")
                continue
            reached[namespace].append(network)
            for problem in spec.reach.problems(network):
                findings.fail(resource, f"ipBlock {network} {problem}")
            owner = owners.get(namespace)
            if owner is None:
                findings.fail(resource, f"ipBlock {network} is in namespace "
                              f"{namespace or '(none)'}, which no team owns; ipBlocks come "
                              "only from a team's egressCIDRs")
                continue
            team = owner[1]
            if team not in named:
                named[team] = [ipaddress.ip_network(c)
                               for c in spec.team(team).spec.network.egress_cidrs]
            if not any(_within(network, n) for n in named[team]):
                findings.fail(resource, f"ipBlock {network} is not within the team's "
                              "egressCIDRs")
    for namespace, networks in sorted(reached.items()):
        for everything in reaches_everything(networks):
            findings.fail(f"Namespace {namespace or '(none)'}",
                          f"the ipBlocks of its NetworkPolicies together reach {everything}")


def _ip_blocks(body: dict[str, Any]) -> Iterator[object]:
    """The ``cidr`` of every ipBlock, whatever shape a tampered body has."""
    spec = body.get("spec")
    if not isinstance(spec, dict):
        return
    for direction, side in (("ingress", "from"), ("egress", "to")):
        for rule in _list(spec.get(direction)):
            for peer in _list(rule.get(side) if isinstance(rule, dict) else None):
                if isinstance(peer, dict) and "ipBlock" in peer:
                    block = peer["ipBlock"]
                    yield block.get("cidr") if isinstance(block, dict) else block


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _network(cidr: object) -> Network | None:
    """The network an ipBlock names, as Kubernetes reads it (host bits allowed), an
    IPv4-mapped one as IPv4; None if it is not a CIDR."""
    if not isinstance(cidr, str) or len(cidr) > CIDR_MAX or "%" in cidr:
        return None  # "%": an IPv6 zone, which Kubernetes refuses too
    try:
        return canonical(ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        return None


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _shown(value: object) -> str:
    """``value`` for a message, never built from more than CIDR_MAX characters of it."""
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"  # a repr of a tampered value may be huge
    return value if len(value) <= CIDR_MAX else value[:CIDR_MAX] + "..."
