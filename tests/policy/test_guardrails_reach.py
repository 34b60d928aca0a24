"""The network-reach guardrail refuses a tampered Bundle whatever its ipBlocks say, deciding
from the NetworkPolicies themselves (their namespace and peers), not their coordinates."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath import policy
from goldenpath.render import Bundle
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
WHERE = "[network-reach] prod/NetworkPolicy payments-prod/allow-egress-cidrs"
ADVICE = ("which tenants may not reach; name ranges that leave {} out, or ask a platform admin "
          "to list the range in spec.network.egressAllowedCIDRs in platform.yaml")
NOT_ALLOWED = ("is not within the platform's egressAllowedCIDRs (10.0.0.0/8, 192.168.100.0/24, "
               "172.16.5.0/24); ask a platform admin to add it to "
               "spec.network.egressAllowedCIDRs in platform.yaml")
NOT_NAMED = "is not within the team's egressCIDRs"
EVERY_V4 = ("[network-reach] Namespace payments-prod: the ipBlocks of its NetworkPolicies "
            "together reach every IPv4 address (0.0.0.0/0)")
EVERY_V6 = ("[network-reach] Namespace payments-prod: the ipBlocks of its NetworkPolicies "
            "together reach every IPv6 address (::/0)")
METADATA = ("reaches the cloud metadata address 169.254.169.254/32, link-local 169.254.0.0/16"
            "{}, " + ADVICE.format("them"))


def _with_blocks(bundle: Bundle, *cidrs: object, direction: str = "egress") -> Bundle:
    def add(body: dict[str, Any]) -> None:
        side = "to" if direction == "egress" else "from"
        rules = body["spec"].setdefault(direction, [{side: []}])
        rules[0][side].extend({"ipBlock": {"cidr": cidr}} for cidr in cidrs)
        body["spec"]["policyTypes"] = sorted({*body["spec"]["policyTypes"],
                                              direction.title()})

    return tamper(bundle, "NetworkPolicy", "payments-prod", "allow-egress-cidrs", add)


def _lines(ip_block: str, *messages: str) -> list[str]:
    return [f"{WHERE}: ipBlock {ip_block} {m}" for m in messages]


@pytest.mark.parametrize(
    ("cidr", "shown", "expected"),
    [
        ("169.254.169.254/32", "169.254.169.254/32", [METADATA.format("")]),
        ("::ffff:169.254.169.254/128", "169.254.169.254/32", [METADATA.format("")]),
        ("::ffff:a9fe:a9fe/128", "169.254.169.254/32", [METADATA.format("")]),
        ("fd00:ec2::254/128", "fd00:ec2::254/128",
         ["reaches the AWS metadata address fd00:ec2::254/128, " + ADVICE.format("it")]),
        ("64:ff9b::a9fe:a9fe/128", "64:ff9b::a9fe:a9fe/128",
         [NOT_ALLOWED, METADATA.format(" (through NAT64 64:ff9b::/96)")]),
        ("2002:a9fe:a9fe::/48", "2002:a9fe:a9fe::/48",
         [NOT_ALLOWED, METADATA.format(" (through 6to4 2002::/16)")]),
        ("fe80::/10", "fe80::/10", ["reaches link-local fe80::/10, " + ADVICE.format("it")]),
        ("127.0.0.1/32", "127.0.0.1/32", ["reaches loopback 127.0.0.0/8, "
                                          + ADVICE.format("it")]),
        # within the allowed 10.0.0.0/8, but the cluster's own networks
        ("10.248.0.0/16", "10.248.0.0/16",
         ["reaches the pod network of cluster prod 10.248.0.0/16, " + ADVICE.format("it")]),
        ("10.100.0.10/32", "10.100.0.10/32",
         ["reaches the service network of cluster prod 10.100.0.0/16, " + ADVICE.format("it")]),
        ("10.11.1.10/32", "10.11.1.10/32",
         ["reaches the API server of cluster prod 10.11.1.10/32, " + ADVICE.format("it")]),
        ("10.11.0.0/16", "10.11.0.0/16",
         ["reaches the API server of cluster prod 10.11.1.10/32, the node network of cluster "
          "prod 10.11.0.0/24, " + ADVICE.format("them")]),
        ("10.244.0.0/16", "10.244.0.0/16",
         ["reaches the pod network of cluster nonprod 10.244.0.0/16, " + ADVICE.format("it")]),
        ("192.0.2.0/24", "192.0.2.0/24", [NOT_ALLOWED]),
    ],
)
def test_ip_block_reaching_a_refused_range(example: Example, cidr: str, shown: str,
                                           expected: list[str]) -> None:
    spec, bundle = example
    assert refused(spec, _with_blocks(bundle, cidr)) == _lines(shown, *expected, NOT_NAMED)


def test_ip_block_outside_the_team_egress(example: Example) -> None:
    spec, bundle = example
    # 10.20.30.0/24 lies within the team's 10.20.0.0/16; 10.30.0.0/16 does not, though the
    # platform allows it: the team did not ask for it
    assert refused(spec, _with_blocks(bundle, "10.30.0.0/16", "10.20.30.0/24")) == \
        _lines("10.30.0.0/16", NOT_NAMED)


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["::ffff:0:0/97", "::ffff:128.0.0.0/97"],
        [f"{i}.0.0.0/8" for i in range(256)],
        ["64:ff9b::/97", "64:ff9b::8000:0/97"],
    ],
    ids=["everything", "halves", "mapped-halves", "256-pieces", "nat64-halves"],
)
def test_ip_blocks_that_add_up_to_everything(example: Example, cidrs: list[str]) -> None:
    spec, bundle = example
    lines = refused(spec, _with_blocks(bundle, *cidrs))
    assert lines[-1] == EVERY_V4
    assert all(line.startswith(f"{WHERE}: ipBlock ") for line in lines[:-1])


def test_ipv6_halves(example: Example) -> None:
    spec, bundle = example
    lines = refused(spec, _with_blocks(bundle, "::/1", "8000::/1"))
    assert lines[-2:] == [EVERY_V4, EVERY_V6]


def test_everything_split_across_policies_of_one_namespace(example: Example) -> None:
    """NetworkPolicies add up: halves in two policies are everything as much as in one."""
    spec, bundle = example
    bundle = _with_blocks(bundle, "0.0.0.0/1")
    bundle = tamper(bundle, "NetworkPolicy", "payments-prod", "allow-dns",
                    lambda b: b["spec"]["egress"][0]["to"].append(
                        {"ipBlock": {"cidr": "128.0.0.0/1"}}))
    lines = refused(spec, bundle)
    assert lines[-1] == EVERY_V4
    assert any("payments-prod/allow-dns: ipBlock 128.0.0.0/1" in line for line in lines)


def test_ingress_ip_block_from_everywhere(example: Example) -> None:
    spec, bundle = example
    lines = refused(spec, _with_blocks(bundle, "0.0.0.0/0", direction="ingress"))
    assert lines[-1] == EVERY_V4


def test_ip_block_with_except_is_judged_by_its_cidr(example: Example) -> None:
    spec, bundle = example

    def add(body: dict[str, Any]) -> None:
        body["spec"]["egress"][0]["to"].append(
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/14"]}})

    lines = refused(spec, tamper(bundle, "NetworkPolicy", "payments-prod",
                                 "allow-egress-cidrs", add))
    assert lines[-1] == f"{WHERE}: ipBlock 10.0.0.0/8 {NOT_NAMED}"


@pytest.mark.parametrize(
    ("cidr", "shown"),
    [("10.0.0.0/33", "10.0.0.0/33"), ("internet", "internet"), ("1" * 100, "1" * 64 + "..."),
     ("fd00:ec2::254%eth0/128", "fd00:ec2::254%eth0/128"), (7, "<int>"), (None, "<NoneType>")],
    ids=["prefix", "word", "long", "zone", "int", "none"],
)
def test_ip_block_that_is_not_a_cidr(example: Example, cidr: object, shown: str) -> None:
    spec, bundle = example
    lines = [line for line in refused(spec, _with_blocks(bundle, cidr))
             if line.startswith("[network-reach]")]
    assert lines == [f"{WHERE}: ipBlock {shown} is not a CIDR"]


def test_a_policy_the_renderer_never_made(example: Example) -> None:
    """A NetworkPolicy added with platform coordinates in a team's namespace is judged by
    its namespace; one in a namespace no team owns is refused outright."""
    spec, bundle = example
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "sneaky", "namespace": "checkout-dev"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]}]}}
    bundle = plus(bundle, Coordinates("nonprod"), body)
    other = {**body, "metadata": {"name": "sneaky", "namespace": "kube-system"}}
    bundle = plus(bundle, Coordinates("nonprod"), other)
    assert [line for line in refused(spec, bundle) if "[network-reach]" in line] == [
        "[network-reach] nonprod/NetworkPolicy checkout-dev/sneaky: ipBlock 10.20.0.0/16 is "
        "not within the team's egressCIDRs",
        "[network-reach] nonprod/NetworkPolicy kube-system/sneaky: ipBlock 10.20.0.0/16 is "
        "in namespace kube-system, which no team owns; ipBlocks come only from a team's "
        "egressCIDRs",
    ]


def _platform_changed(spec: PlatformSpec, **network: Any) -> PlatformSpec:
    """The same teams under a platform whose rules changed after rendering: what the
    guardrail sees when the spec checks were bypassed (or the renderer is wrong)."""
    platform = spec.platform.model_copy(deep=True)
    body = platform.spec
    if "allowed" in network:
        body.network.__dict__["egress_allowed_cidrs"] = network["allowed"]
    if "pods" in network:
        body.clusters[1].networks.__dict__["pod_cidrs"] = network["pods"]
    return PlatformSpec(platform, spec.entries, spec.sources)


def test_the_guardrail_alone_refuses_a_team_cidr_in_the_pod_network(example: Example) -> None:
    spec, bundle = example
    changed = _platform_changed(spec, pods=["10.20.0.0/16"])
    assert refused(changed, bundle) == [
        f"[network-reach] {cluster}/NetworkPolicy payments-{env}/allow-egress-cidrs: ipBlock "
        "10.20.0.0/16 reaches the pod network of cluster prod 10.20.0.0/16, "
        + ADVICE.format("it")
        for cluster, env in [("nonprod", "dev"), ("nonprod", "staging"), ("prod", "prod")]]


def test_the_guardrail_alone_refuses_egress_the_platform_does_not_allow(
        example: Example) -> None:
    spec, bundle = example
    changed = _platform_changed(spec, allowed=[])
    lines = refused(changed, bundle)
    assert lines == [
        f"[network-reach] {where}: ipBlock {cidr} is refused: the platform allows tenants no "
        "egress CIDRs; ask a platform admin to add the range to "
        "spec.network.egressAllowedCIDRs in platform.yaml"
        for where, cidr in [
            ("nonprod/NetworkPolicy payments-dev/allow-egress-cidrs", "10.20.0.0/16"),
            ("nonprod/NetworkPolicy payments-staging/allow-egress-cidrs", "10.20.0.0/16"),
            ("nonprod/NetworkPolicy storefront-dev/allow-egress-cidrs", "172.16.5.10/32"),
            ("nonprod/NetworkPolicy storefront-dev/allow-egress-cidrs", "192.168.100.0/24"),
            ("prod/NetworkPolicy payments-prod/allow-egress-cidrs", "10.20.0.0/16"),
            ("prod/NetworkPolicy storefront-prod/allow-egress-cidrs", "172.16.5.10/32"),
            ("prod/NetworkPolicy storefront-prod/allow-egress-cidrs", "192.168.100.0/24"),
        ]
    ]


def test_the_example_passes(example: Example) -> None:
    spec, bundle = example
    result = {r.name: r for r in policy.check(spec, bundle).results}["network-reach"]
    assert result.passed and result.covered == len(bundle.of_kind("NetworkPolicy"))
