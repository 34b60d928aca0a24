"""Durable requests: submitted before a write is acknowledged, approved or rejected by an
admin when they need it, followed through their log and completed steps.

State machine (claiming, heartbeats and completion are in :mod:`goldenpath.store.queue`)::

    submit ──> pending-approval ──approve──> queued ──claim──> running ──> succeeded
         └───────────────────────────────────> ┘       reject ─> rejected      └──> failed

Every transition is one conditional ``UPDATE ... WHERE state = <expected>``: of two
admins deciding the same request at once, one wins and the other gets Conflict.

An ``Idempotency-Key`` is scoped to the actor who sent it: a retry with the same key and
the same (kind, team, payload) gets the first request back (``replayed``), the same key
with anything else is a Conflict, and no retry creates a second request. A unique index
on (actor, key) settles two retries that race.

A committed submission, decision and log line is announced on the store's notifier
(:mod:`goldenpath.store.notify`): this process's idle worker claims at once, its waiters
read at once.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exc, func, insert, select, update

from goldenpath.errors import Conflict, NotFound, StoreError
from goldenpath.store.codec import (
    MAX_JSON_BYTES,
    REQUEST_COLUMNS,
    as_json,
    bounded,
    canonical_json,
    digest,
    new_id,
    printable,
    request_id,
    to_request,
)
from goldenpath.store.db import Database
from goldenpath.store.notify import Notifier
from goldenpath.store.records import (
    LOG_LEVELS,
    LogLevel,
    LogLine,
    QueueStats,
    Request,
    Step,
    Submitted,
)
from goldenpath.store.schema import (
    KEY_MAX,
    KIND_MAX,
    PENDING_APPROVAL,
    QUEUED,
    REASON_MAX,
    REJECTED,
    STATES,
    STEP_MAX,
    SUBJECT_MAX,
    TEAM_MAX,
    RequestLogRow,
    RequestRow,
    RequestStepRow,
    UTCDateTime,
)

#: A log line longer than this is cut (a log must never fail the work it describes).
MAX_LOG_CHARS = 8192
MAX_PAGE = 500
#: payload formats are numbered from 1; a bound keeps them in a 32-bit integer column
MAX_PAYLOAD_VERSION = 1_000_000


class _Duplicate(Exception):
    """A unique key was taken between our read and our insert (internal)."""


@dataclass
class Requests:
    db: Database
    clock: Callable[[], datetime]
    max_payload_bytes: int = MAX_JSON_BYTES
    notifier: Notifier = field(default_factory=Notifier)

    def submit(self, *, kind: str, team: str, actor: str, payload: Any,
               needs_approval: bool = False, idempotency_key: str | None = None,
               payload_version: int = 1) -> Submitted:
        """Store a new request (queued, or pending-approval when ``needs_approval``).

        ``payload_version`` is the payload's format for its kind: only workers that read
        that format claim it (see ``Queue.claim``), so a replica of an older version
        never takes work in a format it does not know during a rolling update. Format 1
        is what every release since the first writes (the previous release's rows get 1
        when migrated)."""
        bounded("request kind", kind, KIND_MAX)
        if isinstance(payload_version, bool) or not isinstance(payload_version, int) \
                or not 1 <= payload_version <= MAX_PAYLOAD_VERSION:
            raise StoreError(f"request payload_version {payload_version!r}: must be an "
                             f"integer from 1 to {MAX_PAYLOAD_VERSION}")
        bounded("request team", team, TEAM_MAX)
        bounded("request actor", actor, SUBJECT_MAX)
        if idempotency_key is not None:
            bounded("Idempotency-Key", idempotency_key, KEY_MAX)
        data = canonical_json(payload, what="request payload", limit=self.max_payload_bytes)
        fingerprint = digest(kind.encode(), team.encode(), data)
        try:
            with self.db.transaction("submit a request") as conn:
                if idempotency_key is not None:
                    earlier = _by_key(conn, actor, idempotency_key)
                    if earlier is not None:
                        return _replay(earlier, fingerprint, idempotency_key)
                now = self.clock()
                statement = insert(RequestRow).values(
                    id=new_id(), kind=kind, team=team, actor=actor,
                    idempotency_key=idempotency_key, payload_digest=fingerprint,
                    payload_version=payload_version,
                    payload=as_json(payload, what="request payload", limit=len(data)),
                    state=PENDING_APPROVAL if needs_approval else QUEUED,
                    created_at=now, updated_at=now, attempts=0, log_seq=0,
                ).returning(*REQUEST_COLUMNS)
                try:
                    row = conn.execute(statement).one()
                except exc.IntegrityError as err:
                    if idempotency_key is None:
                        raise
                    raise _Duplicate from err
            if not needs_approval:
                self.notifier.queued()
            return Submitted(to_request(row), replayed=False)
        except _Duplicate:
            pass
        # Another submit with this key committed first: answer as its retry would be.
        with self.db.transaction("read a request by Idempotency-Key", write=False) as conn:
            earlier = _by_key(conn, actor, idempotency_key or "")
        if earlier is None:  # pragma: no cover - the unique index names no other key
            raise Conflict(f"request by {actor}: a concurrent request took its id; retry")
        return _replay(earlier, fingerprint, idempotency_key or "")

    def find_by_key(self, actor: str, idempotency_key: str) -> Request | None:
        """The request ``actor`` submitted with this Idempotency-Key, if any (a front door
        answers a retry with it before re-running checks that the first request's own
        effects would now fail)."""
        bounded("Idempotency-Key", idempotency_key, KEY_MAX)
        with self.db.transaction("read a request by Idempotency-Key", write=False) as conn:
            row = _by_key(conn, actor, idempotency_key)
        return None if row is None else to_request(row)

    def get(self, request: str) -> Request:
        rid = request_id(request)
        with self.db.transaction("read a request", write=False) as conn:
            row = conn.execute(select(*REQUEST_COLUMNS).where(RequestRow.id == rid)).first()
        if row is None:
            raise _not_found(rid)
        return to_request(row)

    def list(self, *, team: str | None = None, state: str | None = None,
             actor: str | None = None, kind: str | None = None,
             limit: int = 100, offset: int = 0) -> list[Request]:
        """Requests matching every filter given, newest first."""
        if state is not None and state not in STATES:
            raise NotFound(f"request state {state!r} does not exist; states: "
                           f"{', '.join(STATES)}", kind="state", name=state[:64])
        query = select(*REQUEST_COLUMNS)
        for column, value in ((RequestRow.team, team), (RequestRow.state, state),
                              (RequestRow.actor, actor), (RequestRow.kind, kind)):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(RequestRow.created_at.desc(), RequestRow.id.desc())
        query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
        with self.db.transaction("list requests", write=False) as conn:
            return [to_request(row) for row in conn.execute(query)]

    def approve(self, request: str, *, by: str, reason: str | None = None) -> Request:
        """pending-approval -> queued; any other state is a Conflict."""
        return self._decide(request, by=by, reason=reason, approve=True)

    def reject(self, request: str, *, by: str, reason: str | None = None) -> Request:
        """pending-approval -> rejected (final); any other state is a Conflict."""
        return self._decide(request, by=by, reason=reason, approve=False)

    def _decide(self, request: str, *, by: str, reason: str | None, approve: bool) -> Request:
        rid = request_id(request)
        bounded("decided by", by, SUBJECT_MAX)
        if reason is not None:
            bounded("decision reason", reason, REASON_MAX, empty=True)
        now = self.clock()
        values: dict[str, Any] = (
            {"state": QUEUED, "approved_by": by, "approved_at": now}
            if approve else
            {"state": REJECTED, "rejected_by": by, "rejected_at": now, "finished_at": now})
        verb = "approve" if approve else "reject"
        with self.db.transaction(f"{verb} a request") as conn:
            row = conn.execute(
                update(RequestRow)
                .where(RequestRow.id == rid, RequestRow.state == PENDING_APPROVAL)
                .values(**values, decision_reason=reason, updated_at=now)
                .returning(*REQUEST_COLUMNS)).first()
            state = None if row is not None else _state(conn, rid)
        if row is not None:
            self.notifier.changed(rid, final=not approve)
            if approve:
                self.notifier.queued()
            return to_request(row)
        raise Conflict(f"request {rid} is {state}: only a {PENDING_APPROVAL} request can be "
                       f"{verb}d")

    def append_log(self, request: str, message: str, *, level: LogLevel = "info") -> int:
        """Append one log line; returns its seq (1, 2, ... per request)."""
        seq, = self.append_logs([(request, message, level)])
        return seq

    def append_logs(self, lines: Sequence[tuple[str, str, LogLevel]]) -> builtins.list[int]:
        """Append (request, message, level) lines, to one request or several, in one
        transaction (a worker's batch logs each of its requests alike: one commit, not
        one per line); their seqs, in order. Nothing is appended when one is refused."""
        checked = [(request_id(rid), _log_message(message, level), level)
                   for rid, message, level in lines]
        counts = Counter(rid for rid, _, _ in checked)
        with self.db.transaction("append request log lines") as conn:
            # Bumping a request's counter locks its row: appenders of one request queue
            # up here, so seqs are dense and in commit order on both databases. Rows are
            # locked in id order: two batches over the same requests cannot deadlock.
            last: dict[str, int] = {}
            for rid in sorted(counts):
                bumped = conn.execute(
                    update(RequestRow).where(RequestRow.id == rid)
                    .values(log_seq=RequestRow.log_seq + counts[rid])
                    .returning(RequestRow.log_seq)).scalar()
                if bumped is None:
                    raise _not_found(rid)
                last[rid] = bumped - counts[rid]
            seqs, rows, at = [], [], self.clock()
            for rid, message, level in checked:
                last[rid] += 1
                seqs.append(last[rid])
                rows.append({"request_id": rid, "seq": last[rid], "at": at, "level": level,
                             "message": message})
            if rows:
                conn.execute(insert(RequestLogRow), rows)
        for rid in counts:
            self.notifier.changed(rid)
        return seqs

    def logs(self, request: str, *, after: int = 0, limit: int = 1000) -> builtins.list[LogLine]:
        """Log lines with seq > ``after``, oldest first (follow a request by passing the
        last seq seen)."""
        rid = request_id(request)
        query = (select(RequestLogRow).where(RequestLogRow.request_id == rid,
                                             RequestLogRow.seq > after)
                 .order_by(RequestLogRow.seq).limit(max(1, min(limit, 10_000))))
        with self.db.transaction("read a request's log", write=False) as conn:
            rows = conn.execute(query).all()
            if not rows:
                _state(conn, rid)
        return [LogLine(rid, r.seq, r.at, r.level, r.message) for r in rows]

    def step_done(self, request: str, name: str) -> Step | None:
        """The step's record when the request completed it before, else None."""
        rid = request_id(request)
        bounded("step name", name, STEP_MAX)
        with self.db.transaction("read a request step", write=False) as conn:
            return _step(conn, rid, name)

    def record_step(self, request: str, name: str, result: Any = None) -> Step:
        """Record that the step completed. The first record wins: recording it again
        (a re-claimed request that redid it) returns the first record unchanged."""
        rid = request_id(request)
        bounded("step name", name, STEP_MAX)
        value = as_json(result, what=f"step {name} result", limit=self.max_payload_bytes)
        try:
            with self.db.transaction("record a request step") as conn:
                earlier = _step(conn, rid, name)
                if earlier is not None:
                    return earlier
                _state(conn, rid)
                at = self.clock()
                try:
                    conn.execute(insert(RequestStepRow).values(
                        request_id=rid, name=name, result=value, at=at))
                except exc.IntegrityError as err:
                    raise _Duplicate from err
                return Step(name, value, at)
        except _Duplicate:
            pass
        with self.db.transaction("read a request step", write=False) as conn:
            step = _step(conn, rid, name)
        if step is None:  # pragma: no cover - only a committed step takes the key
            raise Conflict(f"request {rid}: step {name}: recorded concurrently; retry")
        return step

    def queue_stats(self) -> QueueStats:
        """How many requests wait in the queue and the age of the oldest (since it was
        queued: an approved request waits from its approval, not its submission)."""
        queued_since = func.coalesce(RequestRow.approved_at, RequestRow.created_at,
                                     type_=UTCDateTime())
        query = (select(func.count(), func.min(queued_since, type_=UTCDateTime()))
                 .where(RequestRow.state == QUEUED))
        with self.db.transaction("read the queue depth", write=False) as conn:
            depth, oldest = conn.execute(query).one()
        if not depth or oldest is None:
            return QueueStats(0, 0.0)
        return QueueStats(int(depth), max(0.0, (self.clock() - oldest).total_seconds()))

    def counts(self) -> dict[str, int]:
        """Requests per state, every state present (0 when none)."""
        query = select(RequestRow.state, func.count()).group_by(RequestRow.state)
        with self.db.transaction("count requests by state", write=False) as conn:
            found = {state: int(n) for state, n in conn.execute(query)}
        return {state: found.get(state, 0) for state in STATES}


def _log_message(message: str, level: str) -> str:
    """A log line as stored: printable, cut to its bound; an unknown level refused."""
    if level not in LOG_LEVELS:
        raise NotFound(f"log level {level!r} does not exist; levels: "
                       f"{', '.join(LOG_LEVELS)}", kind="level", name=str(level)[:16])
    message = printable(message)
    if len(message) > MAX_LOG_CHARS:
        cut = len(message) - MAX_LOG_CHARS
        message = f"{message[:MAX_LOG_CHARS]} ...[{cut} characters cut]"
    return message


def _by_key(conn: Connection, actor: str, key: str) -> Any:
    return conn.execute(
        select(*REQUEST_COLUMNS, RequestRow.payload_digest)
        .where(RequestRow.actor == actor, RequestRow.idempotency_key == key)).first()


def _replay(earlier: Any, fingerprint: str, key: str) -> Submitted:
    if earlier.payload_digest != fingerprint:
        raise Conflict(
            f"Idempotency-Key {key!r} was already used by {earlier.actor} for request "
            f"{earlier.id} ({earlier.kind} of team {earlier.team}) with a different "
            "payload; send a new key for a new request")
    return Submitted(to_request(earlier), replayed=True)


def _state(conn: Connection, rid: str) -> str:
    state = conn.execute(select(RequestRow.state).where(RequestRow.id == rid)).scalar()
    if state is None:
        raise _not_found(rid)
    return state


def _step(conn: Connection, rid: str, name: str) -> Step | None:
    row = conn.execute(select(RequestStepRow).where(
        RequestStepRow.request_id == rid, RequestStepRow.name == name)).first()
    return None if row is None else Step(row.name, row.result, row.at)


def _not_found(rid: str) -> NotFound:
    return NotFound(f"request {rid} not found", kind="request", name=rid)
