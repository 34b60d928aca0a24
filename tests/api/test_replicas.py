"""Three replicas under load (issue 13, item 2): three ``goldenpath serve`` processes on
127.0.0.1, each with its own state directory and worker, sharing one PostgreSQL
database, one bare control repository and the service repositories' location
(``GOLDENPATH_SERVICE_REPOS=platform``), as the production overlay runs them.

Many clients at once, spread over the replicas: admins onboard teams, update teams with
``If-Match`` (some retried with the same ``Idempotency-Key`` against another replica,
one after the other or at the same moment; some pairs racing from the same version),
plan changes and scaffold services (one of them asked for by two clients at once).
Everything is then proven from its side effects,
not from logs: the request rows, the audit trail, the commits and their ``Request-Id``
trailers, the pushes each repository's ``post-receive`` hook counted, ``git fsck``, and
a plan of the final specs from scratch.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenpath.services import teams as svc
from goldenpath.services.worker import release
from tests.api.conftest import make_settings
from tests.api.served import ADMIN, Served, finals, fsck, request_ids, serving
from tests.api.test_batching import plan_from_scratch, trailers, with_teams
from tests.api.test_teams import new_team
from tests.gitops.conftest import git
from tests.remotes import counted_remote, pushes
from tests.store.pg import Server

pytestmark = pytest.mark.slow

REPLICAS = 3
#: new teams onboarded; the first RETRIED_ONBOARDINGS are sent twice at once with one key
ONBOARDINGS = 9
RETRIED_ONBOARDINGS = 3
#: existing teams updated once each, every other one retried with its key elsewhere
UPDATES = 9
#: teams two clients update from the same version: one wins, the other fails or is 412
RACES = 2
PLANS = 6
#: services scaffolded, each with its key sent to two replicas at once
SCAFFOLDS = 2
CLIENTS = 8
ACCEPTED = {200, 201, 202}
ZERO, MAIN = "0" * 40, "refs/heads/main"


@dataclass
class Answer:
    """One HTTP answer a client got: what it asked, where, and what came back."""

    what: str  # onboard | update | race | plan | scaffold
    subject: str  # the team (or team/service) it was about
    replica: int
    status: int
    body: dict[str, Any]
    key: str | None = None
    replayed: bool = False

    @property
    def request(self) -> str | None:
        return str(self.body["id"]) if self.status in ACCEPTED and "id" in self.body \
            else None


@dataclass
class Cluster:
    replicas: list[Served]
    remote: Path
    services: Path
    server: Server
    database: str
    seeded: str
    #: the example's four teams, then the teams the updates and races change
    teams: list[str]
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, replica: int) -> str:
        return self.replicas[replica % REPLICAS].url

    def call(self, what: str, subject: str, replica: int, method: str, path: str, *,
             key: str | None = None, **kwargs: Any) -> Answer:
        headers = {**ADMIN, **kwargs.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        got = httpx.request(method, f"{self.url(replica)}{path}", headers=headers,
                            timeout=60, **kwargs)
        answer = Answer(what, subject, replica % REPLICAS, got.status_code, got.json(), key,
                        got.headers.get("Idempotent-Replayed") == "true")
        with self.lock:
            self.answers.append(answer)
        return answer

    def of(self, what: str) -> list[Answer]:
        return [a for a in self.answers if a.what == what]

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.server.connect(self.database) as conn:
            return list(conn.execute(query, params or None).fetchall())


def service_repository(services: Path, team: str, name: str) -> Path:
    return services / team / f"{name}.git"


SERVICES = [("payments", f"refunds-{n}") for n in range(SCAFFOLDS)]
#: a service two clients ask for at once, each with its own key, on two replicas
CONTESTED = ("checkout", "contested")


@pytest.fixture
def cluster(tmp_path: Path, pg_server: Server) -> Iterator[Cluster]:
    database = f"replicas_{uuid.uuid4().hex[:16]}"
    pg_server.create_database(database)
    url = pg_server.url(database)
    remote = counted_remote(tmp_path / "control.git")
    services = tmp_path / "services"
    settings = make_settings(tmp_path, gitops_repo=str(remote), service_repos="platform")
    names = with_teams(settings, 4 + UPDATES + RACES)
    platform = settings.platform_dir / "platform.yaml"
    platform.write_text(platform.read_text().replace(
        "https://git.example.com/{team}/{service}.git", f"{services}/{{team}}/{{service}}.git"))
    for team, name in [*SERVICES, CONTESTED]:  # the git host's empty repositories
        counted_remote(service_repository(services, team, name))
    seeded = svc.seed(settings.platform_dir, svc.Where(settings=settings))
    assert seeded is not None and seeded.commit is not None
    replicas = [(settings.model_copy(update={"state_dir": tmp_path / f"replica-{n}"}),
                 tmp_path / f"replica-{n}.log") for n in range(REPLICAS)]
    try:
        with serving(replicas, GOLDENPATH_DATABASE_URL=url, GOLDENPATH_GITOPS_REPO=str(remote),
                     GOLDENPATH_SERVICE_REPOS="platform") as served:
            yield Cluster(served, remote, services, pg_server, database, seeded.commit,
                          names)
    finally:
        pg_server.drop_database(database)


# --- the clients ---------------------------------------------------------------------


def at_once(*calls: Callable[[], object]) -> None:
    """Make ``calls`` at the same moment, each from a thread of its own (a client that
    timed out and retried elsewhere while its first try was still on its way); the first
    error any of them met is raised here."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(30)
            call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def onboard(cluster: Cluster, n: int, replica: int) -> None:
    name = f"new-{n:02d}"
    cluster.call("onboard", name, replica, "POST", "/teams", key=f"onboard-{name}",
                 json=new_team(name, "user:alice@example.com"))


def read(cluster: Cluster, team: str, replica: int) -> tuple[dict[str, Any], str]:
    got = httpx.get(f"{cluster.url(replica)}/teams/{team}", headers=ADMIN, timeout=60)
    assert got.status_code == 200, got.text
    return got.json()["spec"], got.headers["ETag"]


def update(cluster: Cluster, team: str, n: int) -> None:
    """Read from one replica, write to the next; every other one is sent again with its
    key to the third: after the first answer, or at the same moment."""
    doc, etag = read(cluster, team, n)
    doc["spec"]["viewers"] = [f"user:{team}-viewer@example.com"]

    def put(replica: int) -> Callable[[], Answer]:
        return lambda: cluster.call("update", team, replica, "PUT", f"/teams/{team}",
                                    key=f"update-{team}", json=doc,
                                    headers={"If-Match": etag})

    if n % 4 == 0:
        put(n + 1)()
        put(n + 2)()
    elif n % 4 == 2:
        at_once(put(n + 1), put(n + 2))
    else:
        put(n + 1)()


def race(cluster: Cluster, team: str, n: int) -> None:
    """Two clients change the same team from the same version at the same moment."""
    doc, etag = read(cluster, team, n)

    def put(side: int) -> Callable[[], Answer]:
        mine = {**doc, "spec": {**doc["spec"], "displayName": f"Raced {side}"}}
        return lambda: cluster.call("race", team, n + side, "PUT", f"/teams/{team}",
                                    key=f"race-{team}-{side}", json=mine,
                                    headers={"If-Match": etag})

    at_once(put(0), put(1))


def plan(cluster: Cluster, team: str, n: int) -> None:
    doc, _ = read(cluster, team, n)
    doc["spec"]["viewers"] = ["user:planned@example.com"]
    cluster.call("plan", team, n + 1, "POST", f"/teams/{team}/plan", json=doc)


def scaffold(cluster: Cluster, team: str, name: str, replica: int, *,
             key: str | None = None) -> None:
    cluster.call("scaffold", f"{team}/{name}", replica, "POST", f"/teams/{team}/services",
                 key=key or f"scaffold-{team}-{name}",
                 json={"name": name, "template": "python-worker",
                       "parameters": {"queue": name}})


def load(cluster: Cluster, names: list[str]) -> None:
    """Every client call at once (CLIENTS threads), in a shuffled but fixed order."""
    updated, raced = names[4:4 + UPDATES], names[4 + UPDATES:]
    calls: list[Callable[[], None]] = []
    for n in range(ONBOARDINGS):
        if n < RETRIED_ONBOARDINGS:  # the same key at the same moment, elsewhere
            calls.append(lambda n=n: at_once(lambda: onboard(cluster, n, n),
                                             lambda: onboard(cluster, n, n + 1)))
        else:
            calls.append(lambda n=n: onboard(cluster, n, n))
    calls += [lambda n=n, team=team: update(cluster, team, n)
              for n, team in enumerate(updated)]
    calls += [lambda n=n, team=team: race(cluster, team, n) for n, team in enumerate(raced)]
    calls += [lambda n=n: plan(cluster, updated[n % len(updated)], n) for n in range(PLANS)]
    calls += [lambda n=n, team=team, name=name: at_once(
        lambda: scaffold(cluster, team, name, n), lambda: scaffold(cluster, team, name, n + 1))
        for n, (team, name) in enumerate(SERVICES)]
    calls.append(lambda: at_once(*[lambda r=r: scaffold(cluster, *CONTESTED, r, key=f"c-{r}")
                                   for r in (0, 1)]))
    random.Random(13).shuffle(calls)
    with ThreadPoolExecutor(CLIENTS) as pool:
        for done in [pool.submit(call) for call in calls]:
            done.result()


# --- the test ------------------------------------------------------------------------


def test_three_replicas_under_load_do_each_request_once(cluster: Cluster) -> None:
    pushed = pushes(cluster.remote)
    load(cluster, cluster.teams)

    # every answer was an acceptance or a plan, but for the losers of a race: a stale
    # If-Match, a service that exists (checked below, with the winners)
    contested = f"{CONTESTED[0]}/{CONTESTED[1]}"
    losers = [a for a in cluster.answers if a.what == "race" or a.subject == contested]
    assert all(a.status in ACCEPTED for a in cluster.answers if a not in losers), \
        [a for a in cluster.answers if a.status not in ACCEPTED]
    assert all(a.status in (*ACCEPTED, 409, 412) for a in losers)
    accepted = sorted({a.request for a in cluster.answers if a.request and a.what != "plan"})
    found = finals(cluster.url(0), accepted, 180)
    # every request succeeded but for the losers of the races (checked with the winners)
    lost = {a.request for a in losers}
    assert {rid: found[rid] for rid in accepted
            if rid not in lost and found[rid][0] != "succeeded"} == {}

    _one_request_per_key(cluster)
    _each_executed_once(cluster, accepted, found)
    _one_commit_per_succeeded_change(cluster, found)
    _races_have_one_winner(cluster, found)
    _scaffolds_created_once(cluster, found)
    _contested_service_created_once(cluster, found)
    _claims_recorded(cluster, accepted)
    # one commit per change, but not one push: changes claimed together share one
    assert pushes(cluster.remote) - pushed <= len(request_ids(cluster.remote, cluster.seeded))
    assert not plan_from_scratch(cluster.remote, cluster.services.parent / "fresh").has_changes
    fsck(cluster.remote)
    assert all(r.process.poll() is None for r in cluster.replicas)


def _one_request_per_key(cluster: Cluster) -> None:
    """A key sent to several replicas (at once or in turn) made one request: every
    answer for it names the same request, all but one say it was replayed, and the
    database holds one row for it."""
    by_key: dict[str, list[Answer]] = {}
    for answer in cluster.answers:
        if answer.key is not None and answer.request is not None:
            by_key.setdefault(answer.key, []).append(answer)
    repeated = {key: sent for key, sent in by_key.items() if len(sent) > 1}
    assert len(repeated) == RETRIED_ONBOARDINGS + len(range(0, UPDATES, 2)) + SCAFFOLDS
    for key, sent in repeated.items():
        assert len({a.request for a in sent}) == 1, (key, sent)
        assert sorted(a.replayed for a in sent) == [False] + [True] * (len(sent) - 1), sent
        assert len({a.replica for a in sent}) == len(sent)  # each to another replica
    rows = Counter(key for key, in cluster.rows(
        "SELECT idempotency_key FROM requests WHERE idempotency_key IS NOT NULL"))
    assert rows == Counter(dict.fromkeys(by_key, 1))
    total, = cluster.rows("SELECT count(*) FROM requests")[0]
    assert total == len(by_key)  # plans stored nothing, nothing else was stored


def _each_executed_once(cluster: Cluster, accepted: list[str],
                        found: dict[str, tuple[str, Any]]) -> None:
    """Submitted once and final once: one audited submission per request (however many
    replicas its key was sent to), one audited outcome (the completion the claim's
    fencing token allowed), and the row final with no lease left."""
    submitted = Counter(rid for rid, in cluster.rows(
        "SELECT request_id FROM audit WHERE outcome = 'submitted'"))
    assert submitted == Counter(dict.fromkeys(accepted, 1))
    outcomes = Counter(rid for rid, _ in cluster.rows(
        "SELECT request_id, outcome FROM audit WHERE outcome IN ('succeeded', 'failed')"))
    assert outcomes == Counter(dict.fromkeys(accepted, 1))
    states = dict(cluster.rows("SELECT id, state FROM requests"))
    assert states == {rid: state for rid, (state, _) in found.items()}
    assert not cluster.rows("SELECT id FROM requests WHERE lease_expires_at IS NOT NULL")


def _one_commit_per_succeeded_change(cluster: Cluster,
                                     found: dict[str, tuple[str, Any]]) -> None:
    """Every commit after the seed is one succeeded request's (its Request-Id, once);
    every succeeded request has its commit, the one its result names (or none, when a
    lease ran out under load and the request, claimed again, found its change landed
    already: the repository's commit is still its only one); no failed request has
    one."""
    ids = request_ids(cluster.remote, cluster.seeded)
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    commits = git("rev-list", f"{cluster.seeded}..main", cwd=cluster.remote).split()
    assert len(commits) == len(ids)  # no commit without a Request-Id
    succeeded = {rid for rid, (state, _) in found.items() if state == "succeeded"}
    assert set(ids) == succeeded
    attempts = dict(cluster.rows("SELECT id, attempts FROM requests"))
    for commit in commits:
        rid = trailers(cluster.remote, commit)["Request-Id"]
        result = found[rid][1]
        named = result.get("specCommit", result.get("commit"))
        assert named == commit or (named is None and attempts[rid] > 1), (rid, result)


def _races_have_one_winner(cluster: Cluster, found: dict[str, tuple[str, Any]]) -> None:
    for team in {a.subject for a in cluster.of("race")}:
        sides = [a for a in cluster.of("race") if a.subject == team]
        outcomes = sorted(found[a.request][0] if a.request else "412" for a in sides)
        assert outcomes in (["412", "succeeded"], ["failed", "succeeded"]), \
            (team, [found.get(a.request or "") for a in sides])
        for a in sides:
            if a.request and found[a.request][0] == "failed":
                assert found[a.request][1]["error"] == "PreconditionFailed"


def created_once(cluster: Cluster, repository: Path, rid: str, commit: str) -> None:
    """The repository's pushes (its hook's lines: old, new, ref): one creating ``main`` at
    ``commit``. Before it, only pairs of a creation and its deletion, at most one pair
    per retry of the request: a listing that lost every push race under load was given
    back to the queue, and its undo took the repository back first."""
    *undone, last = [line.split() for line in
                     (repository / "pushes.log").read_text().splitlines()]
    assert last == [ZERO, commit, MAIN], last
    [(retries,)] = cluster.rows("SELECT retries FROM requests WHERE id = %s", rid)
    assert len(undone) % 2 == 0 and len(undone) // 2 <= retries, undone
    for made, taken in zip(undone[::2], undone[1::2], strict=True):
        assert made[0] == ZERO and taken == [made[1], ZERO, MAIN], undone
    assert git("rev-list", "--all", cwd=repository).split() == [commit]


def _scaffolds_created_once(cluster: Cluster, found: dict[str, tuple[str, Any]]) -> None:
    """Each service repository was created once (see :func:`created_once`), holding the
    one commit the request's result names; the team lists the service once."""
    for team, name in SERVICES:
        [rid] = {a.request for a in cluster.of("scaffold") if a.subject == f"{team}/{name}"}
        state, result = found[rid]
        assert state == "succeeded", result
        repository = service_repository(cluster.services, team, name)
        created_once(cluster, repository, rid, result["commit"])
        fsck(repository)
        listed = git("show", f"main:platform/teams/{team}.yaml", cwd=cluster.remote)
        assert listed.count(f"- name: {name}\n") == 1


def _contested_service_created_once(cluster: Cluster,
                                    found: dict[str, tuple[str, Any]]) -> None:
    """Two requests for one new service: one creates it (one push, one listing); the
    other is refused at submission (409) or, when both were accepted before either ran,
    fails with a Conflict, and takes nothing of the winner's away."""
    team, name = CONTESTED
    asked = [a for a in cluster.of("scaffold") if a.subject == f"{team}/{name}"]
    outcomes = sorted(found[a.request][0] if a.request else str(a.status) for a in asked)
    assert outcomes in (["409", "succeeded"], ["failed", "succeeded"]), (asked, found)
    [(winner, won)] = [(a.request, found[a.request][1]) for a in asked
                       if a.request and found[a.request][0] == "succeeded"]
    for lost in [found[a.request][1] for a in asked
                 if a.request and found[a.request][0] == "failed"]:
        assert lost["error"] == "Conflict", lost
    repository = service_repository(cluster.services, team, name)
    created_once(cluster, repository, winner, won["commit"])
    assert git("show", f"main:platform/teams/{team}.yaml",
               cwd=cluster.remote).count(f"- name: {name}\n") == 1


def _claims_recorded(cluster: Cluster, accepted: list[str]) -> None:
    """Each request was claimed by one of the replicas' workers, of this version; the
    work was spread over more than one replica."""
    workers = {f"-{served.process.pid}-0": n for n, served in enumerate(cluster.replicas)}
    claimed = cluster.rows("SELECT id, lease_owner, claimed_by_version, attempts "
                           "FROM requests")
    assert sorted(rid for rid, *_ in claimed) == accepted
    by = set()
    for rid, owner, version, attempts in claimed:
        assert version == release(), rid
        assert attempts >= 1 and owner is not None, rid
        [replica] = [n for suffix, n in workers.items() if owner.endswith(suffix)]
        by.add(replica)
    assert len(by) > 1, by
