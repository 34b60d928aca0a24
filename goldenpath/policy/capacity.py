"""Capacity guardrail: on a cluster that declares capacity, the team quotas must fit."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.quantity import format_bytes, format_cpu, parse_quantity
from goldenpath.spec.resolve import PlatformSpec

_RESOURCES = (("cpu", "requests.cpu", format_cpu), ("memory", "requests.memory", format_bytes))
TOP = 5


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for cluster in spec.platform.spec.clusters:
        if cluster.capacity is None:
            continue
        quotas = [
            q
            for q in bundle.for_cluster(cluster.name).of_kind("ResourceQuota")
            if q.coords.team is not None
        ]
        findings.cover(len(quotas))
        for field, key, fmt in _RESOURCES:
            by_namespace: dict[str, Decimal] = defaultdict(Decimal)
            for quota in quotas:
                by_namespace[quota.namespace or ""] += parse_quantity(
                    quota.body["spec"]["hard"].get(key, "0")
                )
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
