"""Names that collide in the output: two valid specs whose names, joined naively, would
give two teams or services the same Argo CD Application, the same role grant or the same
file. Each attack loads as a valid platform; the layout and the names keep them apart by
construction (see ``goldenpath/render/paths.py``), so every object gets its own identity
and its own file, and no object's file is one the layout writes itself."""

from __future__ import annotations

import fnmatch
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.gitops import layout, ownership
from goldenpath.render import Bundle, render
from goldenpath.render import paths as repo_paths
from goldenpath.render.argocd import service_app_name
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform


def _load(root: Path, teams: list[dict[str, Any]], **platform: Any) -> tuple[PlatformSpec, Bundle]:
    spec = load_platform(write_platform(root, platform_doc(**platform), teams))
    return spec, render(spec)


def _service(name: str) -> dict[str, Any]:
    return {"name": name, "template": "python-service"}


def _apps(bundle: Bundle) -> dict[str, str]:
    """Service Application name -> (team) of the project it is in."""
    return {r.name: r.body["spec"]["project"] for r in bundle.of_kind("Application")
            if r.coords.service is not None}


def _assert_collision_free(spec: PlatformSpec, bundle: Bundle) -> dict[str, bytes]:
    """Every object has its own identity and file; nothing overwrites anything."""
    identities = Counter((r.coords.cluster, r.api_version.partition("/")[0] if "/" in
                          r.api_version else "", r.kind, r.namespace, r.name) for r in bundle)
    assert [key for key, n in identities.items() if n > 1] == []
    written = list(layout.iter_repository_files(spec, bundle))
    assert [p for p, n in Counter(p for p, _ in written).items() if n > 1] == []
    files = dict(written)
    object_paths = {repo_paths.path_for(r) for r in bundle}
    assert len(object_paths) == len(bundle)
    layout_files = {p for p in files if p == layout.README or p.endswith("/kustomization.yaml")
                    or p.startswith(ownership.OWNED_DIR + "/")}
    assert object_paths & layout_files == set()
    assert policy.check(spec, bundle).passed
    return files


def test_team_and_service_joined_by_a_dash_no_longer_share_an_application(
        tmp_path: Path) -> None:
    # a + b-c and a-b + c both made "a-b-c-<env>": one team's Application took the other's.
    teams = [team_doc("a", services=[_service("b-c")]), team_doc("a-b", services=[_service("c")])]
    spec, bundle = _load(tmp_path, teams)
    apps = _apps(bundle)
    assert {name: apps[name] for name in ("a.b-c.dev", "a-b.c.dev", "a.b-c.prod", "a-b.c.prod")} \
        == {"a.b-c.dev": "a", "a-b.c.dev": "a-b", "a.b-c.prod": "a", "a-b.c.prod": "a-b"}
    assert len(apps) == 6
    files = _assert_collision_free(spec, bundle)
    assert "tenants/a/_apps/application-a.b-c.dev.yaml" in files
    assert "tenants/a-b/_apps/application-a-b.c.dev.yaml" in files


def _dashed_platform() -> dict[str, Any]:
    envs = [{"name": "prod", "access": {"owners": "view", "members": "view", "viewers": "none"}},
            {"name": "eu-prod", "access": {"owners": "edit", "members": "edit",
                                           "viewers": "view"}}]
    clusters = [{"name": "prod", "server": "https://prod.example.com",
                 "environments": ["prod", "eu-prod"]}]
    return {"environments": envs, "clusters": clusters}


def test_service_and_environment_joined_by_a_dash_no_longer_collide(tmp_path: Path) -> None:
    # "api-eu" in prod and "api" in eu-prod both made t-api-eu-prod and api-eu-prod.yaml.
    team = team_doc("t", environments=["prod", "eu-prod"],
                    services=[_service("api-eu"), _service("api")])
    spec, bundle = _load(tmp_path, [team], **_dashed_platform())
    assert sorted(_apps(bundle)) == ["t.api-eu.eu-prod", "t.api-eu.prod", "t.api.eu-prod",
                                     "t.api.prod"]
    _assert_collision_free(spec, bundle)


def test_a_role_grant_of_one_environment_reaches_no_other(tmp_path: Path) -> None:
    # "t/t-*-prod" also matched "t-api-eu-prod": the prod grants (view) applied to eu-prod
    # apps, and the eu-prod edit grants could never be told apart by their glob.
    team = team_doc("t", environments=["prod", "eu-prod"], services=[_service("api")])
    _, bundle = _load(tmp_path, [team], **_dashed_platform())
    project = next(r for r in bundle.of_kind("AppProject") if r.name == "t")
    apps = sorted(_apps(bundle))
    for role in project.body["spec"]["roles"]:
        for line in role["policies"]:
            obj = line.split(", ")[4].partition("/")[2]
            env = obj.rpartition(".")[2]
            # Argo CD's RBAC glob: '*' matches any run of characters, '.' included.
            matched = [a for a in apps if fnmatch.fnmatchcase(a, obj)]
            assert matched == [f"t.api.{env}"], line


@pytest.mark.parametrize("team", ["kustomization", "bootstrap", "projects", "applications",
                                  "platform-x", "teams", "apps", "readme", "owned", "layout",
                                  "cluster-prod", "team-a"])
def test_a_team_named_like_a_layout_file_gets_files_of_its_own(tmp_path: Path,
                                                               team: str) -> None:
    # A team "kustomization" wrote its AppProject to clusters/<c>/projects/kustomization.yaml,
    # the file the layout writes there: one overwrote the other and the root kustomization
    # of every cluster listed itself.
    spec, bundle = _load(tmp_path, [team_doc(team), team_doc("a")])
    files = _assert_collision_free(spec, bundle)
    assert f"clusters/prod/projects/appproject-{team}.yaml" in files
    projects = files["clusters/prod/projects/kustomization.yaml"].decode()
    assert "- kustomization.yaml" not in projects
    assert f"{ownership.OWNED_DIR}/{layout.team_unit(team)}.txt" in files


def test_an_environment_named_apps_keeps_its_directory(tmp_path: Path) -> None:
    # tenants/<team>/apps held both the service Applications and the tenancy objects of
    # environment "apps", and the tenancy Application synced the service Applications.
    clusters = [{"name": "nonprod", "server": "https://nonprod.example.com",
                 "environments": ["apps"]}]
    team = team_doc("t", environments=["apps"], services=[_service("api")])
    spec, bundle = _load(tmp_path, [team], environments=[{"name": "apps"}], clusters=clusters)
    files = _assert_collision_free(spec, bundle)
    tenancy = sorted(p for p in files if p.startswith("tenants/t/apps/"))
    assert tenancy and not any(p.startswith("tenants/t/apps/application-") for p in tenancy)
    assert "tenants/t/_apps/application-t.api.apps.yaml" in files


def test_names_are_unambiguous_by_construction() -> None:
    """Names are DNS labels ([a-z0-9-]): a join with '.' splits back into its parts, and
    the layout's own files and directories contain a character no name has."""
    assert repo_paths.APPS_DIR.startswith("_")
    names = {service_app_name(t, s, e) for t, s, e in
             [("a", "b-c", "dev"), ("a-b", "c", "dev"), ("a", "b", "c-dev"), ("a-b-c", "x", "y")]}
    assert len(names) == 4
    units = {layout.team_unit("cluster-x"), layout.cluster_unit("x"), layout.team_unit("layout"),
             layout.LAYOUT_UNIT, layout.cluster_unit("team-x"), layout.team_unit("x")}
    assert len(units) == 6
