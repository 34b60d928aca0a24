"""A rolling update for real: the previous release's code (extracted from git history)
and this version's, as processes of their own on one database migrated to this
version's head, on SQLite and PostgreSQL. Both submit and both work one queue against
one control repository: every request is done once (one commit each at the remote,
``git fsck`` clean; or, having lost every push race, failed with nothing at the remote),
its row records the release that claimed it; a request a replica
of the previous release claimed and lost to an expired lease is completed once, by this
version, and the old claim completes nothing. A queued request of the previous
release's database is done by this version's worker.

Skipped, saying why, when this checkout lacks the previous release's commit (a
shallow clone); the schema contract is then still checked at the SQL level by
tests/store/test_upgrades.py (the previous release's rows inserted into the head schema).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from goldenpath.services import teams as svc
from goldenpath.services.worker import Worker, release
from goldenpath.settings import Settings
from goldenpath.store import Store, migrate
from tests.api.conftest import BOTH_DATABASES, make_settings
from tests.factories import ROOT
from tests.gitops.conftest import git
from tests.remotes import counted_remote
from tests.store.conftest import Clock
from tests.store.upgrades import PREVIOUS_HEAD, OldCode, at_revision, fixture, previous_release

pytestmark = [BOTH_DATABASES, pytest.mark.slow]

REPLICA = Path(__file__).parents[1] / "store" / "replica.py"
OLD_VERSION = "0.1.0"


@dataclass
class Cluster:
    """One database and one control repository, shared by replicas of both versions."""

    settings: Settings
    remote: Path
    url: str
    meet: Path

    def open(self, clock: Clock | None = None) -> Store:
        if clock is None:
            return Store(self.url)
        return Store(self.url, clock=clock)

    def start(self, code: OldCode | None, mode: str, name: str,
              *teams: str) -> subprocess.Popen[str]:
        """A replica process: the previous release's code, or this version's (None)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GOLDENPATH_") and k != "PYTHONPATH"}
        env.update(PYTHONPATH=str(code.root) if code else str(ROOT),
                   GOLDENPATH_DATABASE_URL=self.url,
                   GOLDENPATH_STATE_DIR=str(self.meet / f"state-{name}"),
                   GOLDENPATH_PLATFORM_DIR=str(self.settings.platform_dir),
                   GOLDENPATH_TEMPLATES_ROOT=str(self.settings.templates_root),
                   GOLDENPATH_GITOPS_REPO=str(self.remote))
        return subprocess.Popen([sys.executable, str(REPLICA), mode, name, str(self.meet),
                                 *teams], env=env, cwd=self.meet, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    remote = counted_remote(tmp_path / "remote.git")
    url = database_url or f"sqlite:///{tmp_path / 'shared' / 'goldenpath.db'}"
    settings = make_settings(tmp_path, gitops_repo=str(remote), database_url=url,
                             api_workers=0)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    meet = tmp_path / "meet"
    meet.mkdir()
    yield Cluster(settings, remote, url, meet)


def wait_for(path: Path, processes: list[subprocess.Popen[str]], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"a replica ended early ({process.args}):\n"
                                     f"{process.communicate()[0]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.02)


def finish(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        try:
            output = process.communicate(timeout=150)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0]
        assert process.returncode == 0, output


def request_commits(remote: Path) -> dict[str, int]:
    """Request id -> how many commits at the remote name it (its side effects)."""
    log = git("log", "--format=%B%x00", "main", cwd=remote)
    found: dict[str, int] = {}
    for rid in re.findall(r"^Request-Id: (\S+)$", log, re.MULTILINE):
        found[rid] = found.get(rid, 0) + 1
    return found


def test_two_versions_work_one_queue_each_request_once(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    old = previous_release(tmp_path / "previous")
    store = cluster.open()
    try:
        assert store.migrate() is None  # this version migrated it: head
        new_teams = [f"new-{n}" for n in range(4)]
        for team in new_teams:  # submitted by this version
            store.requests.submit(kind="team.create", team=team, actor="admin",
                                  payload={"spec": {
                                      "apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
                                      "metadata": {"name": team},
                                      "spec": {"displayName": team.title(), "costCenter": "CC-9",
                                               "owners": ["user:alice@example.com"],
                                               "environments": ["dev"]}}})
        replicas = [cluster.start(old, "work", "old-replica", *[f"old-{n}" for n in range(4)]),
                    cluster.start(None, "work", "new-replica")]
        for name in ("old-replica", "new-replica"):
            wait_for(cluster.meet / f"{name}.ready", replicas)
        (cluster.meet / "go").touch()
        finish(replicas)
        done = store.requests.list(limit=100)
        assert len(done) == 8
        assert migrate.current(store.db) == migrate.head()
        # each request done once: one commit names it at the remote. A change that lost
        # the push race MAX_ATTEMPTS times in a row fails cleanly in the previous release
        # (final, nothing of it at the remote, that reason only); this release gives it
        # back to the queue instead (PushRejected is transient), so it is claimed again
        succeeded = [r for r in done if r.state == "succeeded"]
        lost = [r for r in done if r.state != "succeeded"]
        assert succeeded
        assert {(r.state, r.result["error"]) for r in lost} <= {("failed", "PushRejected")}, [
            (r.team, r.claimed_by_version, r.result) for r in lost]
        assert request_commits(cluster.remote) == {r.id: 1 for r in succeeded}
        by = {r.claimed_by_version: r.lease_owner for r in done}
        assert by == {OLD_VERSION: "old-replica", release(): "new-replica"}, by
        # no claim was taken over after a lease ran out: every claim beyond the first
        # is a retry a worker gave back (a push race lost at every attempt)
        assert all(r.attempts == 1 + r.retries for r in done), [
            (r.team, r.claimed_by_version, r.attempts, r.retries) for r in done]
        assert {r.payload_version for r in done} == {1}  # the old ones' by the default
        subprocess.run(["git", "fsck", "--strict"], cwd=cluster.remote, check=True,
                       capture_output=True)
    finally:
        store.close()


def test_a_claim_of_the_previous_release_lost_to_its_lease_completes_once(
        cluster: Cluster, tmp_path: Path) -> None:
    old = previous_release(tmp_path / "previous")
    store = cluster.open()
    try:
        store.migrate()
        rid = store.requests.submit(kind="team.create", team="t", actor="a",
                                    payload={}).request.id
        holder = cluster.start(old, "hold", "old-replica")
        wait_for(cluster.meet / "old-replica.ready", [holder])
        (cluster.meet / "go").touch()
        wait_for(cluster.meet / "old-replica.claimed", [holder])
        held = store.requests.get(rid)
        assert (held.claimed_by_version, held.lease_owner, held.attempts) == (
            OLD_VERSION, "old-replica", 1)
        assert held.lease_expires_at is not None
        later = Clock(held.lease_expires_at + timedelta(seconds=1))
        mine = cluster.open(later)
        try:
            (claim,) = mine.queue.claim("new-replica", version=release(),
                                        lease=timedelta(minutes=1),
                                        formats={"team.create": 1})
            assert (claim.request.id, claim.attempt) == (rid, 2)
            mine.queue.complete(claim, succeeded=True, result={"by": "new-replica"})
        finally:
            mine.close()
        (cluster.meet / "late").touch()
        finish([holder])
        outcome = (cluster.meet / "old-replica.outcome").read_text()
        assert outcome.startswith('"Conflict: request ' + rid + ": worker old-replica lost "
                                  "its claim (attempt 1; the request is now succeeded")
        final = store.requests.get(rid)
        assert (final.state, final.result, final.claimed_by_version, final.attempts) == (
            "succeeded", {"by": "new-replica"}, release(), 2)
    finally:
        store.close()


def test_a_queued_request_of_the_previous_releases_database_succeeds_here(
        cluster: Cluster) -> None:
    """No history needed: the previous release's rows are the committed fixture."""
    data = fixture()
    store = cluster.open(Clock(datetime.fromisoformat(data["now"])))
    try:
        at_revision(store, PREVIOUS_HEAD, data)
        assert store.migrate() == PREVIOUS_HEAD
        rid = data["requests"]["queued"]
        worker = Worker(cluster.settings, store, "new-replica")
        assert worker.run_once()
        done = store.requests.get(rid)
        assert (done.state, done.claimed_by_version, done.attempts) == (
            "succeeded", release(), 1), done.result
        assert request_commits(cluster.remote) == {rid: 1}
        assert "platform/teams/upgraded.yaml" in git(
            "ls-tree", "-r", "--name-only", "main", cwd=cluster.remote)
        (entry, *_) = store.audit.list(limit=1).entries
        assert (entry.request_id, entry.outcome) == (rid, "succeeded")
        # the running one's lease (the previous release's replica) still holds it
        assert store.requests.get(data["requests"]["running"]).attempts == 1
    finally:
        store.close()
