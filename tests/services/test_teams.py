"""Team changes through the services layer against real bare remotes: ETags, one
commit per request with its author and trailers, stale writers refused, races landed."""

from __future__ import annotations

import copy
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.errors import NotFound, SpecError
from goldenpath.gitops import specfiles
from goldenpath.services import teams as svc
from goldenpath.services.gitops import OffboardingRefused
from goldenpath.services.teams import PreconditionFailed, Requester, TeamExists, Where
from goldenpath.settings import Settings
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import commits, files_of, git

ALICE = Requester("user:alice@example.com", "req-0001")


@pytest.fixture
def where(tmp_path: Path, remote: Path) -> Where:
    """A control repository seeded from a two-team platform, read by replica "a"."""
    platform = write_platform(tmp_path / "seed", platform_doc(),
                              [team_doc("alpha"), team_doc("beta")])
    first = Where(str(remote), "main", Settings(state_dir=tmp_path / "state-a"))
    assert svc.seed(platform, first) is not None
    return first


def replica(where: Where, tmp_path: Path, name: str) -> Where:
    """Another API replica: same remote, its own state directory."""
    return Where(where.repo, where.branch, Settings(state_dir=tmp_path / f"state-{name}"))


def doc_of(where: Where, team: str) -> tuple[dict[str, Any], str]:
    found = svc.get_team(team, where)
    return copy.deepcopy(found.document), found.etag


def test_seed_commits_the_specs_with_their_objects_and_only_once(
        where: Where, remote: Path, tmp_path: Path) -> None:
    files = files_of(remote)
    seed = tmp_path / "seed"
    assert files["platform/platform.yaml"] == (seed / "platform.yaml").read_bytes()
    assert files["platform/teams/alpha.yaml"] == (seed / "teams/alpha.yaml").read_bytes()
    assert any(p.startswith("tenants/alpha/") for p in files)
    assert len(commits(remote)) == 1  # specs and objects: one commit
    assert svc.seed(seed, where) is None  # holds specs already: a second start is a no-op
    assert len(commits(remote)) == 1


def test_etags_are_the_stored_files_blob_ids(where: Where, remote: Path) -> None:
    tags = svc.spec_etags(where)
    assert sorted(tags.teams) == ["alpha", "beta"]
    for team, etag in tags.teams.items():
        assert etag == git("rev-parse", f"main:platform/teams/{team}.yaml", cwd=remote).strip()
    assert tags.platform == git("rev-parse", "main:platform/platform.yaml", cwd=remote).strip()
    assert [t.name for t in svc.list_teams(where)] == ["alpha", "beta"]


def test_an_update_is_one_commit_of_spec_and_objects_by_the_requester(
        where: Where, remote: Path) -> None:
    doc, etag = doc_of(where, "alpha")
    doc["spec"]["quota"] = {"cpu": "6", "memory": "12Gi"}
    change = svc.update_team("alpha", doc, etag, ALICE, where)
    assert change.commit is not None
    assert git("rev-parse", "main", cwd=remote).strip() == change.commit
    changed = git("diff", "--name-only", "main~1", "main", cwd=remote).split()
    assert "platform/teams/alpha.yaml" in changed
    assert any(p.startswith("tenants/alpha/") and "resourcequota" in p for p in changed)
    assert all("beta" not in p for p in changed)
    message = git("log", "-1", "--format=%B", cwd=remote)
    assert "Requested-By: user:alice@example.com\n" in message
    assert "Request-Id: req-0001\n" in message
    assert "Spec-Digest: sha256:" in message
    author = git("log", "-1", "--format=%an <%ae>", cwd=remote).strip()
    assert author == "user:alice@example.com <alice@example.com>"
    assert change.etag == git("rev-parse", "main:platform/teams/alpha.yaml", cwd=remote).strip()
    assert svc.get_team("alpha", where).document == doc
    # the same request retried (its answer lost): the file holds it already, no commit
    again = svc.update_team("alpha", doc, etag, ALICE, where)
    assert again.commit is None and again.etag == change.etag
    assert git("rev-parse", "main", cwd=remote).strip() == change.commit


def test_a_stale_etag_is_refused_and_changes_nothing(
        where: Where, remote: Path, tmp_path: Path) -> None:
    doc, etag = doc_of(where, "alpha")
    first = copy.deepcopy(doc)
    first["spec"]["costCenter"] = "CC-first"
    svc.update_team("alpha", first, etag, ALICE, where)
    before = commits(remote)
    second = copy.deepcopy(doc)
    second["spec"]["costCenter"] = "CC-second"  # made from the version before the first
    other = replica(where, tmp_path, "b")
    with pytest.raises(PreconditionFailed, match="team alpha changed since version") as found:
        svc.update_team("alpha", second, etag, Requester("user:bob@example.com", "r2"), other)
    assert found.value.expected == etag
    assert commits(remote) == before
    assert svc.get_team("alpha", where).document["spec"]["costCenter"] == "CC-first"


ALPHA_BY_HAND = """\
# alpha: the payments people; ask #alpha before changing quotas
apiVersion: goldenpath.dev/v1alpha1
kind: Team
metadata:
  name: alpha
spec:
  displayName: Alpha
  costCenter: CC-1  # finance approved 2026-01
  owners: ["group:alpha-owners"]
  members: ["group:alpha-devs"]
  viewers: ["group:support"]
  environments: [dev, staging, prod]
  alerting:
    slack: {channel: "#team-alerts", secretRef: {name: slack-webhook, key: url}}
  services:
    # the public API; its SLO is in the contract
    - name: api
      template: python-service
      port: 8080
      replicas: {dev: 1, staging: 2, prod: 3}
      slo: {availability: "99.9", latencyP99Ms: 300}
"""


def test_comments_and_formatting_survive_an_update(
        tmp_path: Path, remote: Path) -> None:
    platform = write_platform(tmp_path / "seed", platform_doc(), [])
    (platform / "teams" / "alpha.yaml").write_text(ALPHA_BY_HAND)
    where = Where(str(remote), "main", Settings(state_dir=tmp_path / "state"))
    svc.seed(platform, where)
    doc, etag = doc_of(where, "alpha")
    doc["spec"]["viewers"].append("group:auditors")
    doc["spec"]["services"][0]["replicas"]["prod"] = 4
    svc.update_team("alpha", doc, etag, ALICE, where)
    stored = files_of(remote)["platform/teams/alpha.yaml"].decode()
    assert yaml.safe_load(stored) == doc
    # the diff is the change alone: every comment, quote and flow style stays
    assert stored == ALPHA_BY_HAND.replace(
        'viewers: ["group:support"]', 'viewers: ["group:support", group:auditors]').replace(
        "prod: 3}", "prod: 4}")


def test_an_invalid_team_is_a_spec_error_naming_file_and_path_and_writes_nothing(
        where: Where, remote: Path) -> None:
    before = commits(remote)
    doc, etag = doc_of(where, "alpha")
    doc["spec"]["quota"] = {"cpu": "lots"}
    with pytest.raises(SpecError) as found:
        svc.update_team("alpha", doc, etag, ALICE, where)
    assert [str(i) for i in found.value.issues] == [
        'platform/teams/alpha.yaml: spec.quota.cpu: "lots": is not a Kubernetes quantity '
        "(for example 500m, 2, 8Gi)"]
    # valid alone, invalid with the rest of the platform (checked as apply checks it)
    doc, _ = doc_of(where, "alpha")
    doc["spec"]["network"] = {"allowFromTeams": ["nosuchteam"]}
    with pytest.raises(SpecError, match=r"platform/teams/alpha\.yaml: spec\.network"):
        svc.update_team("alpha", doc, etag, ALICE, where)
    assert commits(remote) == before


def test_create_and_offboard(where: Where, remote: Path) -> None:
    gamma = team_doc("gamma")
    created = svc.create_team(gamma, ALICE, where)
    assert created.etag == svc.spec_etags(where).teams["gamma"]
    assert "platform/teams/gamma.yaml" in files_of(remote)
    assert svc.create_team(gamma, ALICE, where).commit is None  # a retry: nothing to do
    other = team_doc("gamma", costCenter="CC-other")
    with pytest.raises(TeamExists, match="team gamma exists already"):
        svc.create_team(other, ALICE, where)
    root = Requester("user:root@example.com", "r3")
    before = commits(remote)
    with pytest.raises(OffboardingRefused, match="protected environments gamma-prod"):
        svc.delete_team("gamma", created.etag or "", root, where)
    assert commits(remote) == before
    with pytest.raises(PreconditionFailed):
        svc.delete_team("gamma", svc.spec_etags(where).teams["alpha"], root, where,
                        allow_offboarding=True)
    gone = svc.delete_team("gamma", created.etag or "", root, where, allow_offboarding=True)
    assert gone.etag is None and gone.commit is not None
    assert not any("gamma" in p for p in files_of(remote))
    with pytest.raises(NotFound, match="no team gamma"):
        svc.get_team("gamma", where)


def test_a_new_team_is_validated_before_anything_is_read(where: Where, remote: Path) -> None:
    before = commits(remote)
    bad = team_doc("gamma", owners=["nobody"], extra=1)
    with pytest.raises(SpecError) as found:
        svc.create_team(bad, ALICE, where)
    assert [str(i).split(": ")[:2] for i in found.value.issues] == [
        ["platform/teams/gamma.yaml", "spec.extra"],
        ["platform/teams/gamma.yaml", "spec.owners[0]"]]
    hostile = team_doc("gamma")
    hostile["metadata"]["name"] = "../../clusters/prod"
    with pytest.raises(SpecError, match=r'request: metadata.name: "\.\./\.\./clusters/prod"'):
        svc.create_team(hostile, ALICE, where)
    assert commits(remote) == before


def test_team_names_from_callers_are_never_paths(where: Where) -> None:
    for name in ("../platform", "alpha/../beta", "ALPHA", "", "a" * 64):
        with pytest.raises(NotFound, match=r"no team \(not a team name\)"):
            svc.get_team(name, where)


def test_requesters_cannot_forge_trailers_or_authors() -> None:
    with pytest.raises(SpecError, match="requestId"):
        Requester("user:alice@example.com", "r1\nRequested-By: user:admin")
    with pytest.raises(SpecError, match="requestedBy"):
        Requester("user:alice <admin@example.com>", "r1")


def test_concurrent_updates_to_different_teams_both_land(
        where: Where, remote: Path, tmp_path: Path) -> None:
    seeded = commits(remote)
    jobs = {"alpha": ("user:alice@example.com", "req-a"), "beta": ("user:bob@example.com", "req-b")}
    docs = {team: doc_of(where, team) for team in jobs}
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(team: str) -> None:
        doc, etag = docs[team]
        doc["spec"]["costCenter"] = f"CC-{team}"
        other = replica(where, tmp_path, team)
        svc.get_team(team, other)  # warm its cache, so both race on the push
        barrier.wait()
        try:
            svc.update_team(team, doc, etag, Requester(*jobs[team]), other)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(team,)) for team in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    new = commits(remote)[: -len(seeded)]
    assert len(new) == 2
    seen = set()
    for commit in new:
        message = git("log", "-1", "--format=%B", commit, cwd=remote)
        changed = git("diff", "--name-only", f"{commit}~1", commit, cwd=remote).split()
        team = next(t for t in jobs if f"platform/teams/{t}.yaml" in changed)
        subject, request = jobs[team]
        assert f"Requested-By: {subject}\n" in message and f"Request-Id: {request}\n" in message
        assert all(team in p for p in changed if not p.startswith(".goldenpath/owned/layout"))
        seen.add(team)
    assert seen == set(jobs)
    for team in jobs:
        assert svc.get_team(team, where).document["spec"]["costCenter"] == f"CC-{team}"
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=remote, check=True,
                   capture_output=True)


def test_a_push_race_reads_the_new_specs_and_redoes_the_change(
        where: Where, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replica b's first attempt is built on a base that replica a moves on before b
    pushes: b's push is rejected, b checks the specs out again (with a's change) and
    lands its own on top, without undoing a's."""
    alpha, alpha_tag = doc_of(where, "alpha")
    beta, beta_tag = doc_of(where, "beta")
    alpha["spec"]["costCenter"] = "CC-a"
    beta["spec"]["costCenter"] = "CC-b"
    checkout = specfiles.checkout
    raced: list[str] = []

    def checkout_then_race(*args: Any) -> Path:
        if not raced:  # a lands while b is working on its first attempt
            raced.append("")
            raced[0] = svc.update_team("alpha", alpha, alpha_tag, ALICE, where).commit or ""
        return checkout(*args)

    monkeypatch.setattr(specfiles, "checkout", checkout_then_race)
    change = svc.update_team("beta", beta, beta_tag, Requester("user:bob@example.com", "r-b"),
                             replica(where, tmp_path, "b"))
    assert change.result.attempts == 2
    assert git("rev-parse", "main~1", cwd=remote).strip() == raced[0]
    assert svc.get_team("alpha", where).document["spec"]["costCenter"] == "CC-a"
    assert svc.get_team("beta", where).document["spec"]["costCenter"] == "CC-b"
