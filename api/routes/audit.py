"""``GET /audit``: the append-only audit trail, newest first, for platform admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SpecDep, StoreDep
from api.errors import RESPONSES
from api.schemas import AuditOut, AuditPageOut
from goldenpath.services.access import PlatformAction, require_admin

router = APIRouter(prefix="/audit", tags=["audit"], responses=RESPONSES)


@router.get("", operation_id="listAudit", response_model=AuditPageOut,
            summary="Audit entries (admins); filter by team, actor, action and time")
def list_audit(
    *, principal: PrincipalDep, spec: SpecDep, store: StoreDep,
    team: Annotated[str | None, Query(max_length=63)] = None,
    actor: Annotated[str | None, Query(max_length=255, examples=["user:alice@example.com"])] = None,
    action: Annotated[str | None, Query(max_length=64, examples=["service.create"])] = None,
    since: Annotated[datetime | None, Query(description="inclusive; ISO 8601 with a zone")] = None,
    until: Annotated[datetime | None, Query(description="exclusive")] = None,
    before: Annotated[int | None, Query(ge=1, description="next_before of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPageOut:
    require_admin(spec, principal, PlatformAction.AUDIT)
    page = store.audit.list(team=team, actor=actor, action=action, since=_aware(since),
                            until=_aware(until), before=before, limit=limit)
    return AuditPageOut(entries=[AuditOut.of(e) for e in page.entries],
                        next_before=page.next_before)


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC (the store keeps UTC)."""
    from datetime import UTC

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
