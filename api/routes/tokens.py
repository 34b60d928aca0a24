"""``/tokens``: platform admins mint API tokens for spec subjects, list and revoke them.
A token's secret is in the answer to ``POST`` once; the store keeps only its hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SpecDep, StoreDep
from api.errors import RESPONSES, Problem
from api.schemas import MintedTokenOut, NewToken, TokenOut
from goldenpath.errors import SpecError, SpecIssue
from goldenpath.identity.principal import is_subject
from goldenpath.services.access import PlatformAction, require_admin

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=RESPONSES)


@router.post("", operation_id="mintToken", status_code=201, response_model=MintedTokenOut,
             summary="Mint an API token for a subject (admins)",
             responses={422: {"model": Problem, "description": "Not a user: or group: subject"}})
def mint(body: NewToken, principal: PrincipalDep, spec: SpecDep,
         store: StoreDep) -> MintedTokenOut:
    require_admin(spec, principal, PlatformAction.MINT_TOKEN)
    if not is_subject(body.subject) or body.subject.startswith("serviceaccount:"):
        raise SpecError([SpecIssue("request body", "subject", "is not a user:<name> or "
                                   "group:<name> subject", value=body.subject, has_value=True)])
    minted = store.tokens.mint(subject=body.subject, name=body.name,
                               created_by=principal.actor, expires_at=_expiry(body.expires_at))
    store.audit.append(actor=principal.actor, action="token.mint", outcome="minted",
                       details={"id": minted.token.id, "subject": body.subject,
                                "name": body.name})
    return MintedTokenOut(token=TokenOut.of(minted.token), secret=minted.secret)


@router.get("", operation_id="listTokens", response_model=list[TokenOut],
            summary="API tokens without their secrets (admins)")
def list_tokens(principal: PrincipalDep, spec: SpecDep, store: StoreDep,
                subject: Annotated[str | None, Query(max_length=255)] = None) -> list[TokenOut]:
    require_admin(spec, principal, PlatformAction.MINT_TOKEN)
    return [TokenOut.of(t) for t in store.tokens.list(subject=subject)]


@router.delete("/{token_id}", operation_id="revokeToken", response_model=TokenOut,
               summary="Revoke an API token (admins)",
               responses={404: {"model": Problem, "description": "No such token"}})
def revoke(token_id: str, principal: PrincipalDep, spec: SpecDep,
           store: StoreDep) -> TokenOut:
    require_admin(spec, principal, PlatformAction.MINT_TOKEN)
    token = store.tokens.revoke(token_id, by=principal.actor)
    store.audit.append(actor=principal.actor, action="token.revoke", outcome="revoked",
                       details={"id": token.id, "subject": token.subject})
    return TokenOut.of(token)


def _expiry(moment: datetime | None) -> datetime | None:
    """A future expiry (UTC when it names no zone); a past one is the caller's error."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if aware <= datetime.now(UTC):
        raise SpecError([SpecIssue("request body", "expires_at", "is not in the future",
                                   value=aware.isoformat(), has_value=True)])
    return aware
