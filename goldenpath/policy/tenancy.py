"""Tenancy guardrails: Pod Security labels, quota, limit range, service-account tokens."""

from __future__ import annotations

from goldenpath.policy.index import by_namespace, tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec

PSA_MODES = ("enforce", "audit", "warn")
REQUIRED_QUOTA = (
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "requests.ephemeral-storage",
    "requests.storage",
    "pods",
    "services",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
)
ZERO_QUOTA = ("services.nodeports", "services.loadbalancers")


def check_pod_security(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    namespaces = {r.name: r for r in bundle.of_kind("Namespace")}
    for name, (_, _, env) in tenant_namespaces(spec).items():
        findings.cover()
        resource = namespaces.get(name)
        if resource is None:
            findings.fail(f"Namespace {name}", "tenant namespace is not rendered")
            continue
        labels = resource.body["metadata"].get("labels", {})
        level = spec.environments[env].pod_security
        for mode in PSA_MODES:
            key = f"pod-security.kubernetes.io/{mode}"
            if labels.get(key) != level:
                findings.fail(
                    resource,
                    f"label {key} is {labels.get(key)!r}, the {env} environment requires {level!r}",
                )


def check_quota(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    quotas = by_namespace(bundle, "ResourceQuota")
    for name in tenant_namespaces(spec):
        findings.cover()
        if not quotas.get(name):
            findings.fail(f"Namespace {name}", "has no ResourceQuota")
            continue
        hard: dict[str, str] = {}
        for quota in quotas[name]:
            hard.update(quota.body.get("spec", {}).get("hard", {}))
        missing = [key for key in REQUIRED_QUOTA if key not in hard]
        if missing:
            findings.fail(f"Namespace {name}", f"ResourceQuota lacks {', '.join(missing)}")
        for key in ZERO_QUOTA:
            if str(hard.get(key)) != "0":
                findings.fail(
                    f"Namespace {name}",
                    f'ResourceQuota must set {key} to "0", found {hard.get(key)!r}',
                )


def check_limit_range(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    ranges = by_namespace(bundle, "LimitRange")
    for name in tenant_namespaces(spec):
        findings.cover()
        limits = [item for r in ranges.get(name, []) for item in r.body["spec"].get("limits", [])]
        containers = [item for item in limits if item.get("type") == "Container"]
        if not containers:
            findings.fail(f"Namespace {name}", "has no LimitRange for containers")
            continue
        for field in ("default", "defaultRequest", "max"):
            if not any(item.get(field) for item in containers):
                findings.fail(f"Namespace {name}", f"container LimitRange lacks {field!r}")


def check_service_accounts(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for resource in bundle.of_kind("ServiceAccount"):
        if resource.coords.team is None:
            continue
        findings.cover()
        if resource.body.get("automountServiceAccountToken") is not False:
            findings.fail(
                resource, "tenant service accounts must set automountServiceAccountToken: false"
            )
