"""The worker's chain of commits reuses what the submission check of the same request
computed in this process, and commits the very same bytes as without it: the team
file's parse and model (:data:`goldenpath.spec.loader.PARSED_TEAMS`)."""

from __future__ import annotations

import copy
import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

from goldenpath.gitops import layout, specfiles
from goldenpath.services import gitops, passedteams
from goldenpath.services import teams as svc
from goldenpath.settings import Settings
from goldenpath.spec import loader
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import commits, git
from tests.services.test_passedteams import ALICE, BOB, seeded


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The team files' bytes parsed: by the loader, or by the writer's check that the
    bytes it commits are those the objects were rendered from (our seams)."""
    seen: list[bytes] = []
    parse = loader.parse_yaml_mapping

    def counting(raw: bytes) -> Any:
        seen.append(raw)
        return parse(raw)

    monkeypatch.setattr(loader, "parse_yaml_mapping", counting)
    monkeypatch.setattr(specfiles, "parse_yaml_mapping", counting)
    return seen


def _viewer(where: svc.Where, team: str) -> tuple[dict[str, Any], str]:
    found = svc.get_team(team, where)
    doc = copy.deepcopy(found.document)
    doc["spec"]["viewers"] = [f"user:{team}-viewer@example.com"]
    return doc, found.etag


def test_the_chain_does_not_parse_the_file_the_check_parsed(
        tmp_path: Path, remote: Path, parses: list[bytes]) -> None:
    where = seeded(tmp_path, remote)
    doc, etag = _viewer(where, "alpha")
    svc.check_change("alpha", doc, where)
    checked = [raw for raw in parses if b"alpha-viewer@" in raw]
    assert len(checked) == 1
    change = svc.update_team("alpha", doc, etag, ALICE, where)
    assert change.commit is not None
    assert [raw for raw in parses if b"alpha-viewer@" in raw] == checked
    assert "user:alpha-viewer@example.com" in svc.get_team("alpha", where).document[
        "spec"]["viewers"]


def test_the_tree_committed_is_the_same_with_or_without_the_reuse(tmp_path: Path) -> None:
    trees = []
    for run in ("reused", "cleared"):
        remote = tmp_path / run / "remote.git"
        git("init", "--bare", "-q", "-b", "main", str(remote))
        where = seeded(tmp_path / run, remote)
        asks = []
        for team, who in (("alpha", ALICE), ("beta", BOB), ("gamma", ALICE)):
            doc, etag = _viewer(where, team)
            svc.check_change(team, doc, where)
            asks.append((svc.updating(team, doc, etag), who))
        if run == "cleared":
            loader.PARSED_TEAMS.clear()
            passedteams.PASSED.clear()
        outcomes = svc.make_all(asks, where)
        assert all(isinstance(o, svc.TeamChange) and o.commit for o in outcomes), outcomes
        trees.append(git("rev-parse", "main^{tree}", cwd=remote).strip())
        assert len(commits(remote)) == 4
    assert trees[0] == trees[1]


def test_the_specs_an_edit_derives_are_those_a_load_of_the_checkout_gives(
        tmp_path: Path) -> None:
    """The chain derives each commit's specs from the last one's (only the files the
    edit changed are read): the same input digests and spec files as loading it all."""
    root = write_platform(tmp_path / "platform", platform_doc(),
                          [team_doc("alpha"), team_doc("beta"), team_doc("gamma")])
    settings = Settings(state_dir=tmp_path / "state")
    specs = gitops._Specs.loaded(root, settings)
    edits = [
        (root / "teams" / "gamma.yaml").unlink,
        lambda: write_platform(root, platform_doc(), [team_doc("delta")]),
        lambda: write_platform(root, platform_doc(), [team_doc("alpha", costCenter="CC-9")]),
    ]
    for edit in edits:
        edit()
        edited = specs.edited(settings)
        full = gitops._Specs.loaded(root, settings)
        assert edited.inputs == full.inputs
        assert edited.files == full.files
        specs = edited


def test_the_version_named_in_commits_is_looked_up_once(
        tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commit names goldenpath's version: the running code's, read once (a lookup
    of the installed distributions per commit was a twentieth of a chained commit)."""
    asked: list[str] = []
    version = importlib.metadata.version

    def counting(name: str) -> str:
        asked.append(name)
        return version(name)

    where = seeded(tmp_path, remote)
    gitops._version()
    monkeypatch.setattr(importlib.metadata, "version", counting)
    asks = []
    for team, who in (("alpha", ALICE), ("beta", BOB)):
        doc, etag = _viewer(where, team)
        asks.append((svc.updating(team, doc, etag), who))
    outcomes = svc.make_all(asks, where)
    assert all(isinstance(o, svc.TeamChange) and o.commit for o in outcomes), outcomes
    assert asked == []
    message = git("log", "-1", "--format=%B", cwd=remote)
    assert f"Goldenpath-Version: {gitops._version()}\n" in message


def test_a_proposal_s_input_digests_are_those_computed_from_scratch(
        tmp_path: Path, remote: Path) -> None:
    """A proposal derives every unit's input digest from its head's (only the team it
    replaces, and those that name it, are computed again): the same as all computed."""
    where = seeded(tmp_path, remote)
    snap = svc._snapshot(where)
    for team, change in (("alpha", {"costCenter": "CC-9"}),
                         ("alpha", {"environments": ["dev", "prod"]}),
                         ("delta", {})):
        doc = team_doc(team, **change)
        if "environments" in change:
            for service in doc["spec"]["services"]:
                service["replicas"].pop("staging", None)
        proposal = snap.propose(team, doc)
        assert proposal.inputs == layout.unit_inputs(proposal.spec)
