"""Requests: submission, Idempotency-Key, approval transitions, logs, steps, metrics."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from goldenpath.errors import Conflict, NotFound, SpecError, TooLarge
from goldenpath.store import FAILED, PENDING_APPROVAL, QUEUED, REJECTED, Store
from tests.store.conftest import Clock, Target

PAYLOAD = {"apiVersion": "goldenpath.io/v1", "kind": "Team", "metadata": {"name": "payments"}}


def submit(store: Store, **kw: object) -> str:
    args: dict[str, object] = {"kind": "team.create", "team": "payments",
                               "actor": "user:alice", "payload": PAYLOAD}
    args.update(kw)
    return store.requests.submit(**args).request.id  # type: ignore[arg-type]


def test_submit_stores_a_queued_request_that_reads_back(store: Store, clock: Clock) -> None:
    submitted = store.requests.submit(kind="team.create", team="payments",
                                      actor="user:alice", payload=PAYLOAD)
    got = store.requests.get(submitted.request.id)
    assert not submitted.replayed
    assert got == submitted.request
    assert (got.state, got.payload, got.actor, got.attempts) == (QUEUED, PAYLOAD, "user:alice", 0)
    assert got.created_at == got.updated_at == clock.now
    assert got.result is None and got.lease_owner is None


def test_needs_approval_waits_and_is_never_claimed(store: Store) -> None:
    rid = submit(store, needs_approval=True)
    assert store.requests.get(rid).state == PENDING_APPROVAL
    assert store.queue.claim("w", version="t", lease=timedelta(minutes=1), limit=10) == []


def test_same_idempotency_key_and_payload_returns_the_first_request(store: Store) -> None:
    first = store.requests.submit(kind="team.create", team="payments", actor="user:alice",
                                  payload=PAYLOAD, idempotency_key="k-1")
    again = store.requests.submit(kind="team.create", team="payments", actor="user:alice",
                                  payload=dict(reversed(PAYLOAD.items())),
                                  idempotency_key="k-1")
    assert again.replayed and again.request == first.request
    assert store.requests.counts()[QUEUED] == 1


@pytest.mark.parametrize("change", [{"payload": {**PAYLOAD, "spec": {}}},
                                    {"team": "billing"}, {"kind": "team.update"}])
def test_same_idempotency_key_for_another_request_is_a_conflict(
        store: Store, change: dict[str, object]) -> None:
    first = submit(store, idempotency_key="k-1")
    with pytest.raises(Conflict) as caught:
        submit(store, idempotency_key="k-1", **change)
    assert str(caught.value) == (
        f"Idempotency-Key 'k-1' was already used by user:alice for request {first} "
        "(team.create of team payments) with a different payload; send a new key for a new "
        "request")
    assert store.requests.counts()[QUEUED] == 1


def test_idempotency_keys_are_scoped_to_the_actor(store: Store) -> None:
    alice = submit(store, idempotency_key="k-1")
    bob = submit(store, idempotency_key="k-1", actor="user:bob",
                 payload={**PAYLOAD, "spec": {}})
    assert alice != bob


def test_concurrent_retries_with_one_key_make_one_request(target: Target) -> None:
    stores = [target.open() for _ in range(6)]
    ids: list[str] = []
    barrier = threading.Barrier(len(stores))

    def retry(s: Store) -> None:
        barrier.wait()
        ids.append(submit(s, idempotency_key="race"))

    threads = [threading.Thread(target=retry, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    check = target.open()
    assert len(ids) == 6 and len(set(ids)) == 1
    assert check.requests.counts()[QUEUED] == 1
    check.close()


def test_a_payload_over_the_bound_is_refused_and_nothing_is_stored(target: Target) -> None:
    small = Store(target.url, sqlite_path=target.sqlite_path, max_payload_bytes=64)
    with pytest.raises(TooLarge) as caught:
        submit(small, payload={"x": "y" * 100})
    assert str(caught.value) == "request payload: 108 bytes of JSON: over the limit of 64 bytes"
    assert sum(small.requests.counts().values()) == 0
    small.close()


@pytest.mark.parametrize(("field", "limit"), [("team", 63), ("actor", 255), ("kind", 64),
                                              ("idempotency_key", 255)])
def test_strings_over_their_column_bound_are_refused(store: Store, field: str,
                                                     limit: int) -> None:
    with pytest.raises(TooLarge, match=f": {limit + 1} characters: over the limit of {limit}$"):
        submit(store, **{field: "a" * (limit + 1)})
    assert sum(store.requests.counts().values()) == 0


def test_approve_queues_and_records_who_when_why(store: Store, clock: Clock) -> None:
    rid = submit(store, needs_approval=True)
    clock.advance(60)
    approved = store.requests.approve(rid, by="user:root", reason="quota ok")
    assert (approved.state, approved.approved_by, approved.approved_at,
            approved.decision_reason) == (QUEUED, "user:root", clock.now, "quota ok")


def test_reject_is_final(store: Store, clock: Clock) -> None:
    rid = submit(store, needs_approval=True)
    rejected = store.requests.reject(rid, by="user:root", reason="too big")
    assert (rejected.state, rejected.rejected_by, rejected.finished_at) == (
        REJECTED, "user:root", clock.now)
    for decide in (store.requests.approve, store.requests.reject):
        with pytest.raises(Conflict) as caught:
            decide(rid, by="user:root")
        assert str(caught.value).startswith(f"request {rid} is rejected: only a "
                                            "pending-approval request can be ")


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_only_pending_requests_can_be_decided(store: Store, verb: str) -> None:
    queued = submit(store)
    with pytest.raises(Conflict) as caught:
        getattr(store.requests, verb)(queued, by="user:root")
    assert str(caught.value) == (f"request {queued} is queued: only a pending-approval "
                                 f"request can be {verb}d")
    assert store.requests.get(queued).state == QUEUED
    assert store.requests.get(queued).approved_by is None


def test_approving_twice_is_refused(store: Store) -> None:
    rid = submit(store, needs_approval=True)
    store.requests.approve(rid, by="user:root")
    with pytest.raises(Conflict, match="is queued: only a pending-approval request"):
        store.requests.approve(rid, by="user:other")
    assert store.requests.get(rid).approved_by == "user:root"


@pytest.mark.parametrize("rid", ["00000000-0000-4000-8000-000000000000", "../etc/passwd",
                                 "", "x" * 10_000])
def test_unknown_or_malformed_ids_are_not_found(store: Store, rid: str) -> None:
    for call in (store.requests.get, store.requests.logs,
                 lambda r: store.requests.approve(r, by="user:root"),
                 lambda r: store.requests.append_log(r, "x")):
        with pytest.raises(NotFound, match=r"^request .* not found$"):
            call(rid)


def test_list_filters_and_orders_newest_first(store: Store, clock: Clock) -> None:
    a = submit(store)
    clock.advance(1)
    b = submit(store, team="billing", actor="user:bob")
    clock.advance(1)
    c = submit(store, kind="service.create", needs_approval=True)
    assert [r.id for r in store.requests.list()] == [c, b, a]
    assert [r.id for r in store.requests.list(team="payments")] == [c, a]
    assert [r.id for r in store.requests.list(actor="user:bob")] == [b]
    assert [r.id for r in store.requests.list(state=PENDING_APPROVAL)] == [c]
    assert [r.id for r in store.requests.list(kind="team.create", limit=1, offset=1)] == [a]
    with pytest.raises(NotFound, match="request state 'nope' does not exist"):
        store.requests.list(state="nope")


def test_log_lines_append_in_order_and_follow_by_seq(store: Store) -> None:
    rid = submit(store)
    assert [store.requests.append_log(rid, f"line {i}") for i in range(3)] == [1, 2, 3]
    store.requests.append_log(rid, "boom", level="error")
    lines = store.requests.logs(rid, after=2)
    assert [(line.seq, line.level, line.message) for line in lines] == [
        (3, "info", "line 2"), (4, "error", "boom")]


def test_a_huge_log_line_is_cut_not_refused(store: Store) -> None:
    rid = submit(store)
    store.requests.append_log(rid, "x" * 10_000)
    (line,) = store.requests.logs(rid)
    assert line.message == "x" * 8192 + " ...[1808 characters cut]"


def test_concurrent_log_appends_get_dense_unique_seqs(target: Target) -> None:
    first = target.open()
    rid = submit(first)
    stores = [first, *(target.open() for _ in range(3))]

    def append(s: Store, n: int) -> None:
        for i in range(10):
            s.requests.append_log(rid, f"{n}-{i}")

    threads = [threading.Thread(target=append, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [line.seq for line in first.requests.logs(rid)] == list(range(1, 41))
    for s in stores:
        s.close()


def test_a_batch_of_log_lines_to_several_requests_is_one_append(store: Store) -> None:
    first, second = submit(store), submit(store)
    store.requests.append_log(second, "before")
    seqs = store.requests.append_logs([(first, "a1", "info"), (second, "b2", "warning"),
                                       (first, "a2", "info"), (second, "x" * 9000, "error")])
    assert seqs == [1, 2, 2, 3]
    assert [(line.seq, line.level, line.message) for line in store.requests.logs(first)] == [
        (1, "info", "a1"), (2, "info", "a2")]
    assert [(line.seq, line.message[:6]) for line in store.requests.logs(second)] == [
        (1, "before"), (2, "b2"), (3, "xxxxxx")]
    assert store.requests.logs(second)[-1].message.endswith(" ...[808 characters cut]")
    assert store.requests.append_logs([]) == []


@pytest.mark.parametrize("bad", [("unknown", "info"), ("known", "loud")])
def test_a_batch_with_one_refused_line_appends_nothing(store: Store,
                                                      bad: tuple[str, str]) -> None:
    rid = submit(store)
    other = rid if bad[0] == "known" else "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFound):
        store.requests.append_logs([(rid, "fine", "info"),
                                    (other, "refused", bad[1])])  # type: ignore[list-item]
    assert store.requests.logs(rid) == []
    assert store.requests.append_log(rid, "next") == 1


def test_concurrent_batches_over_the_same_requests_get_dense_seqs(target: Target) -> None:
    """Two writers appending to the same requests in opposite orders, each batch in one
    transaction: rows are locked in one order, so neither deadlocks."""
    first = target.open()
    rids = [submit(first) for _ in range(3)]
    stores = [first, target.open()]

    def append(s: Store, order: list[str]) -> None:
        for i in range(10):
            s.requests.append_logs([(rid, f"{i}", "info") for rid in order])

    threads = [threading.Thread(target=append, args=(s, order))
               for s, order in zip(stores, (rids, rids[::-1]), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rid in rids:
        assert [line.seq for line in first.requests.logs(rid)] == list(range(1, 21))
    for s in stores:
        s.close()


def test_steps_are_recorded_once_and_skipped_after(store: Store, clock: Clock) -> None:
    rid = submit(store)
    assert store.requests.step_done(rid, "repository pushed") is None
    first = store.requests.record_step(rid, "repository pushed", {"sha": "abc"})
    clock.advance(5)
    again = store.requests.record_step(rid, "repository pushed", {"sha": "def"})
    assert again == first == store.requests.step_done(rid, "repository pushed")
    assert first.result == {"sha": "abc"} and first.at == clock.now - timedelta(seconds=5)
    assert store.requests.step_done(rid, "spec committed") is None
    with pytest.raises(NotFound):
        store.requests.record_step("00000000-0000-4000-8000-000000000000", "x")


def test_queue_depth_and_the_age_of_the_oldest(store: Store, clock: Clock) -> None:
    stats = store.requests.queue_stats()
    assert (stats.depth, stats.oldest_age_seconds) == (0, 0.0)
    pending = submit(store, needs_approval=True)
    clock.advance(100)
    submit(store)
    clock.advance(10)
    assert store.requests.queue_stats().depth == 1
    assert store.requests.queue_stats().oldest_age_seconds == 10.0
    store.requests.approve(pending, by="user:root")  # queued from now, not from submission
    clock.advance(2)
    stats = store.requests.queue_stats()
    assert (stats.depth, stats.oldest_age_seconds) == (2, 12.0)


def test_counts_by_state_name_every_state(store: Store) -> None:
    submit(store)
    submit(store, needs_approval=True)
    rejected = submit(store, needs_approval=True)
    store.requests.reject(rejected, by="user:root")
    (claim,) = store.queue.claim("w", version="t", lease=timedelta(minutes=1))
    store.queue.complete(claim, succeeded=False, result={"error": "x"})
    assert store.requests.counts() == {"pending-approval": 1, "queued": 0, "running": 0,
                                       "succeeded": 0, FAILED: 1, "rejected": 1}


@pytest.mark.parametrize(("payload", "message"), [
    ({"spec": {"owners": ["a\x00b"]}},
     'request payload: spec.owners[0]: "a\\x00b": NUL characters are not allowed'),
    ({"spec": {"n\x00": 1}},
     'request payload: spec: "n\\x00": NUL characters are not allowed (in a key)'),
    ({"spec": {"name": "\ud800"}},
     'request payload: spec.name: "\\ud800": lone surrogates are not text'),
    ({"spec": {"cpu": float("nan")}}, "request payload: spec.cpu: nan: not a finite number"),
    ({"spec": {"cpu": [float("inf")]}}, "request payload: spec.cpu[0]: inf: not a finite number"),
    ({"spec": {"cpu": 2**64}},
     "request payload: spec.cpu: 18446744073709551616: outside the 64-bit integer range"),
    ({"spec": {1: "x"}}, "request payload: spec: 1: keys must be strings"),
])
def test_hostile_payloads_are_refused_on_both_databases_and_nothing_is_stored(
        store: Store, payload: object, message: str) -> None:
    """Each would be stored differently by the two databases (NaN as null, NUL refused by
    PostgreSQL's JSONB as a server error) or not at all; each is a clear 422, not a 503."""
    with pytest.raises(SpecError) as caught:
        submit(store, payload=payload)
    assert [str(issue) for issue in caught.value.issues] == [message]
    assert sum(store.requests.counts().values()) == 0


def test_hostile_text_in_a_log_line_is_kept_visible_not_refused(store: Store) -> None:
    rid = submit(store)
    store.requests.append_log(rid, "git said: a\x00b \ud800")
    assert store.requests.logs(rid)[0].message == "git said: a\\x00b \\ud800"


@pytest.mark.parametrize("field", ["team", "actor", "idempotency_key"])
def test_nul_in_a_name_is_refused(store: Store, field: str) -> None:
    with pytest.raises(SpecError, match="NUL characters are not allowed"):
        submit(store, **{field: "pay\x00ments"})
    assert sum(store.requests.counts().values()) == 0


@pytest.mark.parametrize("depth", [66, 100_000])
def test_deeply_nested_payloads_are_refused_without_recursion(store: Store,
                                                              depth: int) -> None:
    deep: list[object] = []
    for _ in range(depth):
        deep = [deep]
    with pytest.raises(SpecError) as caught:
        submit(store, payload=deep)
    assert str(caught.value.issues[0]) == (
        "request payload: " + "[0]" * 40 + ": nested deeper than 64 levels")
    assert sum(store.requests.counts().values()) == 0
