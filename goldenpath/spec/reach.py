"""Network reach: which addresses an egress CIDR reaches, and which a tenant may not.

A NetworkPolicy ``ipBlock`` names addresses, but what matters is where packets to them can
go. An IPv4-mapped IPv6 network (``::ffff:0:0/96``) is the same IPv4 addresses written as
IPv6, so it is judged as IPv4; a NAT64 (``64:ff9b::/96``), SIIT or 6to4 (``2002::/16``)
network is translated to IPv4 by a gateway, so it reaches the IPv6 addresses *and* the
IPv4 ones embedded in them. Every CIDR is therefore judged by its :func:`endpoints`.

The platform (admins, trusted) says which ranges tenants may ask for
(``spec.network.egressAllowedCIDRs``; none by default) and where each cluster's pods,
services, nodes and API server are; a few ranges are refused everywhere (:data:`RESERVED`:
loopback, link-local, cloud metadata, tunnels to IPv4). A tenant CIDR must lie within an
allowed range, and may overlap a refused range only where an allowed range lies within
that refused range: the admin named that part of it on purpose. Listing ``10.0.0.0/8`` does
not open the pod network inside it, nor does listing ``169.254.0.0/16`` open the metadata
address inside that. Whatever is allowed, the CIDRs of one team (or of one namespace's
NetworkPolicies) never together reach every IPv4 or every IPv6 address.

The spec checks (:mod:`goldenpath.spec.crossref`) and the ``network-reach`` guardrail both
judge with :class:`Reach`, so they cannot disagree. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:  # the models' CIDR type uses canonical() from here
    from goldenpath.spec.models import Platform

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EVERY_IPV4 = ipaddress.IPv4Network("0.0.0.0/0")
EVERY_IPV6 = ipaddress.IPv6Network("::/0")
ALLOWED_FIELD = "spec.network.egressAllowedCIDRs"
#: How many allowed ranges a message lists before it says "and N more".
_SHOWN = 5

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
#: IPv6 prefixes a gateway translates to IPv4: (prefix, bit offset of the IPv4 address, name)
_TRANSLATED = (
    (ipaddress.IPv6Network("64:ff9b::/96"), 96, "NAT64"),
    (ipaddress.IPv6Network("::ffff:0:0:0/96"), 96, "SIIT"),
    (ipaddress.IPv6Network("2002::/16"), 16, "6to4"),
)


class Endpoint(NamedTuple):
    """Addresses a CIDR reaches; ``via`` says how when it is not the CIDR itself."""

    network: Network
    via: str = ""

    def __str__(self) -> str:
        return f"{self.network} ({self.via})" if self.via else str(self.network)


class Refused(NamedTuple):
    """A range tenants may not reach unless the platform lists (part of) it as allowed."""

    network: Network
    what: str


def _refused(cidr: str, what: str) -> Refused:
    return Refused(ipaddress.ip_network(cidr), what)


#: Refused on every platform, whatever its clusters.
RESERVED = (
    _refused("0.0.0.0/8", "'this host' addresses"),  # Linux connects 0.0.0.0 to itself
    _refused("127.0.0.0/8", "loopback"),
    _refused("169.254.0.0/16", "link-local"),
    _refused("169.254.169.254/32", "the cloud metadata address"),  # AWS, GCP, Azure, ...
    _refused("168.63.129.16/32", "Azure's host address (WireServer)"),
    _refused("100.100.100.200/32", "Alibaba Cloud's metadata address"),
    _refused("::/128", "the unspecified address"),
    _refused("::1/128", "loopback"),
    _refused("fe80::/10", "link-local"),
    _refused("fd00:ec2::254/128", "the AWS metadata address"),
    _refused("2001::/32", "the Teredo prefix (tunnels to IPv4 hosts)"),
    _refused("64:ff9b:1::/48", "the local-use NAT64 prefix (translated to IPv4)"),
)


def canonical(network: Network) -> Network:
    """``network``, an IPv4-mapped IPv6 network written as the IPv4 network it is."""
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None  # inside ::ffff:0:0/96
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def endpoints(network: Network) -> tuple[Endpoint, ...]:
    """The networks ``network`` reaches: itself, and the IPv4 networks an IPv6 one is
    translated to or is written for (each once, with the first way it is reached)."""
    net = canonical(network)
    found = {net: Endpoint(net)}
    if isinstance(net, ipaddress.IPv6Network):
        if net.supernet_of(_MAPPED):
            found[EVERY_IPV4] = Endpoint(EVERY_IPV4, f"as IPv4-mapped {_MAPPED}")
        for prefix, offset, name in _TRANSLATED:
            embedded = _embedded(net, prefix, offset)
            if embedded is not None and embedded not in found:
                found[embedded] = Endpoint(embedded, f"through {name} {prefix}")
    return tuple(found.values())


def _embedded(net: ipaddress.IPv6Network, prefix: ipaddress.IPv6Network,
              offset: int) -> ipaddress.IPv4Network | None:
    """The IPv4 network embedded at bit ``offset`` of the part of ``net`` in ``prefix``."""
    if not net.overlaps(prefix):
        return None
    if net.prefixlen <= prefix.prefixlen:  # all of the prefix: every IPv4 address
        return EVERY_IPV4
    address = (int(net.network_address) >> (128 - offset - 32)) & 0xFFFFFFFF
    length = min(32, net.prefixlen - offset)
    return ipaddress.IPv4Network((address, length), strict=False)


def reaches_everything(networks: Iterable[Network]) -> list[str]:
    """What the networks together reach entirely: ``every IPv4 address (0.0.0.0/0)`` and
    the same for IPv6, or nothing. (Merged with collapse_addresses: halves, quarters or
    any pieces that add up to everything are caught.)"""
    reached = [e.network for n in networks for e in endpoints(n)]
    v4 = [n for n in reached if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in reached if isinstance(n, ipaddress.IPv6Network)]
    found = []
    if EVERY_IPV4 in ipaddress.collapse_addresses(v4):
        found.append(f"every IPv4 address ({EVERY_IPV4})")
    if EVERY_IPV6 in ipaddress.collapse_addresses(v6):
        found.append(f"every IPv6 address ({EVERY_IPV6})")
    return found


@dataclass(frozen=True)
class Reach:
    """The platform's egress rules: the endpoints of its allowed ranges, and the refused
    ranges (reserved ones and each cluster's own networks)."""

    allowed: tuple[Endpoint, ...]
    refused: tuple[Refused, ...]

    @classmethod
    def of(cls, platform: Platform) -> Reach:
        spec = platform.spec
        allowed = tuple(e for cidr in spec.network.egress_allowed_cidrs
                        for e in endpoints(ipaddress.ip_network(cidr)))
        refused = list(RESERVED)
        for cluster in spec.clusters:
            nets = cluster.networks
            # an API server named by its address in ``server`` needs no apiServerCIDRs
            servers = [*nets.api_server_cidrs, *_address_of(cluster.server)]
            for cidrs, what in ((nets.pod_cidrs, "the pod network"),
                                (nets.service_cidrs, "the service network"),
                                (nets.node_cidrs, "the node network"),
                                (servers, "the API server")):
                refused.extend(Refused(canonical(ipaddress.ip_network(c)),
                                       f"{what} of cluster {cluster.name}")
                               for c in dict.fromkeys(cidrs))
        return cls(allowed, tuple(refused))

    def problems(self, network: Network) -> list[str]:
        """What is wrong with a tenant having ``network``, one message per way it reaches
        (refused ranges first: they say why); empty when a tenant may have it."""
        if not self.allowed:
            return ["is refused: the platform allows tenants no egress CIDRs; ask a platform "
                    f"admin to add the range to {ALLOWED_FIELD} in platform.yaml"]
        found = []
        for endpoint in endpoints(network):
            via = f" ({endpoint.via})" if endpoint.via else ""
            # the narrowest first: the metadata address before the /8 around it
            hit = [f"{r.what} {r.network}" for r in
                   sorted(self.refused, key=lambda r: -r.network.prefixlen)
                   if self._refuses(r, endpoint.network)]
            if hit:
                them = "them" if len(hit) > 1 else "it"
                found.append(f"reaches {_listed(hit)}{via}, which tenants may not reach; "
                             f"name ranges that leave {them} out, or ask a platform admin to "
                             f"list the range in {ALLOWED_FIELD} in platform.yaml")
            elif not any(_within(endpoint.network, a.network) for a in self.allowed):
                what = f"reaches {endpoint.network}{via}, which is" if via else "is"
                found.append(f"{what} not within the platform's egressAllowedCIDRs "
                             f"({_listed([str(a) for a in self.allowed])}); ask a platform "
                             f"admin to add it to {ALLOWED_FIELD} in platform.yaml")
        return found

    def _refuses(self, refused: Refused, network: Network) -> bool:
        """Does ``network`` reach into ``refused`` where the admins did not allow it? The
        admins allow it by listing a range within the refused one that holds ``network``."""
        if network.version != refused.network.version or not network.overlaps(refused.network):
            return False
        return not any(_within(network, a.network) and _within(a.network, refused.network)
                       for a in self.allowed)



def _address_of(url: str) -> list[str]:
    """The IP address in ``url`` as a one-address CIDR, if its host is one."""
    try:
        address = ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return []
    return [f"{address}/{address.max_prefixlen}"]


def _listed(items: list[str]) -> str:
    rest = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {rest} more" if rest > 0 else "")


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]
