"""Notices of the store's committed changes (goldenpath/store/notify.py), on both
databases: each waiter hears its own request's changes and nothing else, a final one
even when it began to listen just after; the queue's waiters hear what became claimable;
a second Store (another replica) on the same database announces nothing here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest

from goldenpath.store import Store
from goldenpath.store.notify import Notifier
from tests.store.conftest import Clock, Target

LEASE = timedelta(seconds=30)


def submit(store: Store, team: str = "payments", **kw: object) -> str:
    return store.requests.submit(kind="team.update", team=team, actor="user:a",
                                 payload={"team": team}, **kw).request.id  # type: ignore[arg-type]


@contextmanager
def heard(store: Store, *rids: str) -> Iterator[list[tuple[str, bool]]]:
    """Every notice of ``rids`` while the block runs, as (request, final)."""
    notices: list[tuple[str, bool]] = []
    with ExitStack() as stack:
        for rid in rids:
            stack.enter_context(store.notifier.watching(
                rid, lambda final, rid=rid: notices.append((rid, final))))
        yield notices


@contextmanager
def queue_heard(store: Store) -> Iterator[list[None]]:
    notices: list[None] = []
    with store.notifier.watching_queue(lambda: notices.append(None)):
        yield notices


def test_a_waiter_hears_its_requests_claim_log_and_completion_and_nothing_else(
        store: Store) -> None:
    mine, other = submit(store), submit(store, "storefront")
    with heard(store, mine) as notices:
        claims = store.queue.claim("w", version="t", lease=LEASE, limit=2)
        assert notices == [(mine, False)]  # claimed: running
        store.requests.append_log(mine, "working")
        store.requests.append_log(other, "working on the other one")
        assert notices == [(mine, False), (mine, False)]
        mine_claim, other_claim = sorted(claims, key=lambda c: c.request.id != mine)
        store.queue.complete(other_claim, succeeded=True)
        store.queue.heartbeat(mine_claim, lease=LEASE)  # the lease only: no news
        assert notices == [(mine, False), (mine, False)]
        store.queue.complete(mine_claim, succeeded=True, result={"ok": True})
        assert notices == [(mine, False), (mine, False), (mine, True)]
    store.requests.append_log(mine, "after the block")  # no longer heard
    assert notices == [(mine, False), (mine, False), (mine, True)]


def test_a_waiter_that_begins_after_its_request_was_finished_here_hears_it_at_once(
        store: Store) -> None:
    rid = submit(store)
    (claim,) = store.queue.claim("w", version="t", lease=LEASE)
    store.queue.complete(claim, succeeded=False, result={"error": "no"})
    with heard(store, rid) as notices:
        assert notices == [(rid, True)]


def test_only_the_latest_finals_are_remembered() -> None:
    notifier = Notifier(remembered=2)
    for rid in ("a", "b", "c"):
        notifier.changed(rid, final=True)
    woken: list[str] = []
    for rid in ("a", "b", "c"):
        with notifier.watching(rid, lambda final, rid=rid: woken.append(rid)):
            pass
    assert woken == ["b", "c"]


def test_the_queue_hears_what_becomes_claimable_now(store: Store) -> None:
    with queue_heard(store) as notices:
        submit(store)
        assert len(notices) == 1
        pending = submit(store, "storefront", needs_approval=True)
        assert len(notices) == 1  # waits for an admin: nothing to claim
        store.requests.approve(pending, by="group:platform-admins")
        assert len(notices) == 2
        first, second = store.queue.claim("w", version="t", lease=LEASE, limit=2)
        store.queue.release(first)
        assert len(notices) == 3
        store.queue.retry_later(second, after=timedelta(seconds=5))
        assert len(notices) == 3  # not claimable before its backoff is over


def test_a_rejected_request_is_final_news(store: Store) -> None:
    rid = submit(store, needs_approval=True)
    with heard(store, rid) as notices:
        store.requests.reject(rid, by="group:platform-admins", reason="no")
    assert notices == [(rid, True)]


def test_an_abandoned_request_is_final_news(store: Store, clock: Clock) -> None:
    rid = submit(store)
    store.queue.claim("w1", version="t", lease=LEASE, max_attempts=1)
    clock.advance(31)
    with heard(store, rid) as notices:
        assert store.queue.claim("w2", version="t", lease=LEASE, max_attempts=1) == []
    assert notices == [(rid, True)]
    assert store.requests.get(rid).state == "failed"


def test_a_change_made_through_another_store_is_not_heard_here(store: Store,
                                                               target: Target) -> None:
    """Another Store on the same database is another replica: its changes reach this
    one's waiters only when they read the database."""
    rid = submit(store)
    replica = target.open()
    try:
        with heard(store, rid) as notices, queue_heard(store) as queued:
            submit(replica, "storefront")
            (claim,) = replica.queue.claim("w", version="t", lease=LEASE)
            replica.queue.complete(claim, succeeded=True)
        assert (notices, queued) == ([], [])
        assert store.requests.get(rid).state == "succeeded"
    finally:
        replica.close()


def test_a_broken_waiter_does_not_fail_the_change_it_hears_of(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    rid = submit(store)
    (claim,) = store.queue.claim("w", version="t", lease=LEASE)

    def broken(final: bool) -> None:
        raise RuntimeError("the loop is closed")

    with store.notifier.watching(rid, broken), caplog.at_level(logging.ERROR):
        assert store.queue.complete(claim, succeeded=True).state == "succeeded"
    assert "a store notice's waiter failed" in caplog.text
