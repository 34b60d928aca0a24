"""``GET /audit``: the append-only audit trail, newest first, for platform admins."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from api.deps import PrincipalDep, SpecDep, StoreDep
from api.errors import RESPONSES
from api.schemas import AuditOut, AuditPageOut
from goldenpath.services.access import PlatformAction, require_admin

router = APIRouter(prefix="/audit", tags=["audit"], responses=RESPONSES)
_NUMBER = re.compile(r"[+-]?[0-9.eE+-]*")


def _iso_only(value: object) -> object:
    """pydantic reads a bare number as a Unix time; the document promises ISO 8601."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-29T12:00:00Z")
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_only)]


@router.get("", operation_id="listAudit", response_model=AuditPageOut,
            summary="Audit entries (admins); filter by team, actor, action and time")
def list_audit(
    *, principal: PrincipalDep, spec: SpecDep, store: StoreDep,
    team: Annotated[str | None, Query(max_length=63)] = None,
    actor: Annotated[str | None, Query(max_length=255, examples=["user:alice@example.com"])] = None,
    action: Annotated[str | None, Query(max_length=64, examples=["service.create"])] = None,
    since: Annotated[Moment | None, Query(description="inclusive; ISO 8601 (UTC if no zone)")
                     ] = None,
    until: Annotated[Moment | None, Query(description="exclusive; ISO 8601")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1,
                                        description="next_before of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPageOut:
    require_admin(spec, principal, PlatformAction.AUDIT)
    page = store.audit.list(team=team, actor=actor, action=action, since=_aware(since),
                            until=_aware(until), before=before, limit=limit)
    return AuditPageOut(entries=[AuditOut.of(e) for e in page.entries],
                        next_before=page.next_before)


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC (the store keeps UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
