"""Structure of what the program registers: parents, provider, ordering, protection, outputs.

Expectations are derived from the Bundle of the example platform; the component a
concern belongs to is the contract of issue 6 (``helpers.COMPONENT_OF_CONCERN``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from goldenpath.render import Bundle
from goldenpath.services.platform import load_and_check
from goldenpath_stack.config import StackConfig
from goldenpath_stack.program import build
from tests.factories import EXAMPLE_PLATFORM
from tests.stacks.conftest import RecordingMonitor
from tests.stacks.helpers import by_identity, expected_parent, identity, settled

CLUSTERS = ["nonprod", "prod"]


def _example(cluster: str) -> Bundle:
    return load_and_check(EXAMPLE_PLATFORM).bundle.for_cluster(cluster)


def _build(cluster: str, **config: Any) -> Any:
    return build(StackConfig(platform_dir=EXAMPLE_PLATFORM, cluster=cluster, **config))


@pytest.mark.parametrize("cluster", CLUSTERS)
@pulumi.runtime.test
def test_every_object_has_its_component_as_parent(monitor: RecordingMonitor,
                                                  cluster: str) -> Any:
    def check(_: object) -> None:
        registered = by_identity(monitor)
        for resource in _example(cluster):
            parent = monitor.registrations[registered[identity(resource)].parent]
            assert (parent.type, parent.name) == expected_parent(resource), resource.ref

    return settled(_build(cluster)).apply(check)


@pytest.mark.parametrize("cluster", CLUSTERS)
@pulumi.runtime.test
def test_components_are_top_level_and_one_per_team_and_part(monitor: RecordingMonitor,
                                                            cluster: str) -> Any:
    def check(_: object) -> None:
        components = monitor.of_type("goldenpath:")
        expected = {expected_parent(r) for r in _example(cluster)}
        assert sorted((c.type, c.name) for c in components) == sorted(expected)
        assert all(not c.custom and c.parent.endswith("pulumi:pulumi:Stack::goldenpath-test")
                   for c in components)

    return settled(_build(cluster)).apply(check)


@pulumi.runtime.test
def test_every_object_uses_the_stacks_explicit_provider(monitor: RecordingMonitor) -> Any:
    stack = _build("nonprod", kube_context="nonprod-admin", kubeconfig="/etc/kube/config")

    def check(values: list[Any]) -> None:
        provider_urn, provider_id = values[0], values[1]
        provider = monitor.registrations[provider_urn]
        assert provider.type == "pulumi:providers:kubernetes"
        assert provider.inputs["context"] == "nonprod-admin"
        assert provider.inputs["kubeconfig"] == "/etc/kube/config"
        objects = monitor.kubernetes_objects()
        assert objects
        assert {o.provider for o in objects} == {f"{provider_urn}::{provider_id}"}

    return pulumi.Output.all(stack.provider.urn, stack.provider.id, settled(stack)).apply(check)


@pytest.mark.parametrize("cluster", CLUSTERS)
@pulumi.runtime.test
def test_namespaced_objects_depend_on_their_namespace(monitor: RecordingMonitor,
                                                      cluster: str) -> Any:
    def check(_: object) -> None:
        registered = by_identity(monitor)
        namespaces = {r.name: registered[identity(r)].urn
                      for r in _example(cluster) if r.kind == "Namespace"}
        assert namespaces
        checked = 0
        for resource in _example(cluster):
            ns_urn = namespaces.get(resource.namespace or "")
            if ns_urn is not None:
                assert ns_urn in registered[identity(resource)].dependencies, resource.ref
                checked += 1
        assert checked > len(namespaces)

    return settled(_build(cluster)).apply(check)


@pytest.mark.parametrize(
    ("cluster", "protected", "expect_protected"),
    [("prod", None, True), ("nonprod", None, False), ("nonprod", ["staging"], True)],
)
@pulumi.runtime.test
def test_production_namespaces_are_protected(monitor: RecordingMonitor, cluster: str,
                                             protected: list[str] | None,
                                             expect_protected: bool) -> Any:
    config = {} if protected is None else {"protected_environments": frozenset(protected)}
    environments = frozenset(protected or ["prod"])

    def check(_: object) -> None:
        registered = by_identity(monitor)
        got = {r.name: registered[identity(r)].protect for r in _example(cluster)
               if r.kind == "Namespace"}
        want = {r.name: r.coords.environment in environments for r in _example(cluster)
                if r.kind == "Namespace"}
        assert got == want
        assert any(got.values()) is expect_protected
        namespace_type = "kubernetes:core/v1:Namespace"
        others = [o for o in monitor.kubernetes_objects() if o.type != namespace_type]
        assert not any(o.protect for o in others)

    return settled(_build(cluster, **config)).apply(check)


@pulumi.runtime.test
def test_outputs_per_team_namespaces_and_counts(monitor: RecordingMonitor) -> Any:
    bundle = _example("prod")
    stack = _build("prod")
    teams = sorted({r.coords.team for r in bundle if r.coords.team is not None})
    assert sorted(stack.outputs["teams"]) == teams
    for team in teams:
        mine = [r for r in bundle if r.coords.team == team]
        summary = stack.outputs["teams"][team]
        assert summary["namespaces"] == sorted(r.name for r in mine if r.kind == "Namespace")
        assert summary["objectCount"] == len(mine)
        assert sum(summary["objectCounts"].values()) == len(mine)
    platform = stack.outputs["platform"]
    assert platform["objectCount"] == sum(1 for r in bundle if r.coords.team is None)
    assert stack.outputs["cluster"] == "prod"
    return settled(stack)
