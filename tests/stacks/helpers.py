"""Expectations for the Pulumi program, derived from the Bundle, never hard-coded.

Whatever renderers add to the Bundle (Argo CD, observability, ...), the program must
register exactly those objects, under the right component, with the stack's provider.
"""

from __future__ import annotations

from typing import Any

import pulumi

from goldenpath.render import Bundle, Resource
from goldenpath_stack.program import ClusterStack
from tests.stacks.conftest import RecordingMonitor, Registration

Identity = tuple[str, str, str, str]

#: renderer concern -> the component type that must own a team's objects of it (issue 6)
COMPONENT_OF_CONCERN = {
    "tenancy": "goldenpath:tenancy:TeamTenancy",
    "network": "goldenpath:tenancy:TeamTenancy",
    "rbac": "goldenpath:tenancy:TeamTenancy",
    "edge": "goldenpath:tenancy:TeamTenancy",
    "argocd": "goldenpath:delivery:TeamDelivery",
    "observability": "goldenpath:observability:TeamObservability",
}
CLUSTER_COMPONENT = "goldenpath:cluster:ClusterPlatform"


def identity_of_body(body: dict[str, Any]) -> Identity:
    meta = body["metadata"]
    return (body["apiVersion"], body["kind"], meta.get("namespace") or "", meta["name"])


def identity(resource: Resource) -> Identity:
    return identity_of_body(resource.body)


def registered_bodies(monitor: RecordingMonitor) -> dict[Identity, dict[str, Any]]:
    """Identity -> full manifest, of every Kubernetes object registered; fails on duplicates."""
    out: dict[Identity, dict[str, Any]] = {}
    for reg in monitor.kubernetes_objects():
        key = identity_of_body(reg.inputs)
        assert key not in out, f"{key} registered twice"
        out[key] = reg.inputs
    return out


def settled(stack: ClusterStack) -> pulumi.Output[Any]:
    """An Output that resolves once every declared resource has been registered."""
    urns = [stack.provider.urn]
    for component in stack.components:
        urns.append(component.urn)
        urns.extend(child.urn for child in component.declared)
    return pulumi.Output.all(*urns)


def expected_parent(resource: Resource) -> tuple[str, str]:
    """(component type, component name) that must hold ``resource``."""
    if resource.coords.team is None:
        return CLUSTER_COMPONENT, resource.coords.cluster
    return COMPONENT_OF_CONCERN[resource.concern], resource.coords.team


def by_identity(monitor: RecordingMonitor) -> dict[Identity, Registration]:
    return {identity_of_body(r.inputs): r for r in monitor.kubernetes_objects()}


def assert_parity(monitor: RecordingMonitor, expected: Bundle) -> None:
    """Same objects (identity and full body) as the Bundle's, no more, no fewer."""
    registered = registered_bodies(monitor)
    wanted = {identity(r): r.body for r in expected}
    assert set(registered) == set(wanted)
    for key, body in wanted.items():
        assert registered[key] == body, f"{key} differs from the Bundle"
