"""Faults survived by a real ``goldenpath serve`` process (issue 13, item 3), with real
servers stopped and started under it, bounded in time, on 127.0.0.1 only:

- PostgreSQL stopped under load (``pg_ctl stop``): writes fail fast with 503 and a message
  naming the database, ``/readyz`` says so, the worker waits; PostgreSQL started again on
  the same data: the same server process serves again and every request accepted before,
  during or after finishes exactly once (one commit per Request-Id).
- The git remote unreachable (its ``git daemon`` stopped): accepted requests stay queued
  and are retried with a doubling backoff (their log and the server's say when),
  ``/readyz`` names git, writes that need the specs get 503; the daemon started again on
  the same port: each request completes exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenpath.identity import Principal
from goldenpath.services import teamrequests, teams
from goldenpath.services.requests import NewServiceRequest, submit_new_service
from goldenpath.settings import Settings
from goldenpath.store import Store
from tests.api.conftest import make_settings
from tests.api.served import (
    ADMIN,
    FINAL,
    Served,
    finals,
    fsck,
    is_ready,
    request_ids,
    serve,
    until,
)
from tests.api.test_teams import new_team
from tests.gitdaemon import GitDaemon
from tests.gitops.conftest import git
from tests.store.pg import Server, required_bin, running_server

pytestmark = pytest.mark.slow

#: how long an answer may take while a server it needs is down ("fail fast")
FAST = 5.0


def timed(call: Any) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    answer = call()
    return answer, time.monotonic() - began


# --- PostgreSQL stopped under load -------------------------------------------------------


@dataclass
class Load:
    """Clients onboarding a new team each, in a loop, until stopped; every answer kept."""

    url: str
    answers: list[tuple[float, int, dict[str, Any], float]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, index: int) -> None:
        with httpx.Client(base_url=self.url, headers=ADMIN, timeout=30) as http:
            n = 0
            while not self.stopping.is_set():
                began = time.monotonic()
                answer = http.post("/teams", json=new_team(f"load-{index}-{n:03d}"))
                with self.lock:
                    self.answers.append((began, answer.status_code, answer.json(),
                                         time.monotonic() - began))
                n += 1
                time.sleep(0.05)

    def accepted(self) -> list[str]:
        with self.lock:
            return [body["id"] for _, status, body, _ in self.answers if status in {200, 202}]


@pytest.fixture
def postgresql() -> Iterator[Server]:
    """A PostgreSQL server of this test's own: it is stopped and started again."""
    with running_server(required_bin()) as server:
        server.create_database("faults")
        yield server


def test_postgresql_stopped_under_load(tmp_path: Path, postgresql: Server) -> None:
    settings = make_settings(tmp_path)
    with serve(settings, tmp_path / "server.log",
               GOLDENPATH_DATABASE_URL=postgresql.url("faults")) as served:
        _outage(settings, served, postgresql)


def _outage(settings: Settings, served: Served, postgresql: Server) -> None:
    control = settings.embedded_gitops_repo
    seeded = git("rev-parse", "main", cwd=control).strip()
    load = Load(served.url)
    clients = [threading.Thread(target=load.client, args=(n,)) for n in range(2)]
    for client in clients:
        client.start()
    try:
        until(lambda: len(load.accepted()) >= 4, 60, "requests accepted before the outage")
        before = len(load.accepted())
        stopped = time.monotonic()
        postgresql.stop()

        ready, took = timed(lambda: httpx.get(f"{served.url}/readyz", timeout=30))
        assert ready.status_code == 503 and took < FAST, (ready.text, took)
        database = f"database postgresql+psycopg://127.0.0.1:{postgresql.port}/faults"
        checks = ready.json()["checks"]
        assert checks["database"].startswith(f"{database} is unavailable (ping the database)")
        assert checks["git"] == "ok"
        until(lambda: sum(s == 503 for b, s, _, _ in load.answers if b > stopped) >= 4, 30,
              "writes refused during the outage")
        time.sleep(1)  # the worker meets the outage too
        postgresql.start()  # the same data directory and port
        restarted = time.monotonic()
        until(lambda: is_ready(served), 30, "/readyz once PostgreSQL is back")
        until(lambda: len(load.accepted()) >= before + 4, 60, "requests accepted after it")
    finally:
        load.stopping.set()
        for client in clients:
            client.join(60)

    # during the outage: 503 at once, saying which database and what to do; nothing else
    refused = [(body, took) for began, status, body, took in load.answers if status == 503]
    assert refused and all(took < FAST for _, took in refused), refused
    for body, _ in refused:
        assert body["error"] == "StoreUnavailable", body
        assert body["message"].startswith(f"{database} is unavailable (")
        assert body["message"].endswith("check that it is running and reachable and that "
                                        "GOLDENPATH_DATABASE_URL is right")
    assert {status for _, status, _, _ in load.answers} <= {202, 503}
    # (a write under way when PostgreSQL stopped may be refused; none begun once it is back)
    assert all(began + took >= stopped and began <= restarted
               for began, status, _, took in load.answers if status == 503)

    # every accepted request finishes, once: one commit with its id, no id twice
    accepted = load.accepted()
    found = finals(served.url, accepted, 120)
    assert {state for state, _ in found.values()} == {"succeeded"}, found
    ids = request_ids(control, seeded)
    assert len(ids) == len(set(ids)), ids
    assert set(accepted) <= set(ids)
    for rid, (_, result) in found.items():
        assert result["commit"] in (None, git("log", "-1", "--format=%H",
                                              f"--grep=^Request-Id: {rid}$", "main",
                                              cwd=control).strip())
    fsck(control)
    assert served.process.poll() is None  # the same process throughout
    warned = [line["message"] for line in served.lines() if line.get("level") == "warning"]
    assert any(m.startswith("worker ") and f"{database} is unavailable" in m
               for m in warned), warned[-20:]


# --- the git remote unreachable ----------------------------------------------------------


def test_the_git_remote_unreachable(tmp_path: Path) -> None:
    served_dir = tmp_path / "git"
    served_dir.mkdir()
    remote = served_dir / "control.git"
    git("init", "--bare", "-q", "-b", "main", str(remote))
    daemon = GitDaemon(served_dir)
    daemon.start()
    try:
        _unreachable(tmp_path, daemon, remote)
    finally:
        daemon.stop()


def _unreachable(tmp_path: Path, daemon: GitDaemon, remote: Path) -> None:
    url = daemon.url("control.git")
    settings = make_settings(tmp_path, gitops_repo=url)
    seeded = teams.seed(settings.platform_dir, teams.Where(settings=settings))
    assert seeded is not None and seeded.commit is not None
    with serve(settings, tmp_path / "server.log", GOLDENPATH_GITOPS_REPO=url) as served:
        _queued_while_down(settings, served, daemon, remote, seeded.commit)


def _queued_while_down(settings: Settings, served: Served, daemon: GitDaemon, remote: Path,
                       seeded: str) -> None:
    url = daemon.url("control.git")
    read = httpx.get(f"{served.url}/teams/payments", headers=ADMIN, timeout=30)
    assert read.status_code == 200, read.text
    doc = read.json()["spec"]
    doc["spec"]["viewers"] = ["user:auditor@example.com"]

    daemon.stop()
    ready, took = timed(lambda: httpx.get(f"{served.url}/readyz", timeout=30))
    assert ready.status_code == 503 and took < FAST, (ready.text, took)
    down = f"cannot reach {url}: unable to connect to 127.0.0.1:; 127.0.0.1[0: 127.0.0.1]: " \
           "errno=Connection refused"
    assert ready.json()["checks"] == {"database": "ok", "git": down, "state": "ok"}
    # a new write needs the specs to be decided: refused at once, saying why
    refused, took = timed(lambda: httpx.put(f"{served.url}/teams/payments", json=doc,
                                            headers={**ADMIN, "If-Match": read.headers["ETag"]},
                                            timeout=30))
    assert refused.status_code == 503 and took < FAST, (refused.text, took)
    assert refused.json()["error"] == "RemoteUnavailable"
    assert refused.json()["message"].startswith(f"cannot read branch main of {url}: unable "
                                                "to connect to 127.0.0.1:")

    # requests accepted before the remote went down, as another replica stored them
    # after deciding them on the specs it read (the services the API calls, through the
    # bare repository's path, which stays readable to this test)
    ids = _accept(settings, remote, doc, read.headers["ETag"])
    # GET /requests/{id} decides who may read it on the specs: 503 while git is down too
    assert httpx.get(f"{served.url}/requests/{ids[0]}", headers=ADMIN,
                     timeout=30).status_code == 503
    store = Store(sqlite_path=settings.database_path)
    try:
        until(lambda: all(store.requests.get(rid).retries >= 3 for rid in ids), 60,
              "three retries of each")
        waiting = [store.requests.get(rid) for rid in ids]
        assert [(r.state, r.result) for r in waiting] == [("queued", None)] * 2
        assert git("rev-parse", "main", cwd=remote).strip() == seeded
        for rid in ids:  # the backoff doubles: 0.5 s, 1 s, 2 s (the cap), 2 s, ...
            said = [line.message for line in store.requests.logs(rid)
                    if "the request stays queued" in line.message]
            assert said[0].startswith("RemoteUnavailable: cannot fetch branch main from "
                                      f"{url}: unable to connect to 127.0.0.1:")
            assert [m.rsplit(" (in ", 1)[1] for m in said[:3]] == ["0.5s)", "1s)", "2s)"]
            assert " retry 1 at 20" in said[0]
        logged = [line for line in served.lines() if "the request stays queued" in
                  line.get("message", "")]
        assert {line["request_id"] for line in logged} == set(ids)

        daemon.start()  # the same port
        until(lambda: all(store.requests.get(rid).state in FINAL for rid in ids), 60,
              "the requests to complete")
        done = [store.requests.get(rid) for rid in ids]
    finally:
        store.close()
    assert [r.state for r in done] == ["succeeded"] * 2, [r.result for r in done]
    ids_in_history = request_ids(remote, seeded)
    assert sorted(ids_in_history) == sorted(ids)  # each exactly once
    update, scaffold = done
    assert git("log", "-1", "--format=%H", f"--grep=^Request-Id: {update.id}$", "main",
               cwd=remote).strip() == update.result["commit"]
    assert git("log", "-1", "--format=%H", f"--grep=^Request-Id: {scaffold.id}$", "main",
               cwd=remote).strip() == scaffold.result["specCommit"]
    repository = settings.state_dir / "repos" / "payments" / "refunds.git"
    assert git("rev-parse", "main", cwd=repository).strip() == scaffold.result["commit"]
    team = git("show", "main:platform/teams/payments.yaml", cwd=remote)
    assert team.count("- name: refunds") == 1 and "user:auditor@example.com" in team
    fsck(remote)
    assert is_ready(served) and served.process.poll() is None


def _accept(settings: Settings, remote: Path, doc: dict[str, Any], etag: str) -> list[str]:
    """A team update and a scaffold, submitted through the services the API calls."""
    local = settings.model_copy(update={"gitops_repo": str(remote),
                                        "state_dir": settings.state_dir.parent / "replica"})
    where = teams.Where(settings=local)
    spec = teams.current_platform(where)
    admin = Principal.bootstrap_admin()
    store = Store(sqlite_path=settings.database_path)
    try:
        update = teamrequests.submit_update(store, spec, where, principal=admin,
                                            name="payments", document=doc, if_match=etag)
        scaffold = submit_new_service(
            settings, store, spec, principal=admin,
            team="payments", wanted=NewServiceRequest("refunds", "python-worker",
                                                      {"queue": "refunds"}))
    finally:
        store.close()
    assert (update.request.state, scaffold.request.state) == ("queued", "queued")
    return [update.request.id, scaffold.request.id]
