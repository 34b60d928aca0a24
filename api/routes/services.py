"""``POST /teams/{team}/services``: scaffold a service from a golden path.

Checked at once as ``goldenpath new-service`` checks it (role, name, template,
parameters, repository free), stored as a durable ``service.create`` request, done by a
worker. The answer waits briefly (``GOLDENPATH_API_WRITE_WAIT_SECONDS``, on the event
loop: see :mod:`api.waiting`): ``201`` with the finished request when it succeeded by
then, else ``202`` with the request to follow at ``Location``. The checks run in the
thread pool (they read git and the templates).
"""

from __future__ import annotations

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import waiting
from api.deps import IdempotencyKey, PrincipalDep, SettingsDep, SpecDep, StoreDep
from api.errors import RESPONSES, Problem
from api.schemas import NewService, RequestOut
from goldenpath.services.requests import NewServiceRequest, submit_new_service
from goldenpath.store import SUCCEEDED

router = APIRouter(prefix="/teams/{team}/services", tags=["services"], responses=RESPONSES)

TeamName = Path(min_length=1, max_length=63, description="The team's name",
                examples=["payments"])


@router.post("", operation_id="createService", status_code=202,
             response_model=RequestOut, summary="Scaffold a service (a durable request)",
             responses={201: {"model": RequestOut, "description": "Created within the wait"},
                        202: {"description": "Accepted: follow the request"},
                        404: {"model": Problem, "description": "No such template"},
                        409: {"model": Problem, "description": "The service or its "
                              "repository exists, or the Idempotency-Key was used otherwise"},
                        413: {"model": Problem, "description": "Body too large"},
                        422: {"model": Problem, "description": "Invalid name or parameters"}})
async def create_service(*, team: str, body: NewService, principal: PrincipalDep,
                         settings: SettingsDep, spec: SpecDep, store: StoreDep,
                         idempotency_key: IdempotencyKey = None) -> JSONResponse:
    wanted = NewServiceRequest(body.name, body.template, dict(body.parameters))
    submitted = await run_in_threadpool(
        submit_new_service, settings, store, spec, principal=principal, team=team,
        wanted=wanted, idempotency_key=idempotency_key)
    request = await waiting.final(store, submitted.request, settings.api_write_wait_seconds)
    headers = {"Location": f"/v1/requests/{request.id}"}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    status = 201 if request.state == SUCCEEDED else 202
    return JSONResponse(RequestOut.of(request).model_dump(mode="json"), status_code=status,
                        headers=headers)
