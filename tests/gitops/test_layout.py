"""The repository tree: paths, kustomizations, ownership manifests, determinism."""

from __future__ import annotations

import posixpath

import yaml

from goldenpath.gitops import layout, ownership
from goldenpath.render import render
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM


def _files() -> dict[str, bytes]:
    spec = load_platform(EXAMPLE_PLATFORM)
    return layout.repository_files(spec, render(spec))


def test_tree_has_the_documented_layout() -> None:
    files = _files()
    for path in ("README.md", "clusters/prod/bootstrap.yaml",
                 "clusters/prod/projects/platform.yaml", "clusters/prod/projects/payments.yaml",
                 "clusters/nonprod/applications/payments-dev-tenancy.yaml",
                 "tenants/payments/dev/namespace-payments-dev.yaml",
                 "tenants/payments/apps/ledger-prod.yaml", ".goldenpath/owned/team-payments.txt"):
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


def test_the_repository_readme_says_which_argo_cd_rbac_settings_it_relies_on() -> None:
    readme = _files()["README.md"].decode()
    for needed in ("`policy.default`", "`scopes`", "`[groups, email]`", "`serviceaccount:`",
                   "nothing in Argo CD", "namespace `argocd`"):
        assert needed in readme, needed
