"""A request that meets a down server (the git remote cannot be reached, the database is
unavailable) is not failed: the worker gives it back to the queue with a retry time that
doubles at each retry, and it completes exactly once when the server is back.

The outage is played at goldenpath's own seams (the spec commit of a scaffold, the batch
push of team changes) with the store's clock moved instead of sleeping;
tests/api/test_faults.py stops a real ``git daemon`` and a real PostgreSQL under a real
server process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from goldenpath.errors import GitError, GoldenpathError, RemoteUnavailable, StoreUnavailable
from goldenpath.gitops.repo import PushRejected
from goldenpath.services import gitops, servicerequests
from goldenpath.services.worker import Worker
from goldenpath.store import Store
from tests.api.conftest import BOTH_DATABASES, Api, Clock
from tests.api.test_batching import viewer_change
from tests.gitops.conftest import git

pytestmark = BOTH_DATABASES

RETRY = timedelta(seconds=5)
DOWN = "cannot fetch branch main from git://127.0.0.1:9/control.git: unable to connect " \
       "to 127.0.0.1: Connection refused"
#: what the writer raises once other writers (replicas, pipelines) pushed first at every
#: one of its attempts
RACED = PushRejected("git://127.0.0.1:9/control.git main moved on: cannot push branch main "
                     "to git://127.0.0.1:9/control.git: ! [rejected] main -> main (fetch first)")


def _down(times: int, error: GoldenpathError, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, but raising ``error`` the first ``times`` calls (the outage)."""
    calls = [0]

    def call(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise error
        return real(*args, **kwargs)

    return call


def _request(api: Api, rid: str) -> dict[str, Any]:
    body: dict[str, Any] = api.client.get(f"/v1/requests/{rid}",
                                          headers=api.auth("admin")).json()
    return body


def _worker(api: Api, store: Store) -> Worker:
    return Worker(api.settings, store, "w", retry=RETRY, retry_max=timedelta(seconds=8))


def _with_request_id(api: Api, rid: str) -> list[str]:
    return git("log", "--format=%H", f"--grep=^Request-Id: {rid}$", "main",
               cwd=api.control).split()


@pytest.mark.parametrize("error", [RemoteUnavailable(DOWN),
                                   StoreUnavailable("database x is unavailable"), RACED],
                         ids=["git-remote-down", "database-down", "push-race-lost"])
def test_a_scaffold_meeting_a_down_server_waits_and_completes_once(
        idle_api: Api, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch,
        error: GoldenpathError) -> None:
    monkeypatch.setattr(servicerequests.ControlRepository, "register",
                        _down(1, error, servicerequests.ControlRepository.register))
    answer = idle_api.client.post("/v1/teams/payments/services", headers=idle_api.auth("owner"),
                                  json={"name": "refunds", "template": "python-worker",
                                        "parameters": {"queue": "refunds"}})
    rid = answer.json()["id"]
    worker = _worker(idle_api, store)
    assert worker.run_once()
    waiting = _request(idle_api, rid)
    assert (waiting["state"], waiting["attempts"], waiting["retries"]) == ("queued", 1, 1)
    assert waiting["retry_at"] == (clock.now + RETRY).isoformat().replace("+00:00", "Z")
    assert idle_api.repositories() == []  # the pushed repository was taken back
    retry_at = (clock.now + RETRY).isoformat(timespec="seconds")
    assert waiting["log"][-1]["level"] == "warning"
    assert waiting["log"][-1]["message"] == (
        f"{type(error).__name__}: {error}; the request stays queued: retry 1 at {retry_at} "
        "(in 5s)")
    clock.now += RETRY - timedelta(seconds=1)
    assert not worker.run_once()  # not before its retry time
    clock.now += timedelta(seconds=1)
    assert worker.run_once()
    done = _request(idle_api, rid)
    assert (done["state"], done["attempts"]) == ("succeeded", 2), done
    assert idle_api.repositories() == ["payments/refunds"]
    assert _with_request_id(idle_api, rid) == [done["result"]["specCommit"]]


def test_a_batch_whose_remote_is_down_waits_whole_with_a_doubling_capped_backoff(
        idle_api: Api, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitops, "apply_edits",
                        _down(3, RemoteUnavailable(DOWN), gitops.apply_edits))
    ids = [viewer_change(idle_api, team) for team in ("payments", "storefront")]
    worker = _worker(idle_api, store)
    for retry, delay in ((1, 5), (2, 8), (3, 8)):  # 5 s, 10 s capped at 8 s, ...
        assert worker.run_once()
        at = (clock.now + timedelta(seconds=delay)).isoformat(timespec="seconds")
        for rid in ids:
            waiting = _request(idle_api, rid)
            assert waiting["state"] == "queued"
            assert waiting["log"][-1]["message"].endswith(f"retry {retry} at {at} (in {delay}s)")
        clock.now += timedelta(seconds=delay)
    assert worker.run_once()
    done = [_request(idle_api, rid) for rid in ids]
    assert [(d["state"], d["attempts"]) for d in done] == [("succeeded", 4)] * 2
    for rid, request in zip(ids, done, strict=True):
        assert _with_request_id(idle_api, rid) == [request["result"]["commit"]]


def test_a_batch_that_lost_every_push_race_waits_and_completes_once(
        idle_api: Api, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other replicas pushed first at each of the writer's attempts: contention, not a
    wrong request. The batch is given back whole and done on its retry, each change once."""
    monkeypatch.setattr(gitops, "apply_edits", _down(1, RACED, gitops.apply_edits))
    ids = [viewer_change(idle_api, team) for team in ("payments", "storefront")]
    worker = _worker(idle_api, store)
    assert worker.run_once()
    at = (clock.now + RETRY).isoformat(timespec="seconds")
    for rid in ids:
        waiting = _request(idle_api, rid)
        assert (waiting["state"], waiting["retries"]) == ("queued", 1)
        assert waiting["log"][-1]["message"] == (
            f"PushRejected: {RACED}; the request stays queued: retry 1 at {at} (in 5s)")
    clock.now += RETRY
    assert worker.run_once()
    done = [_request(idle_api, rid) for rid in ids]
    assert [(d["state"], d["attempts"]) for d in done] == [("succeeded", 2)] * 2
    for rid, request in zip(ids, done, strict=True):
        assert _with_request_id(idle_api, rid) == [request["result"]["commit"]]


def test_a_remote_that_answers_and_refuses_still_fails_the_batch(
        idle_api: Api, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = GitError("cannot push branch main to git://127.0.0.1/control.git: "
                       "[remote rejected] main -> main (pre-receive hook declined)")
    monkeypatch.setattr(gitops, "apply_edits", _down(1, refused, gitops.apply_edits))
    rid = viewer_change(idle_api, "payments")
    assert _worker(idle_api, store).run_once()
    failed = _request(idle_api, rid)
    assert (failed["state"], failed["result"]) == (
        "failed", {"error": "GitError", "message": str(refused)})

