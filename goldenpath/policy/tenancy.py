"""Tenancy guardrails: Pod Security labels, quota, limit range, service-account tokens.

Each decides from the objects: a Namespace or a quota belongs to the tenant namespace it
names or sits in, whatever coordinates it carries (the ``coordinates`` guardrail refuses
coordinates that disagree with the object). What a namespace must have (its Pod Security
level, its quota) comes from the spec, never from the rendered object itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from goldenpath.policy.index import by_namespace, tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.quantity import QuantityError, parse_quantity
from goldenpath.spec.resolve import PlatformSpec, ResolvedQuota

PSA_MODES = ("enforce", "audit", "warn")
#: The metadata keys goldenpath puts on a tenant Namespace. Anything else is refused:
#: admission controllers read namespace labels and annotations (a Gatekeeper exemption
#: label, a PodNodeSelector or toleration annotation), so one could undo a guardrail.
NAMESPACE_LABELS = ("goldenpath.dev/", "app.kubernetes.io/", "pod-security.kubernetes.io/",
                    "kubernetes.io/metadata.name")
NAMESPACE_ANNOTATIONS = ("goldenpath.dev/",)
#: quota key -> the ResolvedQuota field that bounds it
QUOTA_FIELDS = {
    "requests.cpu": "cpu",
    "requests.memory": "memory",
    "limits.cpu": "limits_cpu",
    "limits.memory": "limits_memory",
    "requests.ephemeral-storage": "ephemeral_storage",
    "limits.ephemeral-storage": "ephemeral_storage",
    "requests.storage": "storage",
    "pods": "pods",
    "services": "services",
    "secrets": "secrets",
    "configmaps": "configmaps",
    "persistentvolumeclaims": "persistentvolumeclaims",
}
REQUIRED_QUOTA = tuple(key for key in QUOTA_FIELDS if key != "limits.ephemeral-storage")
ZERO_QUOTA = ("services.nodeports", "services.loadbalancers")
LIMITED = ("cpu", "memory")


def check_pod_security(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    version = f"v{spec.platform.spec.kubernetes_version}"
    seen: set[str] = set()
    # every Namespace object named like a tenant namespace, wherever it is headed
    for resource in bundle.of_kind("Namespace"):
        if resource.name not in owned:
            continue
        seen.add(resource.name)
        env = owned[resource.name][2]
        _check_psa(resource, env, spec.environments[env].pod_security, version, findings)
    for name in owned:
        findings.cover()
        if name not in seen:
            findings.fail(f"Namespace {name}", "tenant namespace is not rendered")


def _check_psa(resource: Resource, env: str, level: str, version: str,
               findings: Findings) -> None:
    labels = resource.body["metadata"].get("labels") or {}
    _check_metadata(resource, findings)
    for mode in PSA_MODES:
        key = f"pod-security.kubernetes.io/{mode}"
        if labels.get(key) != level:
            findings.fail(
                resource,
                f"label {key} is {labels.get(key)!r}, the {env} environment requires {level!r}",
            )
        # a policy pinned to an older Kubernetes version lacks the checks added since
        if labels.get(f"{key}-version") != version:
            findings.fail(
                resource,
                f"label {key}-version is {labels.get(f'{key}-version')!r}, must be "
                f"{version!r} (the platform's kubernetesVersion)",
            )


def _check_metadata(resource: Resource, findings: Findings) -> None:
    for field, allowed in (("labels", NAMESPACE_LABELS), ("annotations", NAMESPACE_ANNOTATIONS)):
        for key in sorted(resource.body["metadata"].get(field) or {}):
            if not str(key).startswith(allowed):
                findings.fail(resource, f"{field[:-1]} {key} is not one goldenpath sets; "
                              "tenant namespace metadata steers admission, so only "
                              f"{', '.join(allowed)} keys are allowed")


def check_quota(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    quotas = by_namespace(bundle, "ResourceQuota")
    for name, (_, team, env) in tenant_namespaces(spec).items():
        findings.cover()
        where = f"Namespace {name}"
        # every amount of every quota is a quantity (quota-max relies on this guardrail
        # for that and judges only the amounts it can read)
        for quota in quotas.get(name, ()):
            for key, value in ((quota.body.get("spec") or {}).get("hard") or {}).items():
                try:
                    parse_quantity(value)
                except QuantityError as e:
                    findings.fail(where, f"ResourceQuota {quota.name}: {key}: {e}")
        # a quota with scopes or a scopeSelector counts only the objects it matches
        unscoped = [q for q in quotas.get(name, ()) if not _scoped(q.body)]
        if not unscoped:
            scoped = " (a quota with scopes or scopeSelector bounds only what it matches)" \
                if quotas.get(name) else ""
            findings.fail(f"Namespace {name}", f"has no ResourceQuota{scoped}")
            continue
        hard = _effective(unscoped)
        missing = [key for key in REQUIRED_QUOTA if _raw(unscoped, key) is None]
        if missing:
            findings.fail(where, f"ResourceQuota lacks {', '.join(missing)}")
        for key in ZERO_QUOTA:
            if hard.get(key) != 0:
                found = _raw(unscoped, key)
                findings.fail(where, f'ResourceQuota must set {key} to "0", found {found!r}')
        for key, bound in _bounds(spec.quota_of(team, env)):
            if key in hard and hard[key] > bound[0]:
                findings.fail(
                    where,
                    f"ResourceQuota allows {key} {_raw(unscoped, key)}, more than the "
                    f"{bound[1]} the spec gives team {team} in {env}",
                )


def _scoped(body: dict[str, Any]) -> bool:
    spec = body.get("spec") or {}
    return bool(spec.get("scopes") or spec.get("scopeSelector"))


def _effective(quotas: list[Resource]) -> dict[str, Decimal]:
    """Key -> the smallest limit any of the quotas sets: each quota is enforced on its own.
    Amounts that are not quantities are left out (check_quota refuses them)."""
    out: dict[str, Decimal] = {}
    for quota in quotas:
        for key, value in ((quota.body.get("spec") or {}).get("hard") or {}).items():
            try:
                amount = parse_quantity(value)
            except QuantityError:
                continue
            out[key] = min(out.get(key, amount), amount)
    return out


def _raw(quotas: list[Resource], key: str) -> object:
    """The value as written (of the first quota setting it), for messages."""
    for quota in quotas:
        hard = (quota.body.get("spec") or {}).get("hard") or {}
        if key in hard:
            return hard[key]
    return None


def _bounds(quota: ResolvedQuota) -> Iterator[tuple[str, tuple[Decimal, str]]]:
    for key, field in QUOTA_FIELDS.items():
        value = getattr(quota, field)
        yield key, (parse_quantity(value), str(value))


def check_limit_range(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    c = spec.platform.spec.defaults.container
    ceilings = {"cpu": c.max_cpu, "memory": c.max_memory}
    ranges = by_namespace(bundle, "LimitRange")
    for name in tenant_namespaces(spec):
        findings.cover()
        where = f"Namespace {name}"
        limits = [item for r in ranges.get(name, [])
                  for item in (r.body.get("spec") or {}).get("limits") or []]
        containers = [item for item in limits if item.get("type") == "Container"]
        if not containers:
            findings.fail(where, "has no LimitRange for containers")
            continue
        for field in ("default", "defaultRequest", "max"):
            if not any(item.get(field) for item in containers):
                findings.fail(where, f"container LimitRange lacks {field!r}")
                continue
            for resource in LIMITED:
                if not any((item.get(field) or {}).get(resource) for item in containers):
                    findings.fail(where, f"container LimitRange lacks {field}.{resource}")
        _check_ceilings(where, containers, ceilings, findings)


def _check_ceilings(where: str, containers: list[dict[str, Any]], ceilings: dict[str, str],
                    findings: Findings) -> None:
    """Every LimitRange is enforced, so the smallest max is the one that holds."""
    for resource, ceiling in ceilings.items():
        found = [str(item["max"][resource]) for item in containers
                 if resource in (item.get("max") or {})]
        try:
            amounts = [parse_quantity(value) for value in found]
        except QuantityError as e:
            findings.fail(where, f"container LimitRange max.{resource}: {e}")
            continue
        if amounts and min(amounts) > parse_quantity(ceiling):
            findings.fail(where, f"container LimitRange allows max.{resource} "
                          f"{found[amounts.index(min(amounts))]}, above the platform's "
                          f"{ceiling}")


def check_service_accounts(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    # every ServiceAccount: goldenpath renders them only for tenants, whatever the
    # coordinates of a tampered one say
    for resource in bundle.of_kind("ServiceAccount"):
        findings.cover()
        if resource.body.get("automountServiceAccountToken") is not False:
            findings.fail(
                resource, "tenant service accounts must set automountServiceAccountToken: false"
            )
