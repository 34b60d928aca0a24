"""The writer takes a team the submission check rendered and checked from the process's
memo (goldenpath.services.passedteams) when the team's input digest at the commit is the
one it passed under: neither rendered nor checked by the per-team guardrails again, the
same bytes committed. Under any other digest (another document, a peer or the platform
changed in between) the team is rendered and checked again and a violation is refused;
the global guardrails run over every team, memo or not; the memo stays within bounds."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath import policy
from goldenpath.errors import PolicyViolation
from goldenpath.policy.report import Report
from goldenpath.render import Bundle, digest, render
from goldenpath.services import gitops, passedteams, platform
from goldenpath.services import teams as svc
from goldenpath.services.passedteams import PassedTeams
from goldenpath.services.teams import Requester, Where
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import commits, git

ALICE = Requester("user:alice@example.com", "req-0001")
BOB = Requester("user:bob@example.com", "req-0002")
#: the test platform's largest object is under 13 KiB (see tests/api/test_team_guardrails)
SMALL_OBJECTS = 16384


@dataclass
class Seen:
    """The teams each render and each per-team guardrail run covered (our own seams:
    services.platform's render_teams and policy.enforce_teams)."""

    rendered: list[frozenset[str]] = field(default_factory=list)
    checked: list[frozenset[str]] = field(default_factory=list)

    def clear(self) -> None:
        self.rendered.clear()
        self.checked.clear()

    def touched(self, team: str) -> bool:
        return any(team in names for names in [*self.rendered, *self.checked])


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    found = Seen()
    render_teams, enforce_teams = platform.render_teams, policy.enforce_teams

    def rendering(spec: PlatformSpec, names: Iterable[str]) -> Bundle:
        chosen = frozenset(names)
        found.rendered.append(chosen)
        return render_teams(spec, chosen)

    def enforcing(spec: PlatformSpec, names: Iterable[str], bundle: Bundle) -> Report:
        chosen = frozenset(names)
        found.checked.append(chosen)
        return enforce_teams(spec, chosen, bundle)

    monkeypatch.setattr(platform, "render_teams", rendering)
    monkeypatch.setattr(policy, "enforce_teams", enforcing)
    return found


def seeded(root: Path, remote: Path, platform: dict[str, Any] | None = None) -> Where:
    """A control repository seeded with alpha, beta (which names alpha in allowFromTeams,
    so alpha's digest covers beta's environments) and gamma."""
    teams = [team_doc("alpha"), team_doc("beta", network={"allowFromTeams": ["alpha"]}),
             team_doc("gamma")]
    directory = write_platform(root / "seed", platform or platform_doc(), teams)
    where = Where(str(remote), "main", Settings(state_dir=root / "state"))
    assert svc.seed(directory, where) is not None
    return where


@pytest.fixture
def where(tmp_path: Path, remote: Path) -> Where:
    return seeded(tmp_path, remote)


def doc_of(where: Where, team: str) -> tuple[dict[str, Any], str]:
    found = svc.get_team(team, where)
    return copy.deepcopy(found.document), found.etag


def many_members(doc: dict[str, Any]) -> dict[str, Any]:
    """100 subjects of 200 characters: within every rule of the spec, but the RoleBinding
    naming them all is over 16 KiB (and under the default 128 KiB)."""
    doc["spec"]["members"] = [f"group:{'m' * 190}-{i:03d}" for i in range(100)]
    return doc


def other_writer(where: Where, tmp_path: Path, change: Any) -> None:
    """Another writer (a CLI apply from a clone, its own state) pushes ``change`` (made
    on the clone's platform directory)."""
    clone = tmp_path / "clone"
    git("clone", "-q", str(where.repo), str(clone))
    change(clone / "platform")
    gitops.apply(clone / "platform", where.repo,
                 settings=Settings(state_dir=tmp_path / "state-other"))


def test_a_change_checked_at_submission_is_committed_without_rendering_its_team_again(
        where: Where, remote: Path, seen: Seen) -> None:
    alpha, etag = doc_of(where, "alpha")
    alpha["spec"]["costCenter"] = "CC-new"
    svc.check_change("alpha", alpha, where)
    assert seen.rendered == [{"alpha"}] and seen.checked == [{"alpha"}]
    seen.clear()
    change = svc.update_team("alpha", alpha, etag, ALICE, where)
    assert change.commit is not None
    # the cluster-level objects were rendered and checked; alpha was neither
    assert seen.rendered and seen.checked
    assert not seen.touched("alpha"), seen
    assert svc.get_team("alpha", where).document["spec"]["costCenter"] == "CC-new"
    assert len(commits(remote)) == 2


def test_a_plan_of_the_same_proposal_serves_the_writer_as_well(
        where: Where, seen: Seen) -> None:
    alpha, etag = doc_of(where, "alpha")
    alpha["spec"]["viewers"] = ["user:carol@example.com"]
    svc.plan_team("alpha", alpha, where)
    seen.clear()
    svc.update_team("alpha", alpha, etag, ALICE, where)
    assert not seen.touched("alpha"), seen


def test_another_document_than_the_one_checked_is_rendered_checked_and_refused(
        tmp_path: Path, remote: Path, seen: Seen) -> None:
    where = seeded(tmp_path, remote, platform_doc(limits={"maxObjectBytes": SMALL_OBJECTS}))
    alpha, etag = doc_of(where, "alpha")
    fine = copy.deepcopy(alpha)
    fine["spec"]["costCenter"] = "CC-new"
    svc.check_change("alpha", fine, where)  # passes, and is kept
    seen.clear()
    with pytest.raises(PolicyViolation) as refused:
        svc.update_team("alpha", many_members(alpha), etag, ALICE, where)
    assert {v.guardrail for v in refused.value.violations} == {"object-size"}
    assert any("alpha" in names for names in seen.rendered)
    assert any("alpha" in names for names in seen.checked)
    assert len(commits(remote)) == 1


def test_a_platform_changed_after_the_check_renders_and_checks_the_team_again(
        tmp_path: Path, remote: Path, seen: Seen) -> None:
    """alpha's 100 members pass under the default object size and are kept; an admin
    then lowers the limit (no team breaks it yet): the change is refused when committed."""
    where = seeded(tmp_path, remote)
    alpha, etag = doc_of(where, "alpha")
    svc.check_change("alpha", many_members(alpha), where)

    def lower_the_limit(directory: Path) -> None:
        path = directory / "platform.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["spec"]["limits"] = {"maxObjectBytes": SMALL_OBJECTS}
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    other_writer(where, tmp_path, lower_the_limit)
    before = commits(remote)
    seen.clear()
    with pytest.raises(PolicyViolation) as refused:
        svc.update_team("alpha", alpha, etag, ALICE, where)
    assert {v.guardrail for v in refused.value.violations} == {"object-size"}
    assert any("alpha" in names for names in seen.checked)
    assert commits(remote) == before


def test_a_peer_changed_after_the_check_renders_and_checks_the_team_again(
        where: Where, tmp_path: Path, seen: Seen) -> None:
    """beta names alpha in allowFromTeams: beta leaving staging changes what alpha's
    namespaces may send to, so alpha's digest, and alpha is rendered again."""
    alpha, etag = doc_of(where, "alpha")
    alpha["spec"]["costCenter"] = "CC-new"
    svc.check_change("alpha", alpha, where)

    def beta_leaves_staging(directory: Path) -> None:
        path = directory / "teams" / "beta.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["spec"]["environments"] = ["dev", "prod"]
        doc["spec"]["services"][0]["replicas"].pop("staging")
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    other_writer(where, tmp_path, beta_leaves_staging)
    seen.clear()
    svc.update_team("alpha", alpha, etag, ALICE, where)
    assert any("alpha" in names for names in seen.rendered)
    assert any("alpha" in names for names in seen.checked)


def test_the_global_guardrails_still_cover_a_team_taken_from_the_memo(
        tmp_path: Path, remote: Path, seen: Seen) -> None:
    """Each quota raise fits the cluster alone and passes its check; committed one after
    the other, the second is beyond the capacity: refused although its team was taken
    from the memo (capacity runs over every team)."""
    doc = platform_doc()
    doc["spec"]["clusters"][1]["capacity"] = {"cpu": "16", "memory": "1Ti"}
    where = seeded(tmp_path, remote, doc)
    spec = svc.current_platform(where)
    # three teams at the default 4 CPUs in prod use 12 of 16: one raised to 8 fits
    # exactly, two do not
    assert [spec.quota_of(t, "prod").cpu for t in spec.team_names] == ["4"] * 3
    asks = []
    for team, who in (("alpha", ALICE), ("gamma", BOB)):
        found, etag = doc_of(where, team)
        found["spec"]["quota"] = {"cpu": "8"}
        svc.check_change(team, found, where)
        asks.append((svc.updating(team, found, etag), who))
    seen.clear()
    first, second = svc.make_all(asks, where)
    assert isinstance(first, svc.TeamChange) and first.commit is not None
    assert isinstance(second, PolicyViolation)
    assert {v.guardrail for v in second.violations} == {"capacity"}
    assert not seen.touched("gamma"), seen


def test_the_tree_committed_is_the_same_with_or_without_the_memo(
        tmp_path: Path, seen: Seen) -> None:
    trees = []
    for run in ("memo", "cleared"):
        remote = tmp_path / run / "remote.git"
        git("init", "--bare", "-q", "-b", "main", str(remote))
        where = seeded(tmp_path / run, remote)
        asks = []
        for team, who in (("alpha", ALICE), ("beta", BOB), ("gamma", ALICE)):
            doc, etag = doc_of(where, team)
            doc["spec"]["viewers"] = [f"user:{team}-viewer@example.com"]
            doc["spec"]["quota"] = {"cpu": "3"}
            svc.check_change(team, doc, where)
            asks.append((svc.updating(team, doc, etag), who))
        if run == "cleared":
            passedteams.PASSED.clear()
        seen.clear()
        outcomes = svc.make_all(asks, where)
        assert all(isinstance(o, svc.TeamChange) and o.commit for o in outcomes), outcomes
        assert any(seen.touched(t) for t in ("alpha", "beta", "gamma")) == (run == "cleared")
        trees.append(git("rev-parse", "main^{tree}", cwd=remote).strip())
        assert len(commits(remote)) == 4
    assert trees[0] == trees[1]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, dict[str, str], int]:
    """The Bundle of four teams, their input digests, and how many objects one renders."""
    names = ("t1", "t2", "t3", "t4")
    directory = write_platform(tmp_path_factory.mktemp("bounded"), platform_doc(),
                               [team_doc(name) for name in names])
    spec = load_platform(directory)
    bundle = render(spec)
    counts = {sum(1 for r in bundle if r.coords.team == name) for name in names}
    assert len(counts) == 1
    return bundle, digest.team_digests(spec), counts.pop()


def test_the_memo_keeps_what_passed_by_team_and_digest_within_its_bounds(
        rendered: tuple[Bundle, dict[str, str], int]) -> None:
    bundle, digests, each = rendered
    memo = PassedTeams(max_teams=2, max_objects=10 * each)
    memo.record(bundle, {"t1": digests["t1"], "t2": digests["t2"]})
    assert memo.found({"t1": digests["t1"]}) == {
        "t1": tuple(r for r in bundle if r.coords.team == "t1")}
    assert memo.found({"t2": digests["t1"], "t3": digests["t3"]}) == {}  # another digest
    memo.record(bundle, {"t3": digests["t3"]})  # beyond two teams: t2, used least, goes
    assert memo.teams() == [("t1", digests["t1"]), ("t3", digests["t3"])]
    assert memo.size() == (2, 2 * each)
    by_objects = PassedTeams(max_teams=10, max_objects=2 * each + 1)
    for team in ("t1", "t2", "t3"):
        by_objects.record(bundle, {team: digests[team]})
    assert by_objects.teams() == [("t2", digests["t2"]), ("t3", digests["t3"])]
    assert by_objects.size() == (2, 2 * each)
    too_large = PassedTeams(max_teams=10, max_objects=each - 1)
    too_large.record(bundle, {"t1": digests["t1"]})
    whole = PassedTeams(max_teams=3, max_objects=10 * each)
    whole.record(bundle, digests)  # more teams than it holds: they would push each other out
    assert too_large.size() == whole.size() == (0, 0)
    assert (passedteams.PASSED.max_teams, passedteams.PASSED.max_objects) == \
        (passedteams.MAX_TEAMS, passedteams.MAX_OBJECTS)


def test_threads_recording_and_finding_together_keep_the_bounds(
        rendered: tuple[Bundle, dict[str, str], int]) -> None:
    bundle, digests, each = rendered
    memo = PassedTeams(max_teams=3, max_objects=3 * each)
    names = sorted(digests)

    def work(n: int) -> None:
        for i in range(200):
            team = names[(n + i) % len(names)]
            memo.record(bundle, {team: digests[team]})
            for found in memo.found(digests).values():
                assert len(found) == each

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    entries, objects = memo.size()
    assert entries <= 3 and objects == entries * each
    assert sum(len(v) for v in memo.found(digests).values()) == objects
