"""The test-side Pod Security checks can fail: they catch what they claim to."""

from __future__ import annotations

import copy
from typing import Any

import pytest

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
