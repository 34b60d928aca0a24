"""The work queue over the requests table: claim, heartbeat, complete, release.

The protocol, and why a request completes exactly once:

1. **claim** takes up to N requests that are queued, or running with an expired lease
   (their worker died or stalled), in one statement::

       UPDATE requests SET state='running', lease_owner=:worker, attempts=attempts+1, ...
       WHERE id IN (SELECT id FROM requests WHERE <claimable> ORDER BY created_at
                    LIMIT :n FOR UPDATE SKIP LOCKED)
       RETURNING ...

   On PostgreSQL ``FOR UPDATE SKIP LOCKED`` locks the chosen rows and skips rows another
   claimer holds, so concurrent claimers take disjoint sets without waiting; the lock
   re-checks the condition on the row's latest version, so a row claimed and committed
   meanwhile is not taken again. On SQLite the statement runs under ``BEGIN IMMEDIATE``
   (see :mod:`goldenpath.store.db`): one writer at a time, across processes.
2. ``attempts`` after the claim is the claim's **fencing token**. Heartbeat, complete and
   release are conditional updates ``WHERE id = :id AND state = 'running' AND
   lease_owner = :worker AND attempts = :attempt``. Once a lease expired and another
   worker claimed the request, ``attempts`` moved on, so the stale worker's heartbeat and
   completion match no row and it gets Conflict: only the latest claim can finish a
   request, and a finished request is never claimable again.
3. Leases only decide *when* a request may be claimed again, never who may complete it:
   a worker whose lease ran out but that nobody re-claimed still holds the latest attempt
   and may complete. Clock skew between replicas can make a re-claim early (more
   duplicated work, which idempotent steps absorb, see ``record_step``), never a second
   completion.

A request that keeps killing its workers would be claimed forever; claim marks one
failed instead once ``max_attempts`` claims of it have expired.

4. **retry_later** gives a claimed request back to the queue with a time before which
   no one claims it (``retry_at``), when a server it needs (the git remote, the
   database) is down: the worker's backoff. Such a claim ended on purpose, so it counts
   in ``retries``, not toward abandonment (``attempts - retries`` claims lost).

5. **Mixed versions** (a rolling update): a worker passes the payload ``formats`` it
   reads, so a request submitted in a format newer than its code stays queued for a
   worker that reads it, never fails in an old one; every claim records the claiming
   release in ``claimed_by_version``. Fencing (2) does not depend on the version: a
   request one release claimed, whose lease expired and another release claimed
   again, is completed once, by the latter.

Each committed claim, completion and give-back is announced on the store's notifier
(:mod:`goldenpath.store.notify`): this process's waiters read the row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, update

from goldenpath.errors import Conflict, StoreError
from goldenpath.store.codec import (
    MAX_JSON_BYTES,
    REQUEST_COLUMNS,
    as_json,
    bounded,
    request_id,
    to_request,
)
from goldenpath.store.db import Database
from goldenpath.store.notify import Notifier
from goldenpath.store.records import Claim, Request
from goldenpath.store.schema import (
    FAILED,
    NAME_MAX,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    RequestRow,
)

MAX_CLAIM = 100


@dataclass
class Queue:
    db: Database
    clock: Callable[[], datetime]
    max_result_bytes: int = MAX_JSON_BYTES
    notifier: Notifier = field(default_factory=Notifier)

    def claim(self, worker: str, *, version: str, lease: timedelta, limit: int = 1,
              max_attempts: int = 5, kinds: Collection[str] | None = None,
              other_kinds: bool = False,
              formats: Mapping[str, int] | None = None) -> list[Claim]:
        """Claim up to ``limit`` requests for ``worker``, oldest first: of ``kinds`` only
        (with ``other_kinds``: of every kind but those), or of any kind; with
        ``formats`` (kind -> the newest payload version the worker reads) only requests
        of those kinds in those formats. ``version`` is recorded on every claimed row
        (``claimed_by_version``): which release did the work."""
        bounded("worker id", worker, NAME_MAX)
        bounded("worker version", version, NAME_MAX)
        _check_lease(lease)
        now = self.clock()
        expires = now + lease
        expired = and_(RequestRow.state == RUNNING, RequestRow.lease_expires_at < now)
        # claims given back (retry_later) were not lost: only the others count
        lost = RequestRow.attempts - RequestRow.retries
        due = or_(RequestRow.retry_at.is_(None), RequestRow.retry_at <= now)
        chosen = (select(RequestRow.id)
                  .where(or_(and_(RequestRow.state == QUEUED, due),
                             and_(expired, lost < max_attempts)),
                         *_of_kinds(kinds, other_kinds), *_of_formats(formats))
                  .order_by(RequestRow.created_at, RequestRow.id)
                  .limit(max(1, min(limit, MAX_CLAIM)))
                  .with_for_update(skip_locked=True))
        with self.db.transaction("claim requests") as conn:
            abandoned = conn.execute(
                update(RequestRow)
                .where(expired, lost >= max_attempts)
                .values(state=FAILED, finished_at=now, updated_at=now, lease_expires_at=None,
                        result={"error": f"abandoned: {max_attempts} claims of it expired "
                                         "before it completed"})
                .returning(RequestRow.id)).scalars().all()
            rows = conn.execute(
                update(RequestRow).where(RequestRow.id.in_(chosen.scalar_subquery()))
                .values(state=RUNNING, lease_owner=worker, lease_expires_at=expires,
                        attempts=RequestRow.attempts + 1, started_at=now, updated_at=now,
                        claimed_by_version=version, retry_at=None)
                .returning(*REQUEST_COLUMNS)).all()
        for rid in abandoned:
            self.notifier.changed(rid, final=True)
        requests = sorted((to_request(row) for row in rows), key=lambda r: (r.created_at, r.id))
        for request in requests:
            self.notifier.changed(request.id)
        return [Claim(r, worker, r.attempts, expires) for r in requests]

    def heartbeat(self, claim: Claim, *, lease: timedelta) -> Claim:
        """Extend the claim's lease to ``lease`` from now; Conflict when it was lost."""
        _check_lease(lease)
        now = self.clock()
        with self.db.transaction("extend a request's lease") as conn:
            row = conn.execute(update(RequestRow).where(_held(claim))
                               .values(lease_expires_at=now + lease, updated_at=now)
                               .returning(*REQUEST_COLUMNS)).first()
        if row is None:
            raise self._lost(claim, "extend its lease")
        return Claim(to_request(row), claim.worker, claim.attempt, now + lease)

    def complete(self, claim: Claim, *, succeeded: bool, result: Any = None) -> Request:
        """Finish the request as succeeded or failed with ``result``; only the holder of
        the latest claim can, anyone else gets Conflict and changes nothing."""
        value = as_json(result, what="request result", limit=self.max_result_bytes)
        now = self.clock()
        with self.db.transaction("complete a request") as conn:
            row = conn.execute(update(RequestRow).where(_held(claim))
                               .values(state=SUCCEEDED if succeeded else FAILED, result=value,
                                       finished_at=now, updated_at=now, lease_expires_at=None)
                               .returning(*REQUEST_COLUMNS)).first()
        if row is None:
            raise self._lost(claim, "complete it")
        self.notifier.changed(row.id, final=True)
        return to_request(row)

    def release(self, claim: Claim) -> Request:
        """Give the request back to the queue (a worker shutting down cleanly)."""
        now = self.clock()
        with self.db.transaction("release a request") as conn:
            row = conn.execute(update(RequestRow).where(_held(claim))
                               .values(state=QUEUED, lease_owner=None, lease_expires_at=None,
                                       updated_at=now)
                               .returning(*REQUEST_COLUMNS)).first()
        if row is None:
            raise self._lost(claim, "release it")
        self.notifier.changed(row.id)
        self.notifier.queued()
        return to_request(row)

    def retry_later(self, claim: Claim, *, after: timedelta) -> Request:
        """Give the request back to the queue, not to be claimed again for ``after``: a
        server it needs is down. It counts as a retry, not as a lost claim, so however
        long the outage it is never abandoned for it; Conflict when the claim was lost."""
        if after < timedelta(0):
            raise StoreError(f"retry after {after}: must not be negative")
        now = self.clock()
        with self.db.transaction("give a request back to retry it") as conn:
            row = conn.execute(update(RequestRow).where(_held(claim))
                               .values(state=QUEUED, lease_owner=None, lease_expires_at=None,
                                       retries=RequestRow.retries + 1, retry_at=now + after,
                                       updated_at=now)
                               .returning(*REQUEST_COLUMNS)).first()
        if row is None:
            raise self._lost(claim, "give it back to retry it")
        self.notifier.changed(row.id)
        if after == timedelta(0):
            self.notifier.queued()
        return to_request(row)

    def _lost(self, claim: Claim, what: str) -> Conflict:
        rid = claim.request.id
        with self.db.transaction("read a request", write=False) as conn:
            row = conn.execute(select(RequestRow.state, RequestRow.lease_owner,
                                      RequestRow.attempts).where(RequestRow.id == rid)).first()
        now = "gone" if row is None else (
            f"{row.state}, attempt {row.attempts} by {row.lease_owner}")
        return Conflict(f"request {rid}: worker {claim.worker} lost its claim (attempt "
                        f"{claim.attempt}; the request is now {now}): cannot {what}; stop "
                        "working on it")


def _of_kinds(kinds: Collection[str] | None, other: bool) -> list[ColumnElement[bool]]:
    if kinds is None:
        return []
    chosen = sorted(kinds)
    return [RequestRow.kind.not_in(chosen) if other else RequestRow.kind.in_(chosen)]


def _of_formats(formats: Mapping[str, int] | None) -> list[ColumnElement[bool]]:
    if formats is None:
        return []
    readable = [and_(RequestRow.kind == kind, RequestRow.payload_version <= newest)
                for kind, newest in sorted(formats.items())]
    return [or_(*readable)] if readable else [false()]


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(RequestRow.id == request_id(claim.request.id), RequestRow.state == RUNNING,
                RequestRow.lease_owner == claim.worker, RequestRow.attempts == claim.attempt)


def _check_lease(lease: timedelta) -> None:
    if lease <= timedelta(0):
        raise StoreError(f"lease {lease}: must be positive")
