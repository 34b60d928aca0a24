"""The schema guardrail's two validators (goldenpath.policy.schema): the compiled one
decides "valid?", python-jsonschema words the errors. They must agree on every object,
or the fast path would pass what the guardrail refuses: checked here on every built-in
object of the example platform and on thousands of broken variants of them (an unknown
field, a value of the wrong type, a field removed, at every place in the object)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from goldenpath.policy import schema
from goldenpath.render import render
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM

VERSION = "1.31"
Path = tuple[Any, ...]


@pytest.fixture(scope="module")
def bodies() -> list[dict[str, Any]]:
    bundle = render(load_platform(EXAMPLE_PLATFORM))
    found = [r.body for r in bundle
             if r.api_version.rpartition("/")[0] not in schema.CUSTOM_GROUPS]
    # one object of each kind and shape is enough for the variants: the rest repeat them
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for body in found:
        seen.setdefault((body["kind"], len(str(body)) // 400), body)
    return list(seen.values())


def _places(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _places(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _places(inner, (*path, i))


def _set(body: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def _without(body: dict[str, Any], path: Path) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copied


_WRONG = {str: [7, True, ["x"]], int: ["7", 7.5, None], bool: ["true", 1],
          list: ["x", {"a": 1}], dict: ["x", [1]], type(None): [{"a": 1}]}


def _variants(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path, value in _places(body):
        if isinstance(value, dict):
            yield _set(body, (*path, "colour"), "red") if path else {**body, "colour": "red"}
        if not path:
            continue
        for wrong in _WRONG.get(type(value), []):
            yield _set(body, path, wrong)
        if isinstance(path[-1], str):
            yield _without(body, path)


def _agree(body: dict[str, Any], of: dict[str, Any] | None = None) -> tuple[bool, bool]:
    """(compiled, python) verdicts on ``body`` against the schema of ``of``'s kind."""
    of = body if of is None else of
    kind = schema._validator(VERSION, of["apiVersion"], of["kind"])
    assert kind is not None
    return kind._fast.is_valid(body), not any(kind._python.iter_errors(body))


def test_both_validators_pass_every_object_of_the_example(bodies: list[dict[str, Any]]) -> None:
    assert {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount",
            "RoleBinding", "ConfigMap"} <= {b["kind"] for b in bodies}
    assert all(_agree(body) == (True, True) for body in bodies)


def test_both_validators_agree_on_every_broken_variant(bodies: list[dict[str, Any]]) -> None:
    checked = refused = 0
    for body in bodies:
        for variant in _variants(body):
            fast, python = _agree(variant, body)
            assert fast == python, variant
            checked += 1
            refused += not python
    assert checked > 1000 and refused > checked // 2  # the variants do break objects


def test_the_errors_are_python_jsonschema_s_words() -> None:
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
           "data": {"k": 1}, "colour": "red"}
    assert schema.schema_errors(bad, VERSION) == [
        "data.k: 1 is not of type 'string', 'null'",
        "<root>: Additional properties are not allowed ('colour' was unexpected)",
    ]


def test_a_value_the_compiled_validator_cannot_take_is_decided_by_python() -> None:
    huge = {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "x"}, "spec": {"hard": {"pods": 2 ** 80}}}
    assert schema.schema_errors(huge, VERSION) == []
    huge["metadata"]["generation"] = "1"
    assert schema.schema_errors(huge, VERSION) == [
        "metadata.generation: '1' is not of type 'integer', 'null'"]
