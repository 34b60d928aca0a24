"""The claim/lease protocol: disjoint claims across processes, lease expiry and re-claim,
and the fencing that keeps a stale worker from completing a request a second time."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from goldenpath.errors import Conflict
from goldenpath.store import FAILED, QUEUED, RUNNING, SUCCEEDED, Store
from tests.store import workers
from tests.store.conftest import Clock, Target

LEASE = timedelta(seconds=30)


def submit(store: Store, n: int = 1, **kw: object) -> list[str]:
    return [store.requests.submit(kind="team.update", team=f"team-{i}", actor="user:a",
                                  payload={"i": i}, **kw).request.id  # type: ignore[arg-type]
            for i in range(n)]


def test_claim_takes_the_oldest_queued_requests(store: Store, clock: Clock) -> None:
    ids = []
    for _ in range(3):
        ids += submit(store)
        clock.advance(1)
    claims = store.queue.claim("w1", version="1.2.3", lease=LEASE, limit=2)
    assert [c.request.id for c in claims] == ids[:2]
    first = store.requests.get(ids[0])
    assert (first.state, first.lease_owner, first.attempts, first.claimed_by_version,
            first.started_at, first.lease_expires_at) == (
        RUNNING, "w1", 1, "1.2.3", clock.now, clock.now + LEASE)
    assert claims[0].attempt == 1 and claims[0].lease_expires_at == clock.now + LEASE
    assert [c.request.id for c in store.queue.claim("w2", version="t", lease=LEASE,
                                                     limit=5)] == ids[2:]
    assert store.queue.claim("w3", version="t", lease=LEASE, limit=5) == []


def test_a_live_lease_is_not_claimed_again(store: Store, clock: Clock) -> None:
    submit(store)
    store.queue.claim("w1", version="t", lease=LEASE)
    clock.advance(29)
    assert store.queue.claim("w2", version="t", lease=LEASE) == []


def test_an_expired_lease_is_claimed_again_and_the_stale_worker_cannot_finish(
        store: Store, clock: Clock) -> None:
    (rid,) = submit(store)
    (stale,) = store.queue.claim("w1", version="t", lease=LEASE)
    clock.advance(31)
    (fresh,) = store.queue.claim("w2", version="t", lease=LEASE)
    assert (fresh.request.id, fresh.attempt, fresh.worker) == (rid, 2, "w2")
    lost = (f"request {rid}: worker w1 lost its claim (attempt 1; the request is now "
            f"running, attempt 2 by w2): cannot ")
    with pytest.raises(Conflict) as caught:
        store.queue.complete(stale, succeeded=True, result={"by": "w1"})
    assert str(caught.value) == lost + "complete it; stop working on it"
    with pytest.raises(Conflict) as caught:
        store.queue.heartbeat(stale, lease=LEASE)
    assert str(caught.value) == lost + "extend its lease; stop working on it"
    with pytest.raises(Conflict, match="cannot release it"):
        store.queue.release(stale)
    done = store.queue.complete(fresh, succeeded=True, result={"by": "w2"})
    assert (done.state, done.result, done.attempts) == (SUCCEEDED, {"by": "w2"}, 2)
    assert store.requests.get(rid).result == {"by": "w2"}


def test_the_same_worker_id_reclaiming_is_fenced_by_the_attempt(store: Store,
                                                              clock: Clock) -> None:
    """A restarted worker that reuses its id must not let its dead self complete."""
    submit(store)
    (old,) = store.queue.claim("w1", version="t", lease=LEASE)
    clock.advance(31)
    (new,) = store.queue.claim("w1", version="t", lease=LEASE)
    with pytest.raises(Conflict, match="lost its claim"):
        store.queue.complete(old, succeeded=True)
    assert store.queue.complete(new, succeeded=True).state == SUCCEEDED


def test_a_finished_request_is_never_claimed_or_completed_again(store: Store,
                                                              clock: Clock) -> None:
    submit(store)
    (claim,) = store.queue.claim("w1", version="t", lease=LEASE)
    store.queue.complete(claim, succeeded=False, result={"error": "x"})
    clock.advance(3600)
    assert store.queue.claim("w2", version="t", lease=LEASE) == []
    with pytest.raises(Conflict, match=r"the request is now failed, attempt 1 by w1\)"):
        store.queue.complete(claim, succeeded=True)
    assert store.requests.get(claim.request.id).state == FAILED


def test_heartbeat_extends_the_lease_so_no_one_else_claims(store: Store, clock: Clock) -> None:
    submit(store)
    (claim,) = store.queue.claim("w1", version="t", lease=LEASE)
    clock.advance(25)
    claim = store.queue.heartbeat(claim, lease=LEASE)
    assert claim.lease_expires_at == clock.now + LEASE
    clock.advance(25)
    assert store.queue.claim("w2", version="t", lease=LEASE) == []
    assert store.queue.complete(claim, succeeded=True).state == SUCCEEDED


def test_an_expired_lease_nobody_took_can_still_be_completed(store: Store,
                                                             clock: Clock) -> None:
    submit(store)
    (claim,) = store.queue.claim("w1", version="t", lease=LEASE)
    clock.advance(120)
    assert store.queue.complete(claim, succeeded=True).state == SUCCEEDED


def test_release_puts_the_request_back_in_the_queue(store: Store) -> None:
    (rid,) = submit(store)
    (claim,) = store.queue.claim("w1", version="t", lease=LEASE)
    assert store.queue.release(claim).state == QUEUED
    (again,) = store.queue.claim("w2", version="t", lease=LEASE)
    assert (again.request.id, again.attempt) == (rid, 2)


def test_a_request_whose_claims_keep_expiring_fails_after_max_attempts(
        store: Store, clock: Clock) -> None:
    (rid,) = submit(store)
    for n in range(3):
        assert [c.attempt for c in store.queue.claim(f"w{n}", version="t", lease=LEASE,
                                                     max_attempts=3)] == [n + 1]
        clock.advance(31)
    assert store.queue.claim("w9", version="t", lease=LEASE, max_attempts=3) == []
    dead = store.requests.get(rid)
    assert (dead.state, dead.result, dead.finished_at) == (
        FAILED, {"error": "abandoned: 3 claims of it expired before it completed"}, clock.now)


def test_a_request_given_back_to_retry_waits_out_its_backoff(store: Store,
                                                            clock: Clock) -> None:
    (rid,) = submit(store)
    (claim,) = store.queue.claim("w1", version="t", lease=LEASE)
    back = store.queue.retry_later(claim, after=timedelta(seconds=10))
    assert (back.state, back.lease_owner, back.retries, back.retry_at, back.attempts) == (
        QUEUED, None, 1, clock.now + timedelta(seconds=10), 1)
    clock.advance(9)
    assert store.queue.claim("w2", version="t", lease=LEASE) == []
    clock.advance(1)
    (again,) = store.queue.claim("w2", version="t", lease=LEASE)
    assert (again.request.id, again.attempt, again.request.retry_at) == (rid, 2, None)
    with pytest.raises(Conflict):  # the first claim is over: it cannot give it back again
        store.queue.retry_later(claim, after=timedelta(seconds=1))


def test_retries_do_not_count_toward_abandonment(store: Store, clock: Clock) -> None:
    """A request retried through a long outage is still claimed once its server is back,
    and is abandoned only after max_attempts claims of it expired."""
    (rid,) = submit(store)
    for _ in range(5):
        (claim,) = store.queue.claim("w1", version="t", lease=LEASE, max_attempts=3)
        store.queue.retry_later(claim, after=timedelta(0))
    for expired in range(3):
        (claim,) = store.queue.claim("w1", version="t", lease=LEASE, max_attempts=3)
        assert claim.attempt == 6 + expired
        clock.advance(31)
    assert store.queue.claim("w9", version="t", lease=LEASE, max_attempts=3) == []
    dead = store.requests.get(rid)
    assert (dead.state, dead.retries, dead.attempts) == (FAILED, 5, 8)


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_claiming_one_queue_each_get_every_request_exactly_once(
        target: Target, processes: int) -> None:
    store = target.open()
    ids = set(submit(store, 200))
    # Real processes, each with its own engine and connections. The fork server imports
    # the store once; every worker then starts as a fork of that clean process.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.store.workers"])
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    procs = [ctx.Process(target=workers.drain,
                         args=(target.url, str(target.sqlite_path), f"p{n}", barrier, out))
             for n in range(processes)]
    for proc in procs:
        proc.start()
    reports = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert [error for _, _, error in reports if error] == []
    claimed = [rid for _, got, _ in reports for rid in got]
    assert len(claimed) == 200 and set(claimed) == ids
    assert sum(1 for _, got, _ in reports if got) >= 2, "the processes did not overlap"
    by_worker = {rid: worker for worker, got, _ in reports for rid in got}
    for request in store.requests.list(limit=500):
        assert (request.state, request.attempts) == (SUCCEEDED, 1)
        assert request.result == {"worker": by_worker[request.id]}
    store.close()
