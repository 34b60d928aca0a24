"""``/teams``: read, onboard, change, offboard and plan teams, over the specs the control
repository holds (:mod:`goldenpath.services.teams`, the one source of truth).

Who may do what is decided on the repository's platform (:func:`RepoSpecDep`): readers
see their teams; a stranger gets the same 403 for a team that exists and one that does
not. Writes are durable requests (:mod:`goldenpath.services.teamrequests`) done by a
worker: ``201``/``200`` with the finished request when it succeeded within
``GOLDENPATH_API_WRITE_WAIT_SECONDS``, else ``202`` with the request to follow at
``Location`` (``pending-approval`` ones wait for an admin). Updates and offboarding need
``If-Match`` with the team's ``ETag`` (428 without, 412 when stale). A non-admin's
checks and plans say nothing of other teams (:mod:`goldenpath.services.privacy`): their
errors are redacted, their plans show the caller's team and count the rest.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import waiting
from api.deps import IdempotencyKey, PrincipalDep, SettingsDep, StoreDep
from api.errors import RESPONSES, Problem
from api.schemas import PlanOut, RequestOut, TeamOut, TeamSummary
from goldenpath.services import teamrequests, teams
from goldenpath.services.access import Action, authorize, hidden, is_admin, visible_teams
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec
from goldenpath.store import SUCCEEDED, Store, Submitted

router = APIRouter(prefix="/teams", tags=["teams"], responses={
    **RESPONSES, 404: {"model": Problem, "description": "No such team (said to admins only; "
                       "others get 403), or the repository holds no specs yet"}})

TeamName = Annotated[str, Path(min_length=1, max_length=63, description="The team's name",
                               examples=["payments"])]
_TEAM_EXAMPLE = {"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
                 "metadata": {"name": "payments"},
                 "spec": {"displayName": "Payments", "owners": ["user:alice@example.com"],
                          "environments": ["dev", "prod"]}}
SpecBody = Annotated[dict[str, Any], Body(
    description="A Team spec as JSON (the same fields as platform/teams/<name>.yaml; "
                "unknown fields are refused)", examples=[_TEAM_EXAMPLE])]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=100,
    description="The team's ETag (GET /v1/teams/{team}): the version this change is made "
                "from")]


def where(settings: SettingsDep) -> teams.Where:
    return teams.Where(settings=settings).for_request()


WhereDep = Annotated[teams.Where, Depends(where)]


def repo_spec(place: WhereDep) -> PlatformSpec:
    """The platform as the control repository holds it now."""
    return teams.current_platform(place)


RepoSpecDep = Annotated[PlatformSpec, Depends(repo_spec)]
_WRITE: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted (queued or pending approval): follow the request"},
    413: {"model": Problem, "description": "Body too large"},
    422: {"model": Problem, "description": "Invalid spec: file: field.path: value: rule"}}
_PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {"model": Problem, "description": "If-Match is stale"},
    428: {"model": Problem, "description": "If-Match is missing"}}


@router.get("", operation_id="listTeams", response_model=list[TeamSummary],
            summary="The teams the caller may read")
def list_teams(principal: PrincipalDep, spec: RepoSpecDep,
               place: WhereDep) -> list[TeamSummary]:
    readable = set(visible_teams(spec, principal))
    tags = teams.spec_etags(place).teams
    return [TeamSummary(name=name, etag=tags[name]) for name in sorted(readable)
            if name in tags]


@router.get("/{team}", operation_id="getTeam", response_model=TeamOut,
            summary="A team: spec, namespaces, services, ETag")
def get_team(team: TeamName, principal: PrincipalDep, spec: RepoSpecDep,
             place: WhereDep) -> JSONResponse:
    authorize(spec, principal, team, Action.READ)
    found = teams.get_team(team, place)
    model = spec.team(team)
    body = TeamOut(name=team, etag=found.etag, path=found.path,
                   revision=teams.spec_etags(place).head, spec=found.document,
                   namespaces={env: f"{team}-{env}" for env in model.spec.environments},
                   services=[s.name for s in model.spec.services])
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": f'"{found.etag}"'})


@router.post("", operation_id="createTeam", status_code=202, response_model=RequestOut,
             summary="Onboard a team (admins; anyone else's is pending approval)",
             responses={201: {"model": RequestOut, "description": "Created within the wait"},
                        409: {"model": Problem, "description": "The team exists"},
                        **_WRITE})
async def create_team(*, document: SpecBody, principal: PrincipalDep, spec: RepoSpecDep,
                place: WhereDep, settings: SettingsDep, store: StoreDep,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    submitted = await run_in_threadpool(
        teamrequests.submit_create, store, spec, place, principal=principal,
        document=document, idempotency_key=idempotency_key)
    return await _answer(store, settings, submitted, done=201)


@router.put("/{team}", operation_id="updateTeam", status_code=202,
            response_model=RequestOut,
            summary="Change a team's spec (If-Match; some changes wait for an admin)",
            responses={200: {"model": RequestOut, "description": "Done within the wait"},
                       **_WRITE, **_PRECONDITION})
async def update_team(*, team: TeamName, document: SpecBody, principal: PrincipalDep,
                spec: RepoSpecDep, place: WhereDep, settings: SettingsDep, store: StoreDep,
                if_match: IfMatch = None,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    submitted = await run_in_threadpool(
        teamrequests.submit_update, store, spec, place, principal=principal, name=team,
        document=document, if_match=_required(if_match), idempotency_key=idempotency_key)
    return await _answer(store, settings, submitted, done=200)


@router.delete("/{team}", operation_id="deleteTeam", status_code=202,
               response_model=RequestOut, summary="Offboard a team (admins; If-Match)",
               responses={200: {"model": RequestOut, "description": "Done within the wait"},
                          **_PRECONDITION})
async def delete_team(*, team: TeamName, principal: PrincipalDep, spec: RepoSpecDep,
                place: WhereDep, settings: SettingsDep, store: StoreDep,
                if_match: IfMatch = None, allow_offboarding: Annotated[bool, Query(
                    alias="allowOffboarding", description="Consent to deleting namespaces "
                    "of protected environments")] = False,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    submitted = await run_in_threadpool(
        teamrequests.submit_delete, store, spec, place, principal=principal, name=team,
        if_match=_required(if_match), allow_offboarding=allow_offboarding,
        idempotency_key=idempotency_key)
    return await _answer(store, settings, submitted, done=200)


@router.post("/{team}/plan", operation_id="planTeam", response_model=PlanOut,
             summary="What a proposed spec would change (writes nothing)",
             responses={422: _WRITE[422]})
def plan_team(team: TeamName, document: SpecBody, principal: PrincipalDep,
              spec: RepoSpecDep, place: WhereDep) -> PlanOut:
    if team in spec.entry:
        authorize(spec, principal, team, Action.PLAN)
    elif not is_admin(spec, principal):  # a new team's plan: admins, who may onboard it
        raise hidden(team)  # the same 403 as for a team that exists
    found = teamrequests.plan(spec, principal, team, document, place)
    return PlanOut.of(found.plan, hidden=found.hidden)


def _required(if_match: str | None) -> str:
    if not if_match or not teamrequests.etag_of(if_match):
        raise HTTPException(428, "If-Match is required: send the team's ETag from GET "
                                 "/v1/teams/{team}, so a change never undoes a newer one")
    return if_match


async def _answer(store: Store, settings: Settings, submitted: Submitted, *,
                  done: int) -> JSONResponse:
    request = await waiting.final(store, submitted.request, settings.api_write_wait_seconds)
    headers = {"Location": f"/v1/requests/{request.id}"}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    status = done if request.state == SUCCEEDED else 202
    return JSONResponse(RequestOut.of(request).model_dump(mode="json"), status_code=status,
                        headers=headers)
