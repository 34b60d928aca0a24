"""The audit trail: who did what to which team, with which outcome.

Append-only by construction and by enforcement: this module has no update or delete, and
the migrations install triggers that make the database itself refuse ``UPDATE``,
``DELETE`` (and on PostgreSQL ``TRUNCATE``) on the ``audit`` table, so neither a bug nor
someone with goldenpath's database credentials and a SQL prompt edits history quietly
(dropping the trigger is DDL, visible, and needs the table's owner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from goldenpath.store.codec import MAX_JSON_BYTES, as_json, bounded, request_id
from goldenpath.store.db import Database
from goldenpath.store.records import AuditEntry, AuditPage
from goldenpath.store.schema import KIND_MAX, SUBJECT_MAX, TEAM_MAX, AuditRow

MAX_PAGE = 500
#: ids are 64-bit; a bound beyond them must not reach the driver (it raises, unwrapped)
_MAX_ID = 2**63 - 1
_OUTCOME_MAX = 32


@dataclass
class Audit:
    db: Database
    clock: Callable[[], datetime]
    max_details_bytes: int = MAX_JSON_BYTES

    def append(self, *, actor: str, action: str, outcome: str, team: str | None = None,
               request: str | None = None, details: Any = None) -> AuditEntry:
        bounded("audit actor", actor, SUBJECT_MAX)
        bounded("audit action", action, KIND_MAX)
        bounded("audit outcome", outcome, _OUTCOME_MAX)
        if team is not None:
            bounded("audit team", team, TEAM_MAX)
        rid = None if request is None else request_id(request)
        value = as_json(details, what="audit details", limit=self.max_details_bytes)
        at = self.clock()
        with self.db.transaction("append an audit entry") as conn:
            new_id = conn.execute(insert(AuditRow).values(
                at=at, actor=actor, action=action, team=team, request_id=rid,
                outcome=outcome, details=value).returning(AuditRow.id)).scalar_one()
        return AuditEntry(new_id, at, actor, action, team, rid, outcome, value)

    def list(self, *, team: str | None = None, actor: str | None = None,
             action: str | None = None, since: datetime | None = None,
             until: datetime | None = None, before: int | None = None,
             limit: int = 100) -> AuditPage:
        """Entries matching every filter, newest first; ``since`` inclusive, ``until``
        exclusive. Pages by id (``before``), so entries appended meanwhile never shift
        a page."""
        limit = max(1, min(limit, MAX_PAGE))
        query = select(AuditRow)
        for column, value in ((AuditRow.team, team), (AuditRow.actor, actor),
                              (AuditRow.action, action)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if until is not None:
            query = query.where(AuditRow.at < until)
        if before is not None:
            query = query.where(AuditRow.id < max(0, min(before, _MAX_ID)))
        query = query.order_by(AuditRow.id.desc()).limit(limit + 1)
        with self.db.transaction("list audit entries", write=False) as conn:
            rows = conn.execute(query).all()
        entries = [AuditEntry(r.id, r.at, r.actor, r.action, r.team, r.request_id, r.outcome,
                              r.details) for r in rows[:limit]]
        return AuditPage(entries, entries[-1].id if len(rows) > limit else None)
