"""A request whose worker died is claimed again when its lease expires and completes
exactly once: the side effects (service repositories, spec entries) happen once.

The API runs no worker here (``idle_api``); the test plays both workers against the
same SQLite database, with a store whose clock it moves instead of sleeping."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from goldenpath.errors import Conflict, StoreError
from goldenpath.scaffold import vcs
from goldenpath.services import scaffold, servicerequests, teams
from goldenpath.services.worker import STARTED, Worker
from goldenpath.store import Claim, Store
from tests.api.conftest import BOTH_DATABASES, Api, Clock, wait_final
from tests.gitops.conftest import git

pytestmark = BOTH_DATABASES

LEASE = timedelta(seconds=30)
BODY = {"name": "refunds", "template": "python-worker", "parameters": {"queue": "refunds"}}


def _submit(api: Api) -> str:
    answer = api.client.post("/v1/teams/payments/services", json=BODY,
                             headers=api.auth("owner"))
    assert answer.status_code == 202, answer.text
    rid: str = answer.json()["id"]
    return rid


def _dead_worker(api: Api, store: Store, rid: str) -> Claim:
    (claim,) = store.queue.claim("worker-a", version="test", lease=LEASE)
    assert claim.request.id == rid
    return claim


def _listed(api: Api) -> list[str]:
    """The services of payments as the control repository lists them."""
    team = teams.current_platform(teams.Where(settings=api.settings)).team("payments")
    return [s.name for s in team.spec.services]


def _spec_commits(api: Api, rid: str) -> list[str]:
    """The control repository's commits made for request ``rid``."""
    return git("log", "--format=%H", f"--grep=^Request-Id: {rid}$", "main",
               cwd=api.control).split()


def _scaffold_as_the_worker(api: Api, store: Store, rid: str) -> scaffold.Scaffolded:
    """What the dead worker did of request ``rid`` before it was killed."""
    specs = servicerequests.team_specs(store.requests.get(rid), api.settings)
    return scaffold.new_service(api.settings, "payments", "refunds", "python-worker",
                                {"queue": "refunds"}, specs=specs)


def _take_over(api: Api, store: Store, clock: Clock, claim: Claim) -> None:
    clock.now += LEASE + timedelta(seconds=1)
    worker_b = Worker(api.settings, store, "worker-b", lease=LEASE)
    assert worker_b.run_once()
    with pytest.raises(Conflict, match="worker worker-a lost its claim"):
        store.queue.complete(claim, succeeded=True)  # the stale worker cannot finish it


def _finished_once(api: Api, rid: str) -> dict[str, object]:
    done = api.client.get(f"/v1/requests/{rid}", headers=api.auth("owner")).json()
    assert (done["state"], done["attempts"]) == ("succeeded", 2)
    assert api.repositories() == ["payments/refunds"]
    assert _listed(api).count("refunds") == 1
    assert len(_spec_commits(api, rid)) == 1  # listed by one commit, never two
    outcomes = [e["outcome"] for e in api.client.get(
        "/v1/audit", params={"action": "service.create"},
        headers=api.auth("admin")).json()["entries"]]
    assert outcomes == ["succeeded", "submitted"]
    return dict(done)


def test_died_after_claiming(idle_api: Api, store: Store, clock: Clock) -> None:
    rid = _submit(idle_api)
    claim = _dead_worker(idle_api, store, rid)
    _take_over(idle_api, store, clock, claim)
    _finished_once(idle_api, rid)


def test_died_after_pushing_and_listing_the_service(idle_api: Api, store: Store,
                                                    clock: Clock) -> None:
    rid = _submit(idle_api)
    claim = _dead_worker(idle_api, store, rid)
    store.requests.record_step(rid, STARTED)
    made = _scaffold_as_the_worker(idle_api, store, rid)  # then the process was killed
    assert made.spec_commit is not None
    assert _spec_commits(idle_api, rid) == [made.spec_commit]
    _take_over(idle_api, store, clock, claim)
    done = _finished_once(idle_api, rid)
    # the edit found the service listed: nothing committed again, no commit to name
    assert done["result"] == {"team": "payments", "service": "refunds",
                              "template": "python-worker", "version": made.version,
                              "repository": made.repository, "commit": made.commit,
                              "specCommit": None}
    assert "an earlier attempt stopped part way; resuming it" in [
        line["message"] for line in done["log"]]  # type: ignore[union-attr]


def test_died_after_pushing_before_listing(idle_api: Api, store: Store, clock: Clock,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _submit(idle_api)
    claim = _dead_worker(idle_api, store, rid)
    store.requests.record_step(rid, STARTED)
    with monkeypatch.context() as killed:  # killed between the push and the spec commit
        killed.setattr(servicerequests.ControlRepository, "register",
                       lambda *args: None)
        _scaffold_as_the_worker(idle_api, store, rid)
    assert _listed(idle_api).count("refunds") == 0
    assert idle_api.repositories() == ["payments/refunds"]
    _take_over(idle_api, store, clock, claim)
    done = _finished_once(idle_api, rid)
    assert done["result"]["specCommit"] == _spec_commits(idle_api, rid)[0]


def test_died_after_creating_an_empty_repository(idle_api: Api, store: Store,
                                                 clock: Clock) -> None:
    rid = _submit(idle_api)
    claim = _dead_worker(idle_api, store, rid)
    store.requests.record_step(rid, STARTED)
    vcs.create_bare(idle_api.repos / "payments" / "refunds.git")  # killed before the push
    _take_over(idle_api, store, clock, claim)
    _finished_once(idle_api, rid)


def test_a_finished_request_is_not_done_again(idle_api: Api, store: Store,
                                              clock: Clock) -> None:
    rid = _submit(idle_api)
    worker = Worker(idle_api.settings, store, "worker-a", lease=LEASE)
    assert worker.run_once()
    assert not worker.run_once()  # nothing left to claim
    clock.now += LEASE * 10
    assert not worker.run_once()
    done = idle_api.client.get(f"/v1/requests/{rid}", headers=idle_api.auth("owner")).json()
    assert (done["state"], done["attempts"]) == ("succeeded", 1)
    assert idle_api.repositories() == ["payments/refunds"]


def test_a_failing_request_fails_with_the_error_and_the_worker_goes_on(
        idle_api: Api, store: Store) -> None:
    rid = _submit(idle_api)
    shutil.rmtree(idle_api.settings.templates_root / "templates" / "python-worker")
    worker = Worker(idle_api.settings, store, "worker-a", lease=LEASE)
    assert worker.run_once()
    done = idle_api.client.get(f"/v1/requests/{rid}", headers=idle_api.auth("owner")).json()
    assert done["state"] == "failed"
    assert done["result"]["error"] == "NotFound"
    assert done["result"]["message"].startswith("template 'python-worker': ")
    assert done["log"][-1]["level"] == "error"
    assert idle_api.repositories() == []


_DOOMED = """
import time
from datetime import timedelta
from goldenpath.services import servicerequests, worker
from goldenpath.settings import Settings
from goldenpath.store import open_store

def stalled(*args, **kwargs):  # the repository is pushed; the spec commit never comes
    print("pushed", flush=True)
    time.sleep(3600)

servicerequests.ControlRepository.register = stalled
settings = Settings()
worker.Worker(settings, open_store(settings), "doomed", lease=timedelta(seconds=2)).run_once()
"""


def test_a_worker_process_killed_mid_request(idle_api: Api) -> None:
    """A real worker process, SIGKILLed after it pushed the repository and before it
    committed the listing; another worker takes the request over once the lease ran out."""
    rid = _submit(idle_api)
    settings = idle_api.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(PYTHONPATH=os.pathsep.join(sys.path),
               GOLDENPATH_PLATFORM_DIR=str(settings.platform_dir),
               GOLDENPATH_STATE_DIR=str(settings.state_dir),
               GOLDENPATH_TEMPLATES_ROOT=str(settings.templates_root),
               GOLDENPATH_DATABASE_URL=settings.database_url.get_secret_value())
    doomed = subprocess.Popen([sys.executable, "-c", _DOOMED], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "pushed"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    assert idle_api.repositories() == ["payments/refunds"]
    assert _listed(idle_api).count("refunds") == 0
    store = Store(settings.database_url.get_secret_value(), sqlite_path=settings.database_path)
    try:
        survivor = Worker(settings, store, "survivor", lease=timedelta(seconds=2))
        deadline = time.monotonic() + 30
        while not survivor.run_once():  # the lease must run out first
            assert time.monotonic() < deadline, "the request was never claimed again"
            time.sleep(0.2)
    finally:
        store.close()
    _finished_once(idle_api, rid)


def test_a_worker_survives_a_broken_claim_and_goes_on(idle_api: Api, store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _submit(idle_api)
    real = store.queue.claim
    calls: list[str] = []

    def flaky(*args: object, **kwargs: object) -> list[Claim]:
        calls.append("claim")
        if len(calls) == 1:
            raise RuntimeError("a bug")
        if len(calls) == 2:
            raise StoreError("the database is down")
        claims = real(*args, **kwargs)  # type: ignore[arg-type]
        if claims:  # after this claim: one request done is all the test needs
            worker.stop()
        return claims

    monkeypatch.setattr(store.queue, "claim", flaky)
    worker = Worker(idle_api.settings, store, "survivor", lease=LEASE, poll_seconds=0.01,
                    retry=timedelta(milliseconds=10))
    runner = threading.Thread(target=worker.run)
    runner.start()
    runner.join(60)
    assert not runner.is_alive()
    done = idle_api.client.get(f"/v1/requests/{rid}", headers=idle_api.auth("owner")).json()
    # two claims failed (a bug, the database), the worker went on and claimed it
    assert done["state"] == "succeeded" and len(calls) >= 3


def _remove_alice_as_owner(api: Api) -> None:
    """An admin makes bob payments' only owner, through the API (PUT with If-Match)."""
    answer = api.client.get("/v1/teams/payments", headers=api.auth("admin"))
    doc = answer.json()["spec"]
    doc["spec"]["owners"] = ["user:bob@example.com"]
    put = api.client.put("/v1/teams/payments", json=doc, headers={
        **api.auth("admin"), "If-Match": answer.headers["ETag"]})
    assert put.status_code == 202, put.text
    return put.json()["id"]  # type: ignore[no-any-return]


_REMOVED = ('team "payments": no such team, or you have no role in it; its owners or a '
            "platform admin can add you")


def test_an_owner_removed_before_execution_is_refused_and_nothing_is_created(
        idle_api: Api, store: Store) -> None:
    rid = _submit(idle_api)
    (held,) = store.queue.claim("worker-a", version="test", lease=LEASE)
    assert held.request.id == rid  # submitted while alice owned payments
    change = _remove_alice_as_owner(idle_api)
    worker = Worker(idle_api.settings, store, "worker-b", lease=LEASE)
    assert worker.run_once()  # the owner change lands first
    assert wait_final(idle_api, change)["state"] == "succeeded"
    done = worker.execute(held)
    assert done is not None and done.state == "failed"
    assert done.result == {"error": "Forbidden", "message": _REMOVED}
    assert idle_api.repositories() == []
    assert _listed(idle_api) == ["ledger", "settlement-worker"]
    assert _spec_commits(idle_api, rid) == []


def test_an_owner_removed_while_the_service_renders_gets_no_entry_and_no_repository(
        idle_api: Api, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Removed after the worker's first check, before its spec commit: the edit checks
    again on the specs it commits onto, and the pushed repository is taken back."""
    rid = _submit(idle_api)
    real = scaffold.publish

    def publish_then_removed(*args: object) -> str:
        commit = real(*args)  # type: ignore[arg-type]
        assert idle_api.repositories() == ["payments/refunds"]
        teams.update_team("payments", doc, etag, teams.Requester("user:ops@example.com",
                                                                 "removal"),
                          teams.Where(settings=idle_api.settings))
        return commit

    current = teams.get_team("payments", teams.Where(settings=idle_api.settings))
    doc, etag = dict(current.document), current.etag
    doc["spec"] = {**doc["spec"], "owners": ["user:bob@example.com"]}
    monkeypatch.setattr(scaffold, "publish", publish_then_removed)
    assert Worker(idle_api.settings, store, "worker-a", lease=LEASE).run_once()
    done = idle_api.client.get(f"/v1/requests/{rid}", headers=idle_api.auth("admin")).json()
    assert (done["state"], done["result"]) == (
        "failed", {"error": "Forbidden", "message": _REMOVED})
    assert idle_api.repositories() == []  # the undo removed it
    assert _listed(idle_api) == ["ledger", "settlement-worker"]
    assert _spec_commits(idle_api, rid) == []


def test_a_resumed_request_whose_owner_was_removed_takes_its_repository_back(
        idle_api: Api, store: Store, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the push; the owner is removed before another worker resumes it:
    the listing is refused and the repository the dead attempt pushed is removed."""
    rid = _submit(idle_api)
    claim = _dead_worker(idle_api, store, rid)
    store.requests.record_step(rid, STARTED)
    with monkeypatch.context() as killed:
        killed.setattr(servicerequests.ControlRepository, "register",
                       lambda *args: None)
        _scaffold_as_the_worker(idle_api, store, rid)
    assert idle_api.repositories() == ["payments/refunds"]
    change = _remove_alice_as_owner(idle_api)
    worker = Worker(idle_api.settings, store, "worker-b", lease=LEASE)
    assert worker.run_once()  # the change: the scaffold is still leased to worker-a
    assert wait_final(idle_api, change)["state"] == "succeeded"
    _take_over(idle_api, store, clock, claim)
    done = idle_api.client.get(f"/v1/requests/{rid}", headers=idle_api.auth("admin")).json()
    assert (done["state"], done["result"]["error"]) == ("failed", "Forbidden")
    assert idle_api.repositories() == []
    assert _spec_commits(idle_api, rid) == []
