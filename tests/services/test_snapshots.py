"""The process's snapshot of a branch's specs: reused while the head is the same, built
again (from the changed files only) when any writer moves it, never changed by a
proposal, and built once when threads ask together."""

from __future__ import annotations

import copy
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import GitError, SpecError
from goldenpath.gitops import layout
from goldenpath.services import gitops, snapshots
from goldenpath.services import teams as svc
from goldenpath.services.teams import Requester, Where
from goldenpath.settings import Settings
from goldenpath.spec import load_platform
from goldenpath.spec.resolve import PlatformSpec
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import git

BOB = Requester("user:bob@example.com", "req-b")


@pytest.fixture
def where(tmp_path: Path, remote: Path) -> Where:
    """A control repository seeded from a three-team platform, read by replica "a"."""
    platform = write_platform(tmp_path / "seed", platform_doc(),
                              [team_doc("alpha"), team_doc("beta"), team_doc("gamma")])
    first = Where(str(remote), "main", Settings(state_dir=tmp_path / "state-a"))
    assert svc.seed(platform, first) is not None
    return first


def other_writer(where: Where, tmp_path: Path) -> Where:
    """Another API replica (its own state directory) writing to the same remote."""
    return Where(where.repo, where.branch, Settings(state_dir=tmp_path / "state-b"))


def changed(where: Where, team: str, **spec: Any) -> dict[str, Any]:
    doc = copy.deepcopy(svc.get_team(team, where).document)
    doc["spec"].update(spec)
    return doc


def test_the_snapshot_is_reused_while_the_head_is_the_same(where: Where) -> None:
    first = snapshots.current(where.repo, where.branch, where.resolved)
    assert snapshots.current(where.repo, where.branch, where.resolved) is first
    assert svc.current_platform(where) is first.spec


def test_a_change_another_writer_pushed_is_seen_by_the_next_request(
        where: Where, tmp_path: Path, remote: Path) -> None:
    before = svc.current_platform(where)
    other = other_writer(where, tmp_path)
    alpha = changed(other, "alpha", costCenter="CC-new")
    svc.update_team("alpha", alpha, svc.get_team("alpha", other).etag, BOB, other)
    after = svc.current_platform(where)
    assert after.team("alpha").spec.cost_center == "CC-new"
    assert snapshots.current(where.repo, where.branch, where.resolved).head == \
        git("rev-parse", "main", cwd=remote).strip()
    # only the changed file was parsed again: the other teams' entries are the same
    assert after.entry["beta"] is before.entry["beta"]
    assert after.entry["alpha"] is not before.entry["alpha"]
    assert after.digests == load_platform(_checkout(remote, tmp_path / "now")).digests
    # a team offboarded by another writer is gone from the next request's platform
    gone = svc.get_team("gamma", other).etag
    svc.delete_team("gamma", gone, BOB, other, allow_offboarding=True)
    assert svc.current_platform(where).team_names == ("alpha", "beta")


def test_a_new_platform_file_loads_everything_again(
        where: Where, tmp_path: Path, remote: Path) -> None:
    before = svc.current_platform(where)
    directory = _checkout(remote, tmp_path / "cli")
    doc = platform_doc()
    doc["spec"]["admins"] = ["group:new-admins"]
    write_platform(directory, doc, [])
    gitops.apply(directory, where.repo, settings=other_writer(where, tmp_path).resolved)
    after = svc.current_platform(where)
    assert after.platform.spec.admins == ["group:new-admins"]
    assert after.entry["beta"] is not before.entry["beta"]


def test_a_bad_spec_another_writer_pushed_is_reported_as_the_repository_names_it(
        where: Where, tmp_path: Path, remote: Path) -> None:
    svc.current_platform(where)
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    path = clone / "platform/teams/beta.yaml"
    path.write_text(path.read_text().replace("costCenter: CC-1", "costCenter: 7\n  colour: x"))
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "by hand", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    with pytest.raises(SpecError) as found:
        svc.current_platform(where)
    assert "platform/teams/beta.yaml: spec.colour" in str(found.value)
    assert str(tmp_path) not in str(found.value)
    # the files are still read, as the branch holds them (to fix them through the API)
    assert "colour: x" in svc.get_team("beta", where).text
    assert sorted(svc.spec_etags(where).teams) == ["alpha", "beta", "gamma"]


def test_a_proposal_changes_nothing_shared(where: Where, tmp_path: Path,
                                          remote: Path) -> None:
    snap = snapshots.current(where.repo, where.branch, where.resolved)
    spec, files, blobs = snap.spec, dict(snap.files), dict(snap.blobs)
    digests, names = dict(spec.digests), spec.team_names
    quota = spec.quota_of("alpha", "dev")
    alpha = changed(where, "alpha", quota={"cpu": "6"}, environments=["dev", "staging"])
    alpha["spec"]["services"][0]["replicas"].pop("prod")
    plan = svc.plan_team("alpha", alpha, where)
    assert {(c.kind, c.action) for c in plan.objects} >= {("ResourceQuota", "changed"),
                                                         ("Namespace", "removed")}
    svc.check_change("delta", team_doc("delta"), where)
    assert snapshots.current(where.repo, where.branch, where.resolved) is snap
    assert (snap.spec, dict(snap.files), dict(snap.blobs)) == (spec, files, blobs)
    assert (spec.digests, spec.team_names, spec.quota_of("alpha", "dev")) == \
        (digests, names, quota)
    assert spec.team("alpha").spec.environments == ["dev", "staging", "prod"]
    fresh = load_platform(_checkout(remote, tmp_path / "now"))
    assert spec.digests == fresh.digests


def test_threads_asking_together_build_one_snapshot_and_plan_as_one_thread_does(
        where: Where, monkeypatch: pytest.MonkeyPatch) -> None:
    proposals = [changed(where, team, costCenter=f"CC-{n}")
                 for n, team in enumerate(["alpha", "beta", "gamma"] * 3)]
    alone = [svc.plan_team(p["metadata"]["name"], p, where) for p in proposals]
    snapshots.forget()
    builds: list[str] = []
    build = snapshots._build

    def counted(*args: Any) -> snapshots.Snapshot:
        builds.append(threading.current_thread().name)
        return build(*args)

    monkeypatch.setattr(snapshots, "_build", counted)
    with ThreadPoolExecutor(len(proposals)) as pool:
        together = list(pool.map(lambda p: svc.plan_team(p["metadata"]["name"], p, where),
                                 proposals))
    assert len(builds) == 1
    assert [(p.objects, p.diffs, p.base) for p in together] == \
        [(p.objects, p.diffs, p.base) for p in alone]


def _checkout(remote: Path, into: Path) -> Path:
    """The branch's platform/ as a directory."""
    git("clone", "-q", str(remote), str(into))
    return into / "platform"


def test_one_request_asks_the_remote_once_and_sees_one_head(
        where: Where, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads through one request's Where see the head its first read saw (the caller's
    role and the plan decided on one commit); the next request sees a newer head."""
    other = other_writer(where, tmp_path)
    alpha, etag = changed(other, "alpha", costCenter="CC-new"), svc.get_team("alpha", other).etag
    beta = changed(where, "beta", costCenter="CC-b")
    asked: list[str] = []
    head = snapshots.remote_head

    def counted(*args: Any) -> str | None:
        asked.append("")
        return head(*args)

    monkeypatch.setattr(snapshots, "remote_head", counted)
    request = where.for_request()
    spec = svc.current_platform(request)
    svc.update_team("alpha", alpha, etag, BOB, other)  # writes; reads no snapshot
    svc.plan_team("beta", beta, request)
    assert svc.get_team("alpha", request).document["spec"]["costCenter"] != "CC-new"
    assert svc.current_platform(request) is spec
    assert len(asked) == 1
    assert svc.current_platform(where.for_request()).team("alpha").spec.cost_center == "CC-new"


def test_a_proposals_input_digests_are_those_of_the_whole_platform(where: Where) -> None:
    """A proposal computes again only the digests its change can affect (the team, and
    the teams it names or that name it when its environments or allowFromTeams change);
    every one must equal what digesting the whole proposed platform gives."""
    svc.update_team("beta", changed(where, "beta", network={"allowFromTeams": ["alpha"]}),
                    svc.get_team("beta", where).etag, BOB, where)
    snap = snapshots.current(where.repo, where.branch, where.resolved)
    two_envs = changed(where, "alpha", environments=["dev", "staging"])
    two_envs["spec"]["services"][0]["replicas"].pop("prod")
    proposals = {
        "alpha": [changed(where, "alpha", quota={"cpu": "6"}), two_envs,
                  changed(where, "alpha", network={"allowFromTeams": ["gamma"]})],
        "beta": [changed(where, "beta", network={"allowFromTeams": []}),
                 changed(where, "beta", environments=["dev", "staging", "prod"],
                         costCenter="CC-b")],
        "delta": [team_doc("delta", network={"allowFromTeams": ["alpha", "gamma"]})],
    }
    seen: set[frozenset[str]] = set()
    for team, docs in proposals.items():
        for doc in docs:
            proposal = snap.propose(team, doc)
            assert proposal.inputs == layout.unit_inputs(proposal.spec), (team, doc)
            before = layout.unit_inputs(snap.spec)
            seen.add(frozenset(u for u, d in proposal.inputs.items() if before.get(u) != d))
    # the cases above change one team's digest, or also its neighbours'
    assert frozenset({"team-alpha"}) in seen
    assert frozenset({"team-alpha", "team-beta"}) in seen
    assert any(len(units) == 3 for units in seen)


def test_requests_asking_together_share_one_head_question(
        where: Where, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve plans at once ask the remote fewer times than there are plans: a
    question running is shared by every request that came after it began."""
    proposals = [changed(where, team, costCenter=f"CC-{n}")
                 for n, team in enumerate(["alpha", "beta", "gamma"] * 4)]
    svc.current_platform(where)
    asked: list[str] = []
    head = snapshots.remote_head
    gate = threading.Barrier(len(proposals), timeout=30)

    def slow(*args: Any) -> str | None:
        asked.append("")
        return head(*args)

    def plan(p: dict[str, Any]) -> Any:
        gate.wait()
        return svc.plan_team(p["metadata"]["name"], p, where)

    monkeypatch.setattr(snapshots, "remote_head", slow)
    with ThreadPoolExecutor(len(proposals)) as pool:
        plans = list(pool.map(plan, proposals))
    assert len({p.base for p in plans}) == 1
    assert 1 <= len(asked) < len(proposals)


def test_a_shared_head_question_is_never_one_begun_before_the_caller_came() -> None:
    """A question already running when a caller arrives may predate a push the caller
    saw finish: the caller waits for a question begun after it came."""
    heads = snapshots._Heads()
    running, release = threading.Event(), threading.Event()
    answers = iter(["old", "new"])

    def question() -> str | None:
        running.set()
        assert release.wait(30)
        return next(answers)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(heads.ask, question)
        assert running.wait(30)  # "old" is being asked; then the branch moves
        running.clear()
        second = pool.submit(heads.ask, question)
        release.set()
        assert first.result(30) == "old"
        assert second.result(30) == "new"


def test_every_caller_sharing_a_head_question_gets_its_error() -> None:
    heads = snapshots._Heads()
    began, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def failing() -> str | None:
        calls.append("")
        began.set()
        assert release.wait(30)
        raise GitError("the remote did not answer")

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(heads.ask, failing)
        assert began.wait(30)
        waiting = [pool.submit(heads.ask, failing) for _ in range(2)]
        time.sleep(0.2)  # both are waiting on the lock's condition, not yet asking
        release.set()
        for future in [first, *waiting]:
            with pytest.raises(GitError, match="did not answer"):
                future.result(30)
    assert len(calls) == 2  # the first, then one question for both who came after


def test_a_snapshot_derives_every_cached_property_before_threads_share_it(where: Where) -> None:
    """Threads only read a snapshot's spec: each of PlatformSpec's cached properties is
    computed when the snapshot is built, not by whichever request first asks (a proposal
    derives its indexes from the snapshot's: claims, ordered, cluster names, ...)."""
    spec = snapshots.current(where.repo, where.branch, where.resolved).spec
    derived = {name for name, value in vars(PlatformSpec).items()
               if isinstance(value, functools.cached_property)}
    assert derived, "PlatformSpec has cached properties"
    assert derived - vars(spec).keys() == set()
