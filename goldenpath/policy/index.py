"""Lookups over a Bundle that several guardrails share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec


def tenant_namespaces(spec: PlatformSpec) -> Mapping[str, tuple[str, str, str]]:
    """Every namespace the spec says a team owns -> (cluster, team, environment).

    Derived from the spec, not from the Bundle, so a renderer that forgets a namespace's
    guardrails is caught rather than trusted.
    """
    return spec.tenant_namespaces


def by_namespace(bundle: Bundle, kind: str) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = defaultdict(list)
    for resource in bundle.of_kind(kind):
        out[resource.namespace or ""].append(resource)
    return out
