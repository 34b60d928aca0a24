"""Observability objects are valid: custom resources against the upstream CRDs, ConfigMaps
against the Kubernetes schema; rendering is deterministic."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from goldenpath.render import Bundle, Resource, render
from goldenpath.spec import PlatformSpec
from tests.crds import assert_valid_custom_resource, crd_errors
from tests.render.observability.helpers import observability

CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"}
SAMPLE_TEAMS = 5


def test_renders_every_kind(bundle: Bundle) -> None:
    kinds = {r.kind for r in observability(bundle)}
    assert kinds == {*CUSTOM_KINDS, "ConfigMap"}


def _sample(bundle: Bundle, spec: PlatformSpec) -> list[Resource]:
    """Every object of the first teams (the rest differ only in names) plus platform ones:
    schema validation is slow and the generated platform has thousands of objects."""
    teams = {t.name for t in spec.teams[:SAMPLE_TEAMS]}
    return [r for r in observability(bundle) if r.coords.team in teams or r.coords.team is None]


def test_custom_resources_pass_their_crd(bundle: Bundle, spec: PlatformSpec) -> None:
    for resource in _sample(bundle, spec):
        if resource.kind in CUSTOM_KINDS:
            assert_valid_custom_resource(resource.body)


def test_crd_check_catches_a_misspelt_field(bundle: Bundle) -> None:
    monitor = copy.deepcopy(bundle.of_kind("ServiceMonitor")[0].body)
    monitor["spec"]["endpoints"][0]["portName"] = monitor["spec"]["endpoints"][0].pop("port")
    assert crd_errors(monitor)


def test_configmaps_pass_the_kubernetes_schema(bundle: Bundle, spec: PlatformSpec) -> None:
    version = spec.platform.spec.kubernetes_version
    for resource in _sample(bundle, spec):
        if resource.kind == "ConfigMap":
            kubernetes_validate.validate(resource.body, version, strict=True)


def test_kubernetes_schema_check_catches_a_bad_configmap(bundle: Bundle) -> None:
    body = copy.deepcopy(next(r for r in observability(bundle) if r.kind == "ConfigMap").body)
    body["data"]["x.json"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, "1.31", strict=True)


def test_rendering_is_deterministic(example_spec: PlatformSpec) -> None:
    assert [r.body for r in render(example_spec)] == [r.body for r in render(example_spec)]


def test_every_object_is_tagged_and_placed(bundle: Bundle, spec: PlatformSpec) -> None:
    for resource in observability(bundle):
        c = resource.coords
        assert c.cluster in spec.clusters
        if c.environment is not None:
            assert spec.cluster_of[c.environment].name == c.cluster


def test_object_keys_are_unique(bundle: Bundle) -> None:
    keys = [r.key for r in observability(bundle)]
    assert len(keys) == len(set(keys))
