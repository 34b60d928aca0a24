"""The rendered control repository as Argo CD reads it: every directory of ``goldenpath
render --out`` (the example platform) with a kustomization.yaml builds with the real
``kubectl kustomize`` and yields exactly the Bundle's objects for that directory.

A cluster directory chains its subdirectories (its root Application syncs it whole), so
it yields every object under it; a tenant directory yields the objects in it. The cluster
roots and the tenant directories together yield each object of the Bundle exactly once.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.gitops.layout import KUSTOMIZATION
from goldenpath.render import render
from goldenpath.render.paths import path_for
from goldenpath.spec import load_platform
from tests.factories import EXAMPLE_PLATFORM
from tests.kustomize import kustomize

Key = tuple[str, str, str, str]


def _key(obj: dict[str, Any]) -> Key:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "repo"
    result = CliRunner().invoke(app, ["render", "--platform", str(EXAMPLE_PLATFORM),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _bundle_by_path() -> dict[str, dict[str, Any]]:
    spec = load_platform(EXAMPLE_PLATFORM)
    return {path_for(resource): resource.body for resource in render(spec)}


def _expected(directory: str, objects: dict[str, dict[str, Any]]) -> dict[Key, Any]:
    if directory.startswith("clusters/"):
        inside = [p for p in objects if p.startswith(f"{directory}/")]
    else:
        inside = [p for p in objects if posixpath.dirname(p) == directory]
    return {_key(objects[p]): objects[p] for p in inside}


def test_every_kustomization_builds_to_exactly_its_bundle_objects(rendered: Path) -> None:
    objects = _bundle_by_path()
    directories = sorted(p.parent.relative_to(rendered).as_posix()
                         for p in rendered.rglob(KUSTOMIZATION))
    assert any(d.startswith("tenants/") for d in directories)
    assert any(d.startswith("clusters/") for d in directories)
    for directory in directories:
        built = kustomize(rendered / directory)
        keys = [_key(obj) for obj in built]
        assert len(keys) == len(set(keys)), directory
        assert {_key(o): o for o in built} == _expected(directory, objects), directory


def test_cluster_roots_and_tenant_directories_cover_the_bundle_once(rendered: Path) -> None:
    objects = _bundle_by_path()
    roots = [p.parent for p in rendered.glob(f"clusters/*/{KUSTOMIZATION}")]
    roots += [p.parent for p in rendered.glob(f"tenants/*/*/{KUSTOMIZATION}")]
    # A multiset: cluster-scoped objects (tenant ClusterRoles) exist once per cluster.
    seen = Counter(_key(obj) for root in roots for obj in kustomize(root))
    assert seen == Counter(_key(body) for body in objects.values())
