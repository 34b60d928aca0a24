"""Grouping a cluster's objects into components, and declaring them across components.

A small hand-made Bundle keeps these independent of what the renderers emit today: an
observability object in a team namespace must wait for the Namespace another component
(TeamTenancy) creates, and an object in a namespace nobody here creates waits for nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from goldenpath.errors import GoldenpathError
from goldenpath.render import Bundle, Coordinates, Resource
from goldenpath_stack.config import StackConfig
from goldenpath_stack.plan import UnmappedConcern, plan
from goldenpath_stack.program import provision
from tests.factories import EXAMPLE_PLATFORM
from tests.stacks.conftest import RecordingMonitor
from tests.stacks.helpers import assert_parity, by_identity, identity, settled


def _obj(api_version: str, kind: str, name: str, namespace: str | None = None,
         **fields: Any) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


def _bundle() -> Bundle:
    team = Coordinates("c1", "ada", "prod")
    return Bundle.of([
        Resource(team, _obj("monitoring.coreos.com/v1", "ServiceMonitor", "api", "ada-prod",
                            spec={"selector": {}}), "observability"),
        Resource(team, _obj("v1", "Namespace", "ada-prod"), "tenancy"),
        Resource(team, _obj("argoproj.io/v1alpha1", "AppProject", "ada", "argocd",
                            spec={"sourceRepos": []}), "argocd"),
        Resource(Coordinates("c1"), _obj("v1", "ConfigMap", "index", "monitoring",
                                         data={"a": "b"}), "observability"),
    ])


def test_plan_groups_by_team_and_part_namespace_holders_first() -> None:
    plans = plan(_bundle())
    assert [(p.part, p.team) for p in plans] == [
        ("tenancy", "ada"), ("cluster", None), ("delivery", "ada"), ("observability", "ada"),
    ]
    assert sum(len(p.objects) for p in plans) == len(_bundle())


def test_a_concern_without_a_component_is_an_error_not_a_silent_drop() -> None:
    stray = Resource(Coordinates("c1", "ada", "dev"), _obj("v1", "Secret", "s", "ada-dev"),
                     "secrets")
    with pytest.raises(UnmappedConcern, match="concern 'secrets' has no Pulumi component"):
        plan([stray])


def test_an_order_that_would_break_a_namespace_dependency_is_refused() -> None:
    # Two components creating namespaces, the first using the second's: no valid order.
    platform_ns = Resource(Coordinates("c1"), _obj("v1", "Namespace", "aaa-shared"), "tenancy")
    uses_team_ns = Resource(Coordinates("c1"), _obj("v1", "ConfigMap", "x", "ada-prod"),
                            "observability")
    with pytest.raises(GoldenpathError, match="created by a later component"):
        plan([*_bundle(), platform_ns, uses_team_ns])


@pulumi.runtime.test
def test_objects_wait_for_namespaces_created_by_another_component(
    monitor: RecordingMonitor,
) -> Any:
    bundle = _bundle()
    stack = provision(plan(bundle), StackConfig(platform_dir=EXAMPLE_PLATFORM, cluster="c1"))

    def check(_: object) -> None:
        assert_parity(monitor, bundle)
        found = by_identity(monitor)
        registered = {r.kind: found[identity(r)] for r in bundle}
        namespace = registered["Namespace"]
        assert namespace.protect
        assert namespace.urn in registered["ServiceMonitor"].dependencies
        assert registered["AppProject"].dependencies == ()
        assert registered["ConfigMap"].dependencies == ()
        parents = {kind: monitor.registrations[r.parent].type for kind, r in registered.items()}
        assert parents == {
            "Namespace": "goldenpath:tenancy:TeamTenancy",
            "ServiceMonitor": "goldenpath:observability:TeamObservability",
            "AppProject": "goldenpath:delivery:TeamDelivery",
            "ConfigMap": "goldenpath:cluster:ClusterPlatform",
        }

    return settled(stack).apply(check)
