"""A hostile team spec against the platform's bounds: egress reach, quota, services.

Each attack is a team file that passes every other rule; the message names the bound,
and the platform.yaml field an admin changes to allow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform
from tests.spec.support import issue_lines

TEAM = "teams/alpha.yaml"
ADVICE = ("which tenants may not reach; name ranges that leave {} out, or ask a platform "
          "admin to list the range in spec.network.egressAllowedCIDRs in platform.yaml")
NOT_ALLOWED = ("is not within the platform's egressAllowedCIDRs (10.0.0.0/8, 2001:db8::/32); "
               "ask a platform admin to add it to spec.network.egressAllowedCIDRs in "
               "platform.yaml")


def _platform(**spec: Any) -> dict[str, Any]:
    doc = platform_doc(network={"egressAllowedCIDRs": ["10.0.0.0/8", "2001:db8::/32"]}, **spec)
    doc["spec"]["clusters"][0]["networks"] = {
        "podCIDRs": ["10.244.0.0/16"], "serviceCIDRs": ["10.96.0.0/12"],
        "apiServerCIDRs": ["10.0.0.1/32"], "nodeCIDRs": ["2001:db8:0:1::/64"]}
    return doc


def _egress(tmp_path: Path, *cidrs: str, platform: dict[str, Any] | None = None) -> list[str]:
    team = team_doc("alpha", network={"egressCIDRs": list(cidrs)})
    return issue_lines(tmp_path, platform or _platform(), [team])


def _at(i: int, cidr: str, message: str) -> str:
    return f'{TEAM}: spec.network.egressCIDRs[{i}]: "{cidr}": {message}'


def test_allowed_egress_loads(tmp_path: Path) -> None:
    team = team_doc("alpha", network={"egressCIDRs": ["10.20.0.0/16", "2001:db8:1::/48",
                                                     "::ffff:10.30.0.0/112"]})
    spec = load_platform(write_platform(tmp_path, _platform(), [team]))
    # an IPv4-mapped CIDR is kept as the IPv4 CIDR it is, which is what the ipBlock says
    assert spec.team("alpha").spec.network.egress_cidrs == [
        "10.20.0.0/16", "2001:db8:1::/48", "10.30.0.0/16"]


def test_no_egress_is_allowed_unless_the_platform_says_so(tmp_path: Path) -> None:
    assert _egress(tmp_path, "10.20.0.0/16", platform=platform_doc(network={})) == [
        _at(0, "10.20.0.0/16", "is refused: the platform allows tenants no egress CIDRs; ask "
            "a platform admin to add the range to spec.network.egressAllowedCIDRs in "
            "platform.yaml")]


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("192.168.0.0/16", NOT_ALLOWED),
        ("2001:db9::/32", NOT_ALLOWED),
        # the metadata address in every form
        ("169.254.169.254/32", "reaches the cloud metadata address 169.254.169.254/32, "
         "link-local 169.254.0.0/16, " + ADVICE.format("them")),
        ("fd00:ec2::254/128", "reaches the AWS metadata address fd00:ec2::254/128, "
         + ADVICE.format("it")),
        ("168.63.129.16/32", "reaches Azure's host address (WireServer) 168.63.129.16/32, "
         + ADVICE.format("it")),
        ("100.100.100.200/32", "reaches Alibaba Cloud's metadata address "
         "100.100.100.200/32, " + ADVICE.format("it")),
        # link-local and loopback
        ("169.254.0.0/16", "reaches the cloud metadata address 169.254.169.254/32, "
         "link-local 169.254.0.0/16, " + ADVICE.format("them")),
        ("fe80::/10", "reaches link-local fe80::/10, " + ADVICE.format("it")),
        ("127.0.0.0/8", "reaches loopback 127.0.0.0/8, " + ADVICE.format("it")),
        ("::1/128", "reaches loopback ::1/128, " + ADVICE.format("it")),
        ("0.0.0.0/8", "reaches 'this host' addresses 0.0.0.0/8, " + ADVICE.format("it")),
        # the cluster's own networks, inside the allowed 10.0.0.0/8 and 2001:db8::/32
        ("10.244.0.0/16", "reaches the pod network of cluster nonprod 10.244.0.0/16, "
         + ADVICE.format("it")),
        ("10.100.0.0/16", "reaches the service network of cluster nonprod 10.96.0.0/12, "
         + ADVICE.format("it")),
        ("10.0.0.0/24", "reaches the API server of cluster nonprod 10.0.0.1/32, "
         + ADVICE.format("it")),
        ("2001:db8::/48", "reaches the node network of cluster nonprod 2001:db8:0:1::/64, "
         + ADVICE.format("it")),
    ],
)
def test_refused_egress(tmp_path: Path, cidr: str, expected: str) -> None:
    assert _egress(tmp_path, cidr) == [_at(0, cidr, expected)]


def test_metadata_as_ipv4_mapped_ipv6(tmp_path: Path) -> None:
    # the value shown is the CIDR as loaded: the IPv4 network the mapped one is
    assert _egress(tmp_path, "::ffff:169.254.169.254/128") == [_at(
        0, "169.254.169.254/32", "reaches the cloud metadata address 169.254.169.254/32, "
        "link-local 169.254.0.0/16, " + ADVICE.format("them"))]


def test_metadata_through_nat64_and_6to4(tmp_path: Path) -> None:
    through = "reaches the cloud metadata address 169.254.169.254/32, link-local " \
              "169.254.0.0/16 (through {}), " + ADVICE.format("them")
    assert _egress(tmp_path, "64:ff9b::a9fe:a9fe/128", "2002:a9fe:a9fe::/48") == [
        _at(0, "64:ff9b::a9fe:a9fe/128", NOT_ALLOWED),
        _at(0, "64:ff9b::a9fe:a9fe/128", through.format("NAT64 64:ff9b::/96")),
        _at(1, "2002:a9fe:a9fe::/48", NOT_ALLOWED),
        _at(1, "2002:a9fe:a9fe::/48", through.format("6to4 2002::/16")),
    ]


EVERY_V4 = f"{TEAM}: spec.network.egressCIDRs: together reach every IPv4 address (0.0.0.0/0); " \
           "name only the networks the team needs"


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["::ffff:0:0/97", "::ffff:128.0.0.0/97"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    ],
)
def test_pieces_of_everything(tmp_path: Path, cidrs: list[str]) -> None:
    lines = _egress(tmp_path, *cidrs)
    assert lines[0] == EVERY_V4
    # and each piece breaks a rule on its own
    assert len(lines) == 1 + len(cidrs)
    assert all(NOT_ALLOWED in line or "which tenants may not reach" in line
               for line in lines[1:])


def test_everything_is_refused_even_when_allowed(tmp_path: Path) -> None:
    """An admin may allow the whole internet (and the refused ranges, named one by one),
    but one team's CIDRs never add up to every address."""
    refused = ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "169.254.169.254/32",
               "168.63.129.16/32", "100.100.100.200/32"]
    platform = platform_doc(network={"egressAllowedCIDRs": ["0.0.0.0/0", *refused]})
    pieces = ["0.0.0.0/8", "1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4",
              "32.0.0.0/3", "64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6",
              "124.0.0.0/7", "126.0.0.0/8", "127.0.0.0/8", "128.0.0.0/1"]
    lines = _egress(tmp_path, *pieces, platform=platform)
    assert lines[0] == EVERY_V4
    # the pieces holding a refused range not listed on its own are refused for it too
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "spec.network.egressCIDRs[14]", "spec.network.egressCIDRs[8]"]
    assert "not within the platform's egressAllowedCIDRs" not in "".join(lines)


def test_ipv6_halves(tmp_path: Path) -> None:
    lines = _egress(tmp_path, "::/1", "8000::/1")
    assert lines[:2] == [
        EVERY_V4,
        f"{TEAM}: spec.network.egressCIDRs: together reach every IPv6 address (::/0); "
        "name only the networks the team needs"]


@pytest.mark.parametrize(
    ("cidr", "written"),
    [("::/0", "::/0"), ("::ffff:0:0/96", "::ffff:0:0/96"), ("0.0.0.0/0", "0.0.0.0/0")],
)
def test_a_single_cidr_for_everything(tmp_path: Path, cidr: str, written: str) -> None:
    assert _egress(tmp_path, cidr) == [_at(0, written, (
        "opens egress to every address, including other tenants and the API server; name "
        "the networks the team needs"))]


# --- quota and services ------------------------------------------------------------------

def _quota_lines(tmp_path: Path, platform: dict[str, Any] | None = None,
                 **team: Any) -> list[str]:
    return issue_lines(tmp_path, platform or platform_doc(), [team_doc("alpha", **team)])


def _ask(field: str) -> str:
    return (f"ask a platform admin to raise spec.limits.{field}, or to grant the team more in "
            f"spec.limits.grants.alpha.{field}, in platform.yaml")


def test_quota_above_the_built_in_maximum(tmp_path: Path) -> None:
    assert _quota_lines(tmp_path, quota={"cpu": "65", "pods": 1001}) == [
        f'{TEAM}: spec.quota.cpu: "65": is above the platform\'s maximum 64 per team and '
        f"environment (in dev, staging, prod); {_ask('maxQuota.cpu')}",
        f"{TEAM}: spec.quota.pods: 1001: is above the platform's maximum 1000 per team and "
        f"environment (in dev, staging, prod); {_ask('maxQuota.pods')}",
    ]


def test_quota_above_the_platform_maximum_in_one_environment(tmp_path: Path) -> None:
    platform = platform_doc(limits={"maxQuota": {"memory": "32Gi", "limitsMemory": "64Gi"}})
    lines = _quota_lines(tmp_path, platform, quota={"memory": "16Gi"},
                         environmentOverrides={"prod": {"quota": {"memory": "1Ei"}}})
    # (its limit, twice the request, is too much too: said once, of the request)
    assert lines == [
        f'{TEAM}: spec.environmentOverrides.prod.quota.memory: "1Ei": is above the '
        f"platform's maximum 32Gi per team and environment (in prod); "
        f"{_ask('maxQuota.memory')}",
    ]


def test_a_limit_twice_the_request_above_the_maximum(tmp_path: Path) -> None:
    platform = platform_doc(limits={"maxQuota": {"memory": "32Gi", "limitsMemory": "40Gi"}})
    assert _quota_lines(tmp_path, platform, quota={"memory": "32Gi"}) == [
        f'{TEAM}: spec.quota.memory: "32Gi": makes limitsMemory 64Gi (twice the request, '
        "unless set), above the platform's maximum 40Gi per team and environment (in dev, "
        f"staging, prod); {_ask('maxQuota.limitsMemory')}",
    ]


def test_a_grant_raises_the_maximum_for_one_team(tmp_path: Path) -> None:
    platform = platform_doc(limits={"maxQuota": {"cpu": "8"},
                                    "grants": {"alpha": {"maxQuota": {"cpu": "32"}}}})
    teams = [team_doc("alpha", quota={"cpu": "32"}), team_doc("beta", quota={"cpu": "9"})]
    assert issue_lines(tmp_path, platform, teams) == [
        'teams/beta.yaml: spec.quota.cpu: "9": is above the platform\'s maximum 8 per team '
        "and environment (in dev, staging, prod); ask a platform admin to raise "
        "spec.limits.maxQuota.cpu, or to grant the team more in "
        "spec.limits.grants.beta.maxQuota.cpu, in platform.yaml"]


def test_the_example_needs_its_grant(tmp_path: Path) -> None:
    platform = yaml.safe_load((EXAMPLE_PLATFORM / "platform.yaml").read_text())
    del platform["spec"]["limits"]["grants"]
    teams = [yaml.safe_load(p.read_text()) for p in sorted((EXAMPLE_PLATFORM / "teams").iterdir())]
    lines = issue_lines(tmp_path, platform, teams)
    assert lines == [
        'teams/payments.yaml: spec.environmentOverrides.prod.quota.cpu: "32": is above the '
        "platform's maximum 16 per team and environment (in prod); ask a platform admin to "
        "raise spec.limits.maxQuota.cpu, or to grant the team more in "
        "spec.limits.grants.payments.maxQuota.cpu, in platform.yaml",
        'teams/payments.yaml: spec.environmentOverrides.prod.quota.limitsCpu: "48": is above '
        "the platform's maximum 32 per team and environment (in prod); ask a platform admin "
        "to raise spec.limits.maxQuota.limitsCpu, or to grant the team more in "
        "spec.limits.grants.payments.maxQuota.limitsCpu, in platform.yaml"]


def test_too_many_services(tmp_path: Path) -> None:
    services = [{"name": f"s{i}", "template": "python-service"} for i in range(3)]
    platform = platform_doc(limits={"maxServicesPerTeam": 2})
    assert _quota_lines(tmp_path, platform, services=services) == [
        f"{TEAM}: spec.services: 3 services are more than the 2 the platform allows a team; "
        "ask a platform admin to raise spec.limits.maxServicesPerTeam, or to grant the team "
        "more in spec.limits.grants.alpha.maxServices, in platform.yaml"]
    granted = platform_doc(limits={"maxServicesPerTeam": 2,
                                   "grants": {"alpha": {"maxServices": 3}}})
    write_platform(tmp_path / "granted", granted, [team_doc("alpha", services=services)])
    assert len(load_platform(tmp_path / "granted").team("alpha").spec.services) == 3


def test_platform_default_above_its_maximum(tmp_path: Path) -> None:
    platform = platform_doc(defaults={"quota": {"cpu": "8"}},
                            limits={"maxQuota": {"cpu": "4", "pods": 10}})
    assert issue_lines(tmp_path, platform, []) == [
        'platform.yaml: spec.defaults.quota.cpu: "8": gives every team cpu 8, above '
        "spec.limits.maxQuota.cpu (4); lower the default or raise the maximum",
        "platform.yaml: spec.limits.maxQuota.pods: 10: is below the built-in default pods 40 "
        "every team gets; raise it or set spec.defaults.quota.pods",
    ]


def test_platform_bound_fields(tmp_path: Path) -> None:
    platform = platform_doc(limits={"maxObjectBytes": 300_000, "maxServicesPerTeam": 0},
                            network={"egressAllowedCIDRs": ["10.0.0.1/8"]})
    platform["spec"]["clusters"][0]["networks"] = {"podCIDRs": ["pods"]}
    assert issue_lines(tmp_path, platform, []) == [
        'platform.yaml: spec.clusters[0].networks.podCIDRs[0]: "pods": is not a CIDR with its '
        "host bits zero (for example 10.20.0.0/16)",
        "platform.yaml: spec.limits.maxObjectBytes: 300000: Input should be less than or "
        "equal to 229376",
        "platform.yaml: spec.limits.maxServicesPerTeam: 0: Input should be greater than or "
        "equal to 1",
        'platform.yaml: spec.network.egressAllowedCIDRs[0]: "10.0.0.1/8": is not a CIDR with '
        "its host bits zero (for example 10.20.0.0/16)",
    ]


def test_a_maximum_below_the_built_in_default(tmp_path: Path) -> None:
    # the built-in default cpu (4) and its limit (8) are both above; said once, of cpu
    assert issue_lines(tmp_path, platform_doc(limits={"maxQuota": {"cpu": "2"}}), []) == [
        'platform.yaml: spec.limits.maxQuota.cpu: "2": is below the built-in default cpu 4 '
        "every team gets; raise it or set spec.defaults.quota.cpu"]
