"""The repository tree: paths, kustomizations, ownership manifests, determinism."""

from __future__ import annotations

import posixpath

import pytest
import yaml

from goldenpath.errors import Conflict
from goldenpath.gitops import layout, ownership, tree
from goldenpath.render import render
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM


def _files() -> dict[str, bytes]:
    spec = load_platform(EXAMPLE_PLATFORM)
    return layout.repository_files(spec, render(spec))


def test_tree_has_the_documented_layout() -> None:
    files = _files()
    for path in ("README.md", "clusters/prod/bootstrap.yaml",
                 "clusters/prod/projects/appproject-platform.yaml",
                 "clusters/prod/projects/appproject-payments.yaml",
                 "clusters/nonprod/applications/application-payments-dev-tenancy.yaml",
                 "tenants/payments/dev/namespace-payments-dev.yaml",
                 "tenants/payments/_apps/application-payments.ledger.prod.yaml",
                 ".goldenpath/owned/team-payments.txt"):
        assert path in files, path
    assert all(content.endswith(b"\n") and not content.endswith(b"\n\n")
               for content in files.values())


def test_every_manifest_directory_has_a_kustomization_listing_its_files() -> None:
    files = _files()
    manifests = [p for p in files if p.startswith(("clusters/", "tenants/"))
                 and not p.endswith(layout.KUSTOMIZATION)]
    for directory in {posixpath.dirname(p) for p in manifests}:
        kustomization = yaml.safe_load(files[f"{directory}/{layout.KUSTOMIZATION}"])
        listed = set(kustomization["resources"])
        here = {posixpath.basename(p) for p in manifests if posixpath.dirname(p) == directory}
        assert here <= listed, directory
    root = yaml.safe_load(files["clusters/prod/kustomization.yaml"])
    assert root["resources"] == ["applications", "bootstrap.yaml", "platform", "projects"]


def test_ownership_manifests_record_every_file_with_its_blob_id() -> None:
    files = _files()
    owned: dict[str, str] = {}
    for path, content in files.items():
        if ownership.unit_of_manifest(path):
            owned.update(ownership.parse_manifest(content).blobs)
    unrecorded = {p for p in files if not p.startswith(ownership.OWNED_DIR)} - set(owned)
    assert unrecorded == set()
    assert all(ownership.blob_id(files[p]) == blob for p, blob in owned.items())


def test_rendering_twice_is_byte_identical() -> None:
    assert _files() == _files()


# --- two units never share a file -------------------------------------------------------

P = "tenants/a/dev/configmap-x.yaml"


def _state(files: dict[str, bytes]) -> ownership.UnitState:
    return ownership.UnitState.of("fp", files)


def test_two_changed_units_writing_one_path_are_refused() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    units = {"team-a": _state({P: b"a: 1\n"}), "team-b": _state({P: b"b: 1\n"})}
    with pytest.raises(Conflict) as info:
        tree.changes(spec, tree.BaseTree.empty(), units)
    assert str(info.value) == (f"{P} is written by both team-a and team-b; two units may "
                               "never share a file, nothing was written")


@pytest.mark.parametrize("content", [b"a: 1\n", b"b: 1\n"])
def test_a_unit_taking_a_path_another_unit_keeps_is_refused(content: bytes) -> None:
    # Only team-b was rendered (an incremental apply); team-a is kept as the base has it.
    # Same bytes included: the file would then silently be recorded by both units.
    spec = load_platform(EXAMPLE_PLATFORM)
    kept = _state({P: b"a: 1\n"})
    base = tree.BaseTree.of({P: kept.blobs[P]}, {"team-a": kept})
    with pytest.raises(Conflict) as info:
        tree.changes(spec, base, {"team-a": kept, "team-b": _state({P: content})})
    assert str(info.value) == (f"{P} is written by both team-a and team-b; two units may "
                               "never share a file, nothing was written")


def test_a_path_given_up_in_the_same_change_may_change_units() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    old = _state({P: b"a: 1\n"})
    base = tree.BaseTree.of({P: old.blobs[P]}, {"team-a": old})
    result = tree.changes(spec, base, {"team-a": _state({}), "team-b": _state({P: b"b: 1\n"})})
    assert result.writes[P] == b"b: 1\n" and result.unit_of_path[P] == "team-b"


def test_an_object_file_never_replaces_a_layout_file() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    kustomization = f"tenants/a/dev/{layout.KUSTOMIZATION}"
    units = {"team-a": _state({P: b"a: 1\n", kustomization: b"resources: []\n"})}
    with pytest.raises(Conflict) as info:
        tree.changes(spec, tree.BaseTree.empty(), units)
    assert str(info.value) == (f"{kustomization} is written by both team-a and layout; two "
                               "units may never share a file, nothing was written")


def test_the_repository_readme_says_which_argo_cd_rbac_settings_it_relies_on() -> None:
    readme = _files()["README.md"].decode()
    for needed in ("`policy.default`", "`scopes`", "`[groups, email]`", "`serviceaccount:`",
                   "nothing in Argo CD", "namespace `argocd`"):
        assert needed in readme, needed
