"""What an egress CIDR reaches, and the platform's rules on it (goldenpath.spec.reach)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from goldenpath.spec.models import Platform
from goldenpath.spec.reach import Reach, canonical, endpoints, reaches_everything
from tests.factories import platform_doc

net = ipaddress.ip_network


def _reach(allowed: list[str], **networks: list[str]) -> Reach:
    doc: dict[str, Any] = platform_doc(network={"egressAllowedCIDRs": allowed})
    doc["spec"]["clusters"][1]["networks"] = networks
    return Reach.of(Platform.model_validate(doc))


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("::ffff:169.254.169.254/128", "169.254.169.254/32"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::/1", "::/1"),  # holds the mapped range but is more than IPv4
    ],
)
def test_ipv4_mapped_networks_are_ipv4(cidr: str, expected: str) -> None:
    assert canonical(net(cidr)) == net(expected)


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.20.0.0/16", ["10.20.0.0/16"]),
        ("::ffff:10.20.0.0/112", ["10.20.0.0/16"]),
        # NAT64 and 6to4 gateways translate to the IPv4 address embedded in the IPv6 one
        ("64:ff9b::a9fe:a9fe/128", ["64:ff9b::a9fe:a9fe/128", "169.254.169.254/32"]),
        ("64:ff9b::a00:0/104", ["64:ff9b::a00:0/104", "10.0.0.0/8"]),
        ("64:ff9b::/96", ["64:ff9b::/96", "0.0.0.0/0"]),
        ("::ffff:0:a9fe:a9fe/128", ["::ffff:0:a9fe:a9fe/128", "169.254.169.254/32"]),
        ("2002:a9fe:a9fe::/48", ["2002:a9fe:a9fe::/48", "169.254.169.254/32"]),
        ("2002:a9fe::/32", ["2002:a9fe::/32", "169.254.0.0/16"]),
        ("2002:a9fe:a9fe:1::/64", ["2002:a9fe:a9fe:1::/64", "169.254.169.254/32"]),
        ("2002::/16", ["2002::/16", "0.0.0.0/0"]),
        ("2001:db8::/32", ["2001:db8::/32"]),
        # everything below ::/1 includes the mapped, SIIT and NAT64 prefixes: all of IPv4
        ("::/1", ["::/1", "0.0.0.0/0"]),
    ],
)
def test_endpoints(cidr: str, expected: list[str]) -> None:
    assert [e.network for e in endpoints(net(cidr))] == [net(e) for e in expected]


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        [f"{i}.0.0.0/8" for i in range(256)],
        ["::ffff:0:0/97", "::ffff:128.0.0.0/97"],
        ["0.0.0.0/1", "::ffff:128.0.0.0/97"],
        ["64:ff9b::/97", "128.0.0.0/1"],
        ["2002::/17", "2002:8000::/17"],
        ["::/1"],
    ],
)
def test_pieces_that_add_up_to_every_ipv4_address(cidrs: list[str]) -> None:
    assert reaches_everything([net(c) for c in cidrs]) == ["every IPv4 address (0.0.0.0/0)"]


def test_halves_of_ipv6_reach_everything() -> None:
    assert reaches_everything([net("::/1"), net("8000::/1")]) == [
        "every IPv4 address (0.0.0.0/0)", "every IPv6 address (::/0)"]
    assert reaches_everything([net("8000::/1"), net("4000::/2"), net("::/2")]) == [
        "every IPv4 address (0.0.0.0/0)", "every IPv6 address (::/0)"]


def test_almost_everything_is_not_everything() -> None:
    pieces = [net(f"{i}.0.0.0/8") for i in range(255)]
    assert reaches_everything(pieces) == []
    assert reaches_everything([net("8000::/1"), net("4000::/2")]) == []


ALLOW_ALL_BUT_ADVICE = ("which tenants may not reach; name ranges that leave {} out, or ask a "
                        "platform admin to list the range in spec.network.egressAllowedCIDRs in "
                        "platform.yaml")


def test_nothing_is_allowed_by_default() -> None:
    assert _reach([]).problems(net("10.20.0.0/16")) == [
        "is refused: the platform allows tenants no egress CIDRs; ask a platform admin to add "
        "the range to spec.network.egressAllowedCIDRs in platform.yaml"]


def test_a_broad_allowed_range_does_not_open_the_cluster_networks_inside_it() -> None:
    reach = _reach(["10.0.0.0/8"], podCIDRs=["10.244.0.0/16"], serviceCIDRs=["10.96.0.0/12"],
                   apiServerCIDRs=["10.0.0.1/32"], nodeCIDRs=["10.1.0.0/24"])
    assert reach.problems(net("10.20.0.0/16")) == []
    assert reach.problems(net("10.244.3.0/24")) == [
        "reaches the pod network of cluster prod 10.244.0.0/16, "
        + ALLOW_ALL_BUT_ADVICE.format("it")]
    assert reach.problems(net("10.0.0.0/8")) == [
        "reaches the API server of cluster prod 10.0.0.1/32, the node network of cluster prod "
        "10.1.0.0/24, the pod network of cluster prod 10.244.0.0/16, the service network of "
        "cluster prod 10.96.0.0/12, " + ALLOW_ALL_BUT_ADVICE.format("them")]


def test_an_admin_opens_part_of_a_refused_range_by_listing_it() -> None:
    reach = _reach(["10.0.0.0/8", "10.244.7.0/24", "169.254.0.0/16"],
                   podCIDRs=["10.244.0.0/16"])
    assert reach.problems(net("10.244.7.0/24")) == []
    assert reach.problems(net("10.244.7.128/25")) == []
    assert reach.problems(net("10.244.6.0/23")) != []
    # link-local is listed, but the metadata address inside it is not
    assert reach.problems(net("169.254.1.0/24")) == []
    assert reach.problems(net("169.254.169.254/32")) == [
        "reaches the cloud metadata address 169.254.169.254/32, "
        + ALLOW_ALL_BUT_ADVICE.format("it")]


def test_the_metadata_address_when_listed_exactly() -> None:
    reach = _reach(["169.254.169.254/32"])
    assert reach.problems(net("169.254.169.254/32")) == []
    assert reach.problems(net("::ffff:169.254.169.254/128")) == []


def test_translated_reach_is_judged_as_ipv4() -> None:
    # 10.0.0.0/8 is allowed, directly and through NAT64
    reach = _reach(["10.0.0.0/8", "64:ff9b::a00:0/104"])
    assert reach.problems(net("64:ff9b::a14:0/112")) == []  # 10.20.0.0/16 through NAT64
    allowed = ("(10.0.0.0/8, 64:ff9b::a00:0/104, 10.0.0.0/8 (through NAT64 64:ff9b::/96)); "
               "ask a platform admin to add it to spec.network.egressAllowedCIDRs in "
               "platform.yaml")
    assert reach.problems(net("64:ff9b::a9fe:a9fe/128")) == [
        f"is not within the platform's egressAllowedCIDRs {allowed}",
        "reaches the cloud metadata address 169.254.169.254/32, link-local 169.254.0.0/16 "
        "(through NAT64 64:ff9b::/96), " + ALLOW_ALL_BUT_ADVICE.format("them")]
    assert reach.problems(net("2002:c000:200::/40")) == [
        f"is not within the platform's egressAllowedCIDRs {allowed}",
        "reaches 192.0.2.0/24 (through 6to4 2002::/16), which is not within the platform's "
        f"egressAllowedCIDRs {allowed}"]


@pytest.mark.parametrize(
    ("server", "refused"),
    [("https://10.0.0.1:6443", "10.0.0.1/32"), ("https://[fd00::1]:443", "fd00::1/128"),
     ("https://[::ffff:10.0.0.1]", "10.0.0.1/32")],
)
def test_an_api_server_named_by_address_is_refused(server: str, refused: str) -> None:
    doc: dict[str, Any] = platform_doc(network={"egressAllowedCIDRs": ["10.0.0.0/8",
                                                                      "fd00::/8"]})
    doc["spec"]["clusters"][0]["server"] = server
    reach = Reach.of(Platform.model_validate(doc))
    assert reach.problems(net(refused)) == [
        f"reaches the API server of cluster nonprod {refused}, "
        + ALLOW_ALL_BUT_ADVICE.format("it")]
    assert _reach(["10.0.0.0/8"]).problems(net("10.0.0.1/32")) == []
