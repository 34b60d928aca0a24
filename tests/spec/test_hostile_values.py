"""Hostile numbers and strings in a team spec: each refused with a clear message, never a
traceback. Every case passed validation before these bounds (or raised an exception)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import platform_doc, team_doc, write_platform
from tests.spec.support import QUANTITY, issue_lines, service, spec_error

TEAM = "teams/alpha.yaml"
TOO_LARGE = "is larger than a Kubernetes quantity can be (at most 2^63-1, about 8Ei)"
NOT_ASCII = "is not a Kubernetes quantity: write it with ASCII digits 0-9"
POSITIVE = "must be greater than zero"
PERCENT = 'is not a percentage such as "99.9"'
LE_COUNT = "Input should be less than or equal to 1000000"
ARABIC_12 = "\u0661\u0662"
ARABIC_99_9 = "\u0669\u0669.\u0669"
FULLWIDTH_8GI = "\uff18Gi"
FULLWIDTH_500M = "\uff15\uff10\uff10m"
FULLWIDTH_99 = "\uff19\uff19"
DEVANAGARI_20GI = "\u0968\u0966Gi"
OWNERS = [f"user:u{i}" for i in range(101)]
PARAMETERS = {f"k{i}": "v" for i in range(65)}
EGRESS = [f"10.{i}.0.0/16" for i in range(101)]


def _shown(value: object) -> str:
    """A long value as an issue shows it: its repr, cut at 80 characters."""
    return repr(value)[:77] + "..."


def _long(text: str) -> str:
    """A long string as an issue shows it: quoted, its first 75 characters, then '...'."""
    return f'"{text[:75]}"...'


CASES: list[tuple[str, dict[str, Any], str]] = [
    # integers beyond any sane count (2^63 overflows int64 in the API server)
    ("pods-2^63", {"quota": {"pods": 9223372036854775808}},
     f"spec.quota.pods: 9223372036854775808: {LE_COUNT}"),
    ("secrets-2^64", {"quota": {"secrets": 2**64}}, f"spec.quota.secrets: {2**64}: {LE_COUNT}"),
    ("services-big", {"quota": {"services": 10**7}}, f"spec.quota.services: 10000000: {LE_COUNT}"),
    ("configmaps-big", {"quota": {"configmaps": 10**7}},
     f"spec.quota.configmaps: 10000000: {LE_COUNT}"),
    ("pvcs-big", {"quota": {"persistentvolumeclaims": 10**7}},
     f"spec.quota.persistentvolumeclaims: 10000000: {LE_COUNT}"),
    ("replicas-big", {"services": [service(replicas={"dev": 10001})]},
     "spec.services[0].replicas.dev: 10001: Input should be less than or equal to 10000"),
    ("latency-big", {"services": [service(slo={"latencyP99Ms": 2**63})]},
     f"spec.services[0].slo.latencyP99Ms: {2**63}: Input should be less than or equal to "
     "3600000"),
    ("port-big", {"services": [service(port=2**31)]},
     f"spec.services[0].port: {2**31}: Input should be less than or equal to 65535"),
    # quantities beyond what a Kubernetes quantity holds
    ("cpu-1e308", {"quota": {"cpu": "1e308"}}, f'spec.quota.cpu: "1e308": {TOO_LARGE}'),
    ("cpu-1e400", {"quota": {"cpu": "1e400"}}, f'spec.quota.cpu: "1e400": {TOO_LARGE}'),
    ("cpu-float-1e308", {"quota": {"cpu": 1e308}}, f"spec.quota.cpu: 1e+308: {TOO_LARGE}"),
    ("cpu-exponent-huge", {"quota": {"cpu": "1e999999999"}},
     f'spec.quota.cpu: "1e999999999": {TOO_LARGE}'),
    ("memory-9Ei", {"quota": {"memory": "9Ei"}}, f'spec.quota.memory: "9Ei": {TOO_LARGE}'),
    ("memory-int-2^63", {"quota": {"memory": 2**63}},
     f"spec.quota.memory: {2**63}: {TOO_LARGE}"),
    ("storage-negative-huge", {"quota": {"storage": "-1e400"}},
     f'spec.quota.storage: "-1e400": {TOO_LARGE}'),
    ("cpu-tiny-exponent", {"quota": {"cpu": "1e-999"}},
     'spec.quota.cpu: "1e-999": is smaller than a Kubernetes quantity can be (1n)'),
    # digits that are not ASCII, which \d and Decimal() accept (Arabic-Indic, fullwidth,
    # Devanagari; written as escapes)
    ("cpu-arabic-indic", {"quota": {"cpu": ARABIC_12}},
     f'spec.quota.cpu: "{ARABIC_12}": {NOT_ASCII}'),
    ("memory-fullwidth", {"quota": {"memory": FULLWIDTH_8GI}},
     f'spec.quota.memory: "{FULLWIDTH_8GI}": {NOT_ASCII}'),
    ("storage-devanagari", {"quota": {"storage": DEVANAGARI_20GI}},
     f'spec.quota.storage: "{DEVANAGARI_20GI}": {NOT_ASCII}'),
    ("resources-fullwidth", {"services": [service(resources={"cpu": FULLWIDTH_500M,
                                                             "memory": "1Gi"})]},
     f'spec.services[0].resources.cpu: "{FULLWIDTH_500M}": {NOT_ASCII}'),
    ("percent-arabic-indic", {"services": [service(slo={"availability": ARABIC_99_9})]},
     f'spec.services[0].slo.availability: "{ARABIC_99_9}": {PERCENT}'),
    ("percent-fullwidth", {"services": [service(slo={"availability": FULLWIDTH_99})]},
     f'spec.services[0].slo.availability: "{FULLWIDTH_99}": {PERCENT}'),
    ("percent-underscore", {"services": [service(slo={"availability": "9_9.9"})]},
     f'spec.services[0].slo.availability: "9_9.9": {PERCENT}'),
    ("percent-exponent", {"services": [service(slo={"availability": "9.99e1"})]},
     f'spec.services[0].slo.availability: "9.99e1": {PERCENT}'),
    # negative zero, NaN and infinities
    ("cpu-negative-zero", {"quota": {"cpu": "-0"}}, f'spec.quota.cpu: "-0": {POSITIVE}'),
    ("cpu-negative-zero-float", {"quota": {"cpu": -0.0}}, f"spec.quota.cpu: -0.0: {POSITIVE}"),
    ("memory-negative-zero-suffix", {"quota": {"memory": "-0Gi"}},
     f'spec.quota.memory: "-0Gi": {POSITIVE}'),
    ("percent-negative-zero", {"services": [service(slo={"availability": "-0"})]},
     f'spec.services[0].slo.availability: "-0": {PERCENT}'),
    ("cpu-nan", {"quota": {"cpu": float("nan")}}, f"spec.quota.cpu: nan: {QUANTITY}"),
    ("cpu-inf", {"quota": {"cpu": float("inf")}}, f"spec.quota.cpu: inf: {QUANTITY}"),
    ("cpu-Infinity", {"quota": {"cpu": "Infinity"}}, f'spec.quota.cpu: "Infinity": {QUANTITY}'),
    ("memory-NaN", {"quota": {"memory": "NaN"}}, f'spec.quota.memory: "NaN": {QUANTITY}'),
    ("percent-inf", {"services": [service(slo={"availability": float("inf")})]},
     f"spec.services[0].slo.availability: inf: {PERCENT}"),
    ("percent-Infinity", {"services": [service(slo={"availability": "Infinity"})]},
     f'spec.services[0].slo.availability: "Infinity": {PERCENT}'),
    # text around a number
    ("cpu-trailing-newline", {"quota": {"cpu": "4\n"}}, f'spec.quota.cpu: "4\\n": {QUANTITY}'),
    ("cpu-65-chars", {"quota": {"cpu": "1" * 65}},
     f'spec.quota.cpu: "{"1" * 65}": is longer than 64 characters; not a Kubernetes quantity'),
    ("cidr-zone", {"network": {"egressCIDRs": ["fd00:ec2::254%eth0/128"]}},
     'spec.network.egressCIDRs[0]: "fd00:ec2::254%eth0/128": is not a CIDR with its host bits '
     "zero (for example 10.20.0.0/16)"),
    ("cidr-65-chars", {"network": {"egressCIDRs": ["1" * 65]}},
     f'spec.network.egressCIDRs[0]: "{"1" * 65}": is longer than 64 characters; not a CIDR'),
    # overly long strings and lists
    ("subject-254", {"owners": ["user:" + "a" * 249]},
     f'spec.owners[0]: {_long("user:" + "a" * 249)}: is longer than 253 characters'),
    ("owners-101", {"owners": OWNERS},
     f"spec.owners: {_shown(OWNERS)}: List should have at most 100 items after validation, "
     "not 101"),
    ("parameter-key", {"services": [service(parameters={"k" * 64: "v"})]},
     f'spec.services[0].parameters.{"k" * 64}: "{"k" * 64}": String should have at most 63 '
     "characters"),
    ("parameter-value", {"services": [service(parameters={"k": "v" * 1025})]},
     f'spec.services[0].parameters.k: {_long("v" * 1025)}: String should have at most 1024 '
     "characters"),
    ("parameters-65", {"services": [service(parameters=PARAMETERS)]},
     f"spec.services[0].parameters: {_shown(PARAMETERS)}: Dictionary should have at most 64 "
     "items after validation, not more"),
    ("secret-key-254", {"alerting": {"slack": {"channel": "#a", "secretRef": {
        "name": "s", "key": "k" * 254}}}},
     f'spec.alerting.slack.secretRef.key: {_long("k" * 254)}: String should have at most 253 '
     "characters"),
    ("egress-101", {"network": {"egressCIDRs": EGRESS}},
     f"spec.network.egressCIDRs: {_shown(EGRESS)}: List should have at most 100 items after "
     "validation, not 101"),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=case) for case, spec, expected in CASES],
)
def test_hostile_value(tmp_path: Path, spec: dict[str, Any], expected: str) -> None:
    lines = issue_lines(tmp_path, platform_doc(), [team_doc("alpha", **spec)])
    assert lines == [f"{TEAM}: {expected}"]


def test_memory_beyond_the_platform_maximum(tmp_path: Path) -> None:
    # a valid quantity, but beyond what the platform lets a team have without an admin
    lines = issue_lines(tmp_path, platform_doc(), [team_doc("alpha", quota={"memory": "1Ei"})])
    assert lines == [
        f'{TEAM}: spec.quota.memory: "1Ei": is above the platform\'s maximum 256Gi per team '
        "and environment (in dev, staging, prod); ask a platform admin to raise "
        "spec.limits.maxQuota.memory, or to grant the team more in "
        "spec.limits.grants.alpha.maxQuota.memory, in platform.yaml"]


@pytest.mark.parametrize("digits", [33, 5000, 100_000])
def test_a_yaml_integer_of_many_digits(tmp_path: Path, digits: int) -> None:
    """PyYAML would turn it into an int (and Python refuses to beyond 4,300 digits)."""
    write_platform(tmp_path, platform_doc(), [team_doc("alpha")])
    path = tmp_path / "teams" / "alpha.yaml"
    huge = f"spec:\n  quota: {{pods: {'9' * digits}}}\n"
    path.write_text(path.read_text().replace("spec:\n", huge, 1))
    error = spec_error(tmp_path, platform_doc(), [])
    assert [str(i).replace(f"{tmp_path}/", "") for i in error.issues] == [
        f"{TEAM}: line 6: a number of {digits} characters; spec numbers have at most 32"]
