"""The test-side kustomize and Pod Security checks can fail: they catch what they claim to."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.templates.kustomize import Unsupported, build, merge
from tests.templates.psa import restricted_violations

GOOD_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "app", "image": "x:1", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def test_a_good_pod_passes() -> None:
    assert restricted_violations(GOOD_POD) == []


@pytest.mark.parametrize(("path", "value", "rule"), [
    (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
    (("securityContext", "seccompProfile", "type"), "Unconfined", "seccompProfile"),
    (("hostNetwork",), True, "hostNetwork"),
    (("volumes",), [{"name": "h", "hostPath": {"path": "/"}}], "hostPath"),
])
def test_pod_level_breaches_are_caught(path: tuple[str, ...], value: Any, rule: str) -> None:
    pod = copy.deepcopy(GOOD_POD)
    target = pod
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(rule in v for v in restricted_violations(pod))


@pytest.mark.parametrize(("change", "rule"), [
    ({"allowPrivilegeEscalation": True}, "allowPrivilegeEscalation"),
    ({"capabilities": {"drop": ["NET_RAW"]}}, "drop ALL"),
    ({"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}, "NET_BIND_SERVICE"),
    ({"privileged": True}, "privileged"),
    ({"runAsUser": 0}, "runAsUser"),
])
def test_container_breaches_are_caught(change: dict[str, Any], rule: str) -> None:
    pod = copy.deepcopy(GOOD_POD)
    pod["containers"][0]["securityContext"].update(change)
    assert any(rule in v for v in restricted_violations(pod))


def _write(root: Path, files: dict[str, Any]) -> None:
    for name, doc in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(yaml.safe_dump(doc))


def test_overlay_composition(tmp_path: Path) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"replicas": 1, "template": {"spec": {"containers": [
                      {"name": "app", "image": "r/d:1", "resources": {"limits": {"cpu": "1"}}},
                      {"name": "side", "image": "s:1"}]}}}}
    _write(tmp_path, {
        "base/kustomization.yaml": {"resources": ["d.yaml"]},
        "base/d.yaml": deployment,
        "o/kustomization.yaml": {"resources": ["../base"], "namespace": "ns",
                                 "images": [{"name": "r/d", "newTag": "2"}],
                                 "replicas": [{"name": "d", "count": 4}],
                                 "patches": [{"path": "p.yaml"}]},
        "o/p.yaml": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                     "spec": {"template": {"spec": {"containers": [
                         {"name": "app", "resources": {"requests": {"cpu": "2"}}}]}}}},
    })
    (obj,) = build(tmp_path / "o")
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert obj["metadata"]["namespace"] == "ns" and obj["spec"]["replicas"] == 4
    assert containers[0] == {"name": "app", "image": "r/d:2",
                             "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}}
    assert containers[1]["image"] == "s:1"


def test_unmodelled_kustomize_features_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"kustomization.yaml": {"commonLabels": {"a": "b"}}})
    with pytest.raises(Unsupported):
        build(tmp_path)


def test_lists_without_names_replace() -> None:
    target = {"args": ["a", "b"]}
    merge(target, {"args": ["c"]})
    assert target == {"args": ["c"]}
