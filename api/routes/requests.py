"""``/requests/{id}``: follow a durable request (state, result, log; Server-Sent Events
while it runs) and, for platform admins, approve or reject one that waits.

A request is visible to whoever may read its team; to anyone else it does not exist
(404, the same answer as for an unknown id)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import waiting
from api.deps import PrincipalDep, SpecDep, StoreDep
from api.errors import RESPONSES, Problem
from api.schemas import Decision, LogOut, RequestOut
from goldenpath.identity import Principal
from goldenpath.services.access import PlatformAction, require_admin
from goldenpath.services.requests import FINAL, visible_request
from goldenpath.spec import PlatformSpec
from goldenpath.store import Store

router = APIRouter(prefix="/requests", tags=["requests"], responses={
    **RESPONSES, 404: {"model": Problem, "description": "No such request, or not yours to see"}})
KEEPALIVE_SECONDS = 15.0
_SSE_EXAMPLE = ('event: state\ndata: {"state": "running"}\n\n'
                'event: log\ndata: {"seq": 1, "level": "info", "message": "attempt 1"}\n\n'
                'event: state\ndata: {"state": "succeeded", "result": {}}\n\n')


@router.get("/{request_id}", operation_id="getRequest", response_model=RequestOut,
            summary="A request: state, result and log")
def get_request(request_id: str, principal: PrincipalDep, spec: SpecDep,
                store: StoreDep) -> RequestOut:
    request = visible_request(store, spec, principal, request_id)
    return RequestOut.of(request, store.requests.logs(request.id))


@router.get("/{request_id}/events", operation_id="followRequest",
            summary="Server-Sent Events: log lines and state changes until it ends",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example": _SSE_EXAMPLE}},
                             "description": "`state` and `log` events; the stream ends "
                                            "after a final state"}})
def follow_request(request_id: str, principal: PrincipalDep, spec: SpecDep,
                   store: StoreDep, http: Request) -> StreamingResponse:
    request = visible_request(store, spec, principal, request_id)
    return StreamingResponse(_events(store, request.id, http), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(store: Store, rid: str, http: Request) -> AsyncIterator[str]:
    """``state`` on every change, ``log`` per line; ends after a final state and its last
    lines. Woken by this process's notices of the request, else reads the store every
    ``RECHECK_SECONDS`` (another replica's worker may be doing it), in the thread pool:
    the event loop never blocks on the store."""
    seen, state, quiet = 0, None, time.monotonic()
    news = waiting.News(final_only=False)
    with store.notifier.watching(rid, news):
        while True:
            news.clear()
            request = await run_in_threadpool(store.requests.get, rid)
            lines = await run_in_threadpool(store.requests.logs, rid, after=seen)
            for line in lines:
                seen, quiet = line.seq, time.monotonic()
                yield _event("log", LogOut.of(line).model_dump(mode="json"), line.seq)
            if request.state != state:
                state, quiet = request.state, time.monotonic()
                data = {"state": state} | ({"result": request.result} if state in FINAL
                                           else {})
                yield _event("state", data)
            if state in FINAL or await http.is_disconnected():
                return
            if time.monotonic() - quiet >= KEEPALIVE_SECONDS:
                quiet = time.monotonic()  # a comment line: proxies keep the stream open
                yield ": waiting\n\n"
            await news.wait(min(waiting.RECHECK_SECONDS,
                                KEEPALIVE_SECONDS - (time.monotonic() - quiet)))


def _event(kind: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.post("/{request_id}/approve", operation_id="approveRequest",
             response_model=RequestOut, summary="Approve a pending request (admins)",
             responses={409: {"model": Problem, "description": "Not pending approval"}})
def approve(request_id: str, principal: PrincipalDep, spec: SpecDep, store: StoreDep,
            body: Decision | None = None) -> RequestOut:
    return _decide(request_id, principal, spec, store, body, approve=True)


@router.post("/{request_id}/reject", operation_id="rejectRequest",
             response_model=RequestOut, summary="Reject a pending request (admins)",
             responses={409: {"model": Problem, "description": "Not pending approval"}})
def reject(request_id: str, principal: PrincipalDep, spec: SpecDep, store: StoreDep,
           body: Decision | None = None) -> RequestOut:
    return _decide(request_id, principal, spec, store, body, approve=False)


def _decide(request_id: str, principal: Principal, spec: PlatformSpec, store: Store,
            body: Decision | None, *, approve: bool) -> RequestOut:
    require_admin(spec, principal, PlatformAction.APPROVE)
    reason = body.reason if body else None
    decide = store.requests.approve if approve else store.requests.reject
    request = decide(request_id, by=principal.actor, reason=reason)
    store.audit.append(actor=principal.actor, action=f"{request.kind}.decide",
                       outcome="approved" if approve else "rejected", team=request.team,
                       request=request.id, details={"reason": reason})
    return RequestOut.of(request)
