"""Per-team rendering and input digests: a team's objects depend on its digest's inputs
and nothing else, and ``render_teams`` is exactly the matching part of ``render``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldenpath.render import render, render_teams
from goldenpath.render.bundle import Bundle
from goldenpath.render.digest import team_digests
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.fingerprint import code_fingerprint
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform


def _load(root: Path, teams: list[dict[str, Any]], **platform: Any) -> PlatformSpec:
    return load_platform(write_platform(root, platform_doc(**platform), teams))


def _team(bundle: Bundle, name: str) -> list[tuple[Any, Any]]:
    return [(r.coords, r.body) for r in bundle if r.coords.team == name]


def _alpha() -> dict[str, Any]:
    return team_doc("alpha", network={"allowFromTeams": ["beta"], "egressCIDRs": ["10.1.0.0/16"]})


def test_render_teams_is_the_matching_part_of_render() -> None:
    spec = load_platform(EXAMPLE_PLATFORM)
    full = render(spec)
    for names in ([], ["payments"], ["checkout", "storefront"]):
        part = render_teams(spec, names)
        assert part.resources == tuple(
            r for r in full if r.coords.team is None or r.coords.team in names)
    assert render_teams(spec, [t.name for t in spec.teams]).resources == full.resources


def test_a_team_depends_on_nothing_outside_its_digest(tmp_path: Path) -> None:
    """Every other team changed in every field alpha's objects do not read (all but the
    environments of alpha's peers and of the teams that list alpha, and whether they list
    it), a team added and one removed: the team's digest and objects stay the same."""
    before = _load(tmp_path / "a", [_alpha(), team_doc("beta", network={
        "allowFromTeams": ["alpha"]}), team_doc("gamma")])
    beta = team_doc("beta", displayName="B", costCenter="CC-9", owners=["user:x"], members=[],
                    viewers=[], quota={"cpu": "9"}, services=[],
                    network={"allowFromTeams": ["delta", "alpha"], "egressCIDRs": ["10.9.0.0/16"]})
    after = _load(tmp_path / "b", [_alpha(), beta, team_doc("delta", services=[])])
    assert team_digests(before)["alpha"] == team_digests(after)["alpha"]
    assert _team(render_teams(before, ["alpha"]), "alpha") == \
        _team(render_teams(after, ["alpha"]), "alpha")
    # and beta's listing does reach alpha's objects: the test above is not vacuous
    assert any(r.name == "allow-to-teams" for r in render_teams(after, ["alpha"]))


def test_each_input_changes_the_digest(tmp_path: Path) -> None:
    base = team_digests(_load(tmp_path / "a", [_alpha(), team_doc("beta")]))["alpha"]
    peer = _load(tmp_path / "b", [_alpha(), team_doc("beta", environments=["dev"], services=[])])
    own = _load(tmp_path / "c", [{**_alpha(), "spec": {**_alpha()["spec"], "costCenter": "X"}},
                                 team_doc("beta")])
    platform = _load(tmp_path / "d", [_alpha(), team_doc("beta")], kubernetesVersion="1.30")
    lists = {"network": {"allowFromTeams": ["alpha"]}}
    listed = _load(tmp_path / "e", [_alpha(), team_doc("beta"), team_doc("gamma", **lists)])
    for spec in (peer, own, platform, listed):
        assert team_digests(spec)["alpha"] != base
    # who lists alpha, and in which environments, are inputs of alpha
    moved = _load(tmp_path / "f", [_alpha(), team_doc("beta"),
                                   team_doc("gamma", environments=["dev"], services=[], **lists)])
    assert team_digests(moved)["alpha"] != team_digests(listed)["alpha"]
    stopped = _load(tmp_path / "g", [_alpha(), team_doc("beta"), team_doc("gamma")])
    assert team_digests(stopped)["alpha"] == base


def test_the_code_fingerprint_is_stable_within_a_process() -> None:
    assert code_fingerprint() == code_fingerprint()
    assert len(code_fingerprint()) == 64
