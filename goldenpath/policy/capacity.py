"""Capacity guardrail: on a cluster that declares capacity, the team quotas must fit.

Each tenant namespace counts with its ResourceQuota in the Bundle. A namespace whose
quota the Bundle does not hold (apply renders only the teams whose inputs changed; the
files of the others are what their unchanged inputs render) counts with the quota the
spec resolves for it, which is what its ResourceQuota says: so the check always covers
every team, without rendering or even building the model of the teams not rendered.
"""

from __future__ import annotations

from decimal import Decimal

from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.quantity import format_bytes, format_cpu, parse_quantity
from goldenpath.spec.resolve import PlatformSpec, namespace_name

_RESOURCES = (("cpu", "requests.cpu", format_cpu), ("memory", "requests.memory", format_bytes))
TOP = 5


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for cluster in spec.platform.spec.clusters:
        if cluster.capacity is None:
            continue
        requests = _requests(spec, bundle, cluster.name)
        findings.cover(len(requests))
        for index, (field, _, fmt) in enumerate(_RESOURCES):
            by_namespace = {ns: amounts[index] for ns, amounts in requests.items()}
            total = sum(by_namespace.values(), Decimal(0))
            capacity = parse_quantity(getattr(cluster.capacity, field))
            if total > capacity:
                largest = sorted(by_namespace.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
                names = ", ".join(f"{ns} {fmt(amount)}" for ns, amount in largest)
                findings.fail(
                    f"cluster {cluster.name}",
                    f"team quotas request {fmt(total)} {field}, more than the "
                    f"cluster's capacity {fmt(capacity)}; largest: {names}",
                )


def _requests(spec: PlatformSpec, bundle: Bundle, cluster: str) -> dict[str, list[Decimal]]:
    """Tenant namespace -> requested [cpu, memory] on ``cluster``."""
    out: dict[str, list[Decimal]] = {}
    for quota in bundle.for_cluster(cluster).of_kind("ResourceQuota"):
        if quota.coords.team is None:
            continue
        amounts = out.setdefault(quota.namespace or "", [Decimal(0)] * len(_RESOURCES))
        hard = quota.body["spec"]["hard"]
        for index, (_, key, _) in enumerate(_RESOURCES):
            amounts[index] += parse_quantity(hard.get(key, "0"))
    for team, env in spec.namespaces_on(cluster):
        namespace = namespace_name(team, env)
        if namespace not in out:
            resolved = spec.quota_of(team, env)
            out[namespace] = [parse_quantity(getattr(resolved, field))
                              for field, _, _ in _RESOURCES]
    return out
