"""Team changes pushed in batches: every queued change its own commit (its author, its
request id, only its team's files), built one on the other and pushed together; a change
that fails fails alone; a push race makes every change again on the new specs; fifty
concurrent updates to fifty teams all land, none lost, ``git fsck`` clean.

The control repository is a real bare repository with a ``post-receive`` hook that counts
the pushes it accepts, so "pushed together" is measured at the remote, not assumed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.services import gitops
from goldenpath.services import teams as svc
from goldenpath.services.worker import Worker
from goldenpath.settings import Settings
from tests.api.conftest import Api, make_settings, mint_all, wait_final
from tests.api.test_teams import new_team, put, read
from tests.gitops.conftest import commits, git
from tests.remotes import counted_remote, pushes

TEAMS = 50


def with_teams(settings: Settings, total: int) -> list[str]:
    """Team files added to the platform directory until it holds ``total`` teams; every
    team's name."""
    files = settings.platform_dir / "teams"
    example = sorted(path.stem for path in files.glob("*.yaml"))
    extra = [f"team-{n:02d}" for n in range(total - len(example))]
    for name in extra:
        (files / f"{name}.yaml").write_text(
            yaml.safe_dump(new_team(name, "user:alice@example.com"), sort_keys=False))
    return [*example, *extra]


def trailers(remote: Path, commit: str) -> dict[str, str]:
    body = git("log", "-1", "--format=%B", commit, cwd=remote)
    return dict(re.findall(r"^(Requested-By|Request-Id): (.+)$", body, re.MULTILINE))


def touched(remote: Path, commit: str) -> list[str]:
    return git("diff-tree", "--no-commit-id", "--name-only", "-r", commit,
               cwd=remote).split()


def of_team(path: str, team: str) -> bool:
    """Whether ``path`` is one of ``team``'s files: its spec, its tenant tree, its
    ownership manifest, its AppProject (one per cluster), or the layout's record of the
    kustomizations (which lists the team's: a new RoleBinding file changes it)."""
    return (path in {f"platform/teams/{team}.yaml", f".goldenpath/owned/team-{team}.txt",
                     ".goldenpath/owned/layout.txt"}
            or path.startswith(f"tenants/{team}/")
            or re.fullmatch(rf"clusters/[a-z0-9-]+/projects/appproject-{team}\.yaml", path)
            is not None)


@pytest.fixture
def batched(tmp_path: Path) -> Iterator[tuple[Api, Path, list[str]]]:
    """An API without worker threads over a counted remote seeded with 50 teams."""
    remote = counted_remote(tmp_path / "remote.git")
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_workers=0)
    names = with_teams(settings, TEAMS)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, mint_all(client)), remote, names


def viewer_change(api: Api, team: str) -> str:
    doc, etag = read(api, team, "admin")
    doc["spec"]["viewers"] = [f"user:{team}-viewer@example.com"]
    answer = put(api, team, doc, etag, role="admin")
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_fifty_queued_changes_are_fifty_commits_in_one_push(
        batched: tuple[Api, Path, list[str]]) -> None:
    api, remote, names = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    before, pushed = commits(remote), pushes(remote)
    ids = [viewer_change(api, team) for team in names]
    assert commits(remote) == before  # queued: nothing written yet
    loads: list[Path] = []
    full_load = gitops._Specs.open

    def counted(*args: Any) -> Any:
        loads.append(args[2])
        return full_load(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gitops._Specs, "open", counted)
        assert Worker(api.settings, store, "batcher").run_once()
    # the chain started from the process's snapshot of the head (the submissions built
    # it): it checked out only the fifty teams' files and loaded no team from a file
    assert loads == []

    assert pushes(remote) == pushed + 1  # one push for fifty changes
    results = [wait_final(api, rid) for rid in ids]
    assert [r["state"] for r in results] == ["succeeded"] * TEAMS, results
    after = commits(remote)
    assert len(after) == len(before) + TEAMS
    new = list(reversed(after[:TEAMS]))  # oldest first: in the order they were asked
    assert [r["result"]["commit"] for r in results] == new
    for team, rid, commit in zip(names, ids, new, strict=True):
        # each commit is its request's alone: its trailers, its team's files only
        assert trailers(remote, commit) == {"Requested-By": "group:platform-admins",
                                            "Request-Id": rid}
        paths = touched(remote, commit)
        assert f"platform/teams/{team}.yaml" in paths
        assert all(of_team(p, team) for p in paths), (team, paths)
        # and its tree is consistent on its own: its change is there, the next one's not
        assert f"user:{team}-viewer@example.com" in git(
            "show", f"{commit}:platform/teams/{team}.yaml", cwd=remote)
    first, second = new[0], names[1]
    assert "viewer@example.com" not in git("show", f"{first}:platform/teams/{second}.yaml",
                                           cwd=remote)
    subprocess.run(["git", "fsck", "--strict"], cwd=remote, check=True, capture_output=True)
    # the chain loaded each change into the platform before it: a full plan of the specs
    # the branch holds now, from nothing cached, finds the tree exactly as rendered
    assert not plan_from_scratch(remote, api.settings.state_dir.parent / "fresh").has_changes


def test_a_batch_after_another_batchs_push_starts_from_the_processs_snapshot(
        batched: tuple[Api, Path, list[str]]) -> None:
    """Both changes were checked on the same head; the first batch's push moved the
    head past the snapshot those checks built. The worker brings the snapshot up to
    the new head (parsing the one changed team) before the second batch, whose writer
    then loads no team from a file either."""
    api, _, names = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    first, second = viewer_change(api, names[0]), viewer_change(api, names[1])
    worker = Worker(api.settings, store, "batcher", batch=1)
    assert worker.run_once()
    # read from the store: a request through the API would build the snapshot itself
    assert store.requests.get(first).state == "succeeded"
    loads: list[Path] = []
    full_load = gitops._Specs.open

    def counted(*args: Any) -> Any:
        loads.append(args[2])
        return full_load(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gitops._Specs, "open", counted)
        assert worker.run_once()
    assert loads == []
    assert wait_final(api, second)["state"] == "succeeded"


def plan_from_scratch(remote: Path, work: Path) -> gitops.Plan:
    work.mkdir()
    archive = subprocess.run(["git", "archive", "main", "platform"], cwd=remote, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    return gitops.plan(work / "platform", str(remote), settings=Settings(
        state_dir=work / "state"))


def test_a_batchs_log_lines_are_three_commits_whatever_its_size(
        batched: tuple[Api, Path, list[str]]) -> None:
    """Each change logs its attempt, its edit and its commit; the batch writes each of
    the three for all its changes in one transaction, not one per line."""
    api, _, names = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    ids = [viewer_change(api, team) for team in names[:5]]
    actions: list[str] = []
    transaction = store.db.transaction

    def counted(action: str, **kw: Any) -> Any:
        actions.append(action)
        return transaction(action, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store.db, "transaction", counted)
        assert Worker(api.settings, store, "batcher").run_once()
    assert len([a for a in actions if "log line" in a]) == 3, actions
    for rid in ids:
        assert [line.message.split()[0] for line in store.requests.logs(rid)] == [
            "attempt", "team.update", "committed"]


def test_a_change_that_fails_in_a_batch_fails_alone(
        batched: tuple[Api, Path, list[str]]) -> None:
    api, remote, names = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    first, stale, last = names[4], names[5], names[6]
    ids = [viewer_change(api, team) for team in (first, stale, last)]
    # someone else changes the middle team after its request was accepted
    doc, etag = read(api, stale, "admin")
    doc["spec"]["displayName"] = "Renamed Elsewhere"
    svc.update_team(stale, doc, etag.strip('"'), svc.Requester("user:carol@example.com", "r-1"),
                    svc.Where(settings=api.settings))
    before, pushed = commits(remote), pushes(remote)

    assert Worker(api.settings, store, "batcher").run_once()

    ok, failed, ok_too = (wait_final(api, rid) for rid in ids)
    assert (ok["state"], failed["state"], ok_too["state"]) == ("succeeded", "failed",
                                                               "succeeded")
    assert failed["result"]["error"] == "PreconditionFailed"
    assert f"team {stale} changed since version" in failed["result"]["message"]
    assert pushes(remote) == pushed + 1
    after = commits(remote)
    assert after[:2] == [ok_too["result"]["commit"], ok["result"]["commit"]]
    assert after[2:] == before  # the failed change made no commit
    assert "Renamed Elsewhere" in git("show", f"main:platform/teams/{stale}.yaml", cwd=remote)
    assert f"user:{stale}-viewer" not in git("show", f"main:platform/teams/{stale}.yaml",
                                             cwd=remote)


def host_change(api: Api, team: str, service: str, host: str) -> str:
    doc, etag = read(api, team, "admin")
    [entry] = [s for s in doc["spec"]["services"] if s["name"] == service]
    entry["ingress"]["host"] = host
    answer = put(api, team, doc, etag, role="admin")
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_a_change_refused_after_it_edited_the_specs_is_undone_for_the_next(
        batched: tuple[Api, Path, list[str]]) -> None:
    """Two teams ask for the same free host: each is fine when submitted, the second is
    refused in the batch only after its file was edited (the host is the first's by
    then); the change after it commits from specs without the refused edit."""
    api, remote, _ = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    ids = [host_change(api, "checkout", "cart", "shop.example.com"),
           host_change(api, "payments", "ledger", "shop.example.com"),
           viewer_change(api, "storefront")]
    before = git("show", "main:platform/teams/payments.yaml", cwd=remote)

    assert Worker(api.settings, store, "batcher").run_once()

    first, refused, last = (wait_final(api, rid) for rid in ids)
    assert (first["state"], refused["state"], last["state"]) == ("succeeded", "failed",
                                                                 "succeeded")
    assert refused["result"]["error"] == "SpecError", refused
    assert git("show", "main:platform/teams/payments.yaml", cwd=remote) == before
    assert all(of_team(p, "storefront") for p in touched(remote, last["result"]["commit"]))
    assert "shop.example.com" in git("show", "main:platform/teams/checkout.yaml", cwd=remote)


def test_a_push_race_makes_every_change_again_on_the_new_specs(
        batched: tuple[Api, Path, list[str]], tmp_path: Path) -> None:
    """Another writer pushes while the batch is built: the batch's push is rejected, and
    every change is made again on top of the other writer's commit (which stays)."""
    api, remote, names = batched
    store = api.client.app.state.store  # type: ignore[attr-defined]
    ids = [viewer_change(api, team) for team in names[10:13]]
    elsewhere = Settings(state_dir=tmp_path / "other-writer")  # its own cache repository
    raced: list[str] = []
    real_updating = svc.updating

    doc, etag = read(api, names[20], "admin")  # read now: the batch holds the API's cache
    doc["spec"]["displayName"] = "Raced In"

    def push_elsewhere() -> str:
        change = svc.update_team(names[20], doc, etag.strip('"'),
                                 svc.Requester("user:carol@example.com", "race-1"),
                                 svc.Where(repo=str(remote), settings=elsewhere))
        return str(change.commit)

    def updating(name: str, document: dict[str, Any], if_match: str) -> svc.Proposal:
        proposal = real_updating(name, document, if_match)

        def edit(root: Path, blobs: Mapping[str, str]) -> None:
            if not raced:  # the batch read its base already: another writer pushes now
                raced.append("racing")  # (its own edit, made through this one, must not race)
                raced[0] = push_elsewhere()
            proposal.edit(root, blobs)

        return replace(proposal, edit=edit)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(svc, "updating", updating)
        pushed = pushes(remote)
        assert Worker(api.settings, store, "batcher").run_once()
    results = [wait_final(api, rid) for rid in ids]
    assert [r["state"] for r in results] == ["succeeded"] * 3, results
    after = commits(remote)
    # the other writer's commit first, then the batch's three on top of it
    assert after[3] == raced[0]
    assert after[:3] == [r["result"]["commit"] for r in reversed(results)]
    assert pushes(remote) == pushed + 2  # the other writer's, then the batch's retry
    assert "Raced In" in git("show", f"main:platform/teams/{names[20]}.yaml", cwd=remote)
    subprocess.run(["git", "fsck", "--strict"], cwd=remote, check=True, capture_output=True)


def test_fifty_concurrent_updates_to_different_teams_each_commit(tmp_path: Path) -> None:
    """The issue's test: fifty owners change fifty teams at once through the API with its
    worker threads running; every change is its own commit, none is lost."""
    remote = counted_remote(tmp_path / "remote.git")
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_workers=2)
    names = with_teams(settings, TEAMS)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        head = commits(remote)
        with ThreadPoolExecutor(TEAMS) as pool:
            ids = list(pool.map(lambda team: viewer_change(api, team), names))
        results = [wait_final(api, rid, seconds=300) for rid in ids]
    assert [r["state"] for r in results] == ["succeeded"] * TEAMS, results
    after = commits(remote)
    assert len(after) == len(head) + TEAMS
    assert {r["result"]["commit"] for r in results} == set(after[:TEAMS])
    assert {trailers(remote, c)["Request-Id"] for c in after[:TEAMS]} == set(ids)
    for team in names:
        text = git("show", f"main:platform/teams/{team}.yaml", cwd=remote)
        assert f"user:{team}-viewer@example.com" in text
    subprocess.run(["git", "fsck", "--strict"], cwd=remote, check=True, capture_output=True)
