"""Rendering is a pure function: same spec in, byte-identical files out, whatever the
order or formatting of the spec files; and every built-in object is schema-valid."""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from goldenpath.gitops.layout import repository_files
from goldenpath.policy.schema import CUSTOM_GROUPS, schema_errors
from goldenpath.render import Bundle, render
from goldenpath.services import platform as service
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM, generated_platform

VERSION = "1.31"


def _files(directory: Path) -> dict[str, bytes]:
    spec = load_platform(directory)
    return repository_files(spec, render(spec))


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _copy_teams(source: Path, target: Path, order: list[Path], restyle: bool) -> None:
    (target / "teams").mkdir(parents=True)
    (target / "platform.yaml").write_bytes((source / "platform.yaml").read_bytes())
    for path in order:
        text = path.read_text()
        if restyle:
            # same document, different key order and style
            doc = yaml.safe_load(text)
            text = yaml.safe_dump(doc, sort_keys=True, default_flow_style=True)
        (target / "teams" / path.name).write_text(text)


def test_rendering_twice_is_byte_identical() -> None:
    assert _files(EXAMPLE_PLATFORM) == _files(EXAMPLE_PLATFORM)


def test_same_spec_object_renders_identically() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    first, second = render(spec), render(spec)
    assert first == second
    assert repository_files(spec, first) == repository_files(spec, second)


def test_team_file_order_and_formatting_change_nothing(tmp_path: Path) -> None:
    source = generated_platform(tmp_path / "source", teams=6, services=2)
    teams = sorted((source / "teams").glob("*.yaml"))
    shuffled = list(teams)
    random.Random(7).shuffle(shuffled)
    assert shuffled != teams
    _copy_teams(source, tmp_path / "a", teams, restyle=False)
    _copy_teams(source, tmp_path / "b", list(reversed(shuffled)), restyle=True)
    assert (tmp_path / "a" / "teams" / teams[0].name).read_bytes() != (
        tmp_path / "b" / "teams" / teams[0].name).read_bytes()

    written = []
    for name in ("a", "b"):
        checked = service.load_and_check(tmp_path / name)
        service.write_tree(checked, tmp_path / f"out-{name}")
        written.append(_without_specs(_tree(tmp_path / f"out-{name}")))
    assert written[0] == written[1]
    assert len(written[0]) > 6 * 3 * 5


def _without_specs(tree: dict[str, bytes]) -> dict[str, bytes]:
    """The tree but for the spec files, which the control repository holds byte for
    byte as written (formatting included), and their lines in the ownership manifests."""
    return {path: b"".join(line for line in content.splitlines(keepends=True)
                           if b" platform/" not in line)
            if path.startswith(".goldenpath/owned/") else content
            for path, content in tree.items() if not path.startswith("platform/")}


def test_output_files_are_normalised() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    bundle = render(spec)
    files = repository_files(spec, bundle)
    assert list(files) == sorted(files)
    for content in files.values():
        assert content.endswith(b"\n") and not content.endswith(b"\n\n")
    # every object is written as it is in the Bundle
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    written = {json.dumps(yaml.load(c, Loader=loader), sort_keys=True)
               for path, c in files.items() if path.endswith(".yaml")}
    assert {json.dumps(r.body, sort_keys=True) for r in bundle} <= written


def test_bundle_order_does_not_depend_on_renderer_output_order() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    bundle = render(spec)
    resources = list(bundle)
    random.Random(3).shuffle(resources)
    assert Bundle.of(resources) == bundle


# --- schemas ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> tuple[PlatformSpec, Bundle]:
    spec = load_platform(EXAMPLE_PLATFORM)
    return spec, render(spec)


def _built_in(bundle: Bundle) -> list[dict[str, Any]]:
    return [r.body for r in bundle if r.api_version.rpartition("/")[0] not in CUSTOM_GROUPS]


def test_every_built_in_object_passes_strict_schema_validation(
    example: tuple[PlatformSpec, Bundle],
) -> None:
    _, bundle = example
    bodies = _built_in(bundle)
    kinds = {body["kind"] for body in bodies}
    assert {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount",
            "ClusterRole", "RoleBinding"} <= kinds
    for body in bodies:
        kubernetes_validate.validate(body, VERSION, strict=True)
        assert schema_errors(body, VERSION) == []


def _broken_namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "colour": "red"}


def _broken_quota() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": "x"},
            "spec": {"hard": {"pods": ["10"]}}}


def _broken_labels() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "a", "namespace": "x", "labels": {"team": 7}}}


def _broken_binding() -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "x"}, "subjects": []}


def _broken_policy() -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "x"},
            "spec": {"podSelector": {}, "policyTypes": "Ingress"}}


def _broken_automount() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"},
            "automountServiceAccountToken": "false"}


@pytest.mark.parametrize(
    ("body", "where"),
    [(_broken_namespace(), "<root>"), (_broken_quota(), "spec.hard.pods"),
     (_broken_labels(), "metadata.labels.team"), (_broken_binding(), "<root>"),
     (_broken_policy(), "spec.policyTypes"),
     (_broken_automount(), "automountServiceAccountToken")],
    ids=["unknown-field", "quota-list", "label-int", "missing-roleRef", "policyTypes-string",
         "bool-as-string"],
)
def test_schema_errors_agrees_with_kubernetes_validate(body: dict[str, Any], where: str) -> None:
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, VERSION, strict=True)
    errors = schema_errors(body, VERSION)
    assert errors, body
    assert any(error.startswith(f"{where}: ") for error in errors), errors


def test_schema_errors_for_an_unknown_kind_is_none() -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert schema_errors(body, VERSION) is None


def test_render_restores_the_garbage_collector_state() -> None:
    """render pauses the cyclic collector for speed and must hand it back as it found it."""
    spec = load_platform(EXAMPLE_PLATFORM)
    assert gc.isenabled()
    render(spec)
    assert gc.isenabled()
    gc.disable()
    try:
        render(spec)
        assert not gc.isenabled()
    finally:
        gc.enable()
