"""Team changes as durable requests: ``team.create``, ``team.update``, ``team.delete``.

Submitting decides at once everything that needs no write, on the specs the control
repository holds (:func:`goldenpath.services.teams.current_platform`): the caller's role
(:func:`~goldenpath.services.access.authorize`), the spec (422 with ``file: path``
messages), the ``If-Match`` version (412 when stale), and what the change becomes
(:func:`~goldenpath.services.access.decide_create` / ``decide_change``): forbidden (403,
every reason), a ``pending-approval`` request an admin decides (nothing written before),
or a queued one; and the whole platform loaded with the proposed file, rendered and
checked by every guardrail as apply would (:func:`~goldenpath.services.teams.check_change`:
limits, hosts, 422 with the guardrails named). A non-admin's new
team is not loaded with the others before approval (its errors could name them); a
non-admin's update and plan are, with the peers they add to ``allowFromTeams`` left to
the approving admin and their answers redacted (:mod:`goldenpath.services.privacy`), as
is a failed request's message, which every reader of the team sees.
The worker then runs :func:`execute_all` over every team request it claimed, each with its
actor and id as its commit's ``Requested-By``/``Request-Id``, one commit per request and
one push for them all; :mod:`goldenpath.services.teams` re-checks
the version it was submitted with, so an approved update that went stale meanwhile fails
with PreconditionFailed and writes nothing.

An ``Idempotency-Key`` retry is answered from the store before the checks run again (the
first request's commit would make its own ``If-Match`` stale), and once more when the
checks refuse it (the same key sent to another replica at the same moment may have been
stored, and done, after the first look).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from goldenpath.errors import GoldenpathError, NotFound, PolicyViolation, SpecError
from goldenpath.gitops import specfiles
from goldenpath.identity import Principal
from goldenpath.services import privacy, teams
from goldenpath.services.access import (
    Action,
    Decision,
    Outcome,
    authorize,
    decide_change,
    decide_create,
    is_admin,
)
from goldenpath.spec import PlatformSpec, Team, parse_team
from goldenpath.spec.types import is_dns_label
from goldenpath.store import Request, Store, Submitted

TEAM_CREATE = "team.create"
TEAM_UPDATE = "team.update"
TEAM_DELETE = "team.delete"
KINDS = (TEAM_CREATE, TEAM_UPDATE, TEAM_DELETE)

log = logging.getLogger(__name__)


def etag_of(header: str) -> str:
    """The version an ``If-Match`` names: ``"<blob>"``, ``W/"<blob>"`` or bare."""
    return header.strip().removeprefix("W/").strip('"')


def submit_create(store: Store, spec: PlatformSpec, where: teams.Where, *,
                  principal: Principal, document: dict[str, Any],
                  idempotency_key: str | None = None) -> Submitted:
    """A new team: queued for an admin (409 when it exists), else pending approval (a
    non-admin is not told whether the name is taken; the admin sees it on approval)."""
    meta = document.get("metadata")
    named = meta.get("name") if isinstance(meta, dict) else None
    file = specfiles.team_path(named) if isinstance(named, str) and is_dns_label(named) \
        else "request"
    team = parse_team(document, file)

    def submit() -> Submitted:
        if is_admin(spec, principal) and team.name in spec.entry:
            raise teams.TeamExists(f"team {team.name} exists already; change it with PUT "
                                   f"/v1/teams/{team.name}")
        decision = decide_create(spec, principal, team)
        if decision.outcome is Outcome.ALLOWED:  # an admin's; others are not told of others
            teams.check_change(team.name, document, where)
        return _submit(store, principal, kind=TEAM_CREATE, team=team.name,
                       payload={"spec": document}, decision=decision, key=idempotency_key)

    return _unless_replayed(store, principal, idempotency_key, kind=TEAM_CREATE,
                            team=team.name, payload={"spec": document}, submit=submit)


def submit_update(store: Store, spec: PlatformSpec, where: teams.Where, *,
                  principal: Principal, name: str, document: dict[str, Any],
                  if_match: str, idempotency_key: str | None = None) -> Submitted:
    """A new spec for team ``name`` made from version ``if_match``."""
    authorize(spec, principal, name, Action.UPDATE)
    payload = {"spec": document, "ifMatch": etag_of(if_match)}

    def submit() -> Submitted:
        current = teams.get_team(name, where)
        new = parse_team(document, current.path)
        if current.etag != etag_of(if_match):
            raise teams.PreconditionFailed(name, etag_of(if_match), current.etag)
        # decided against the version If-Match named and was checked, not the one this
        # request read first: a change made in between would otherwise go unclassified
        old = parse_team(current.document, current.path)
        decision = decide_change(spec, principal, old, new).enforce()
        check(spec, principal, name, document, current=old, where=where)
        return _submit(store, principal, kind=TEAM_UPDATE, team=name, payload=payload,
                       decision=decision, key=idempotency_key)

    return _unless_replayed(store, principal, idempotency_key, kind=TEAM_UPDATE, team=name,
                            payload=payload, submit=submit)


def submit_delete(store: Store, spec: PlatformSpec, where: teams.Where, *,
                  principal: Principal, name: str, if_match: str,
                  allow_offboarding: bool = False,
                  idempotency_key: str | None = None) -> Submitted:
    """Offboard team ``name`` (admins) if it is still version ``if_match``."""
    authorize(spec, principal, name, Action.DELETE)
    payload = {"ifMatch": etag_of(if_match), "allowOffboarding": allow_offboarding}
    replay = _replayed(store, principal, idempotency_key, kind=TEAM_DELETE, team=name,
                       payload=payload)
    if replay is not None:
        return replay
    current = teams.get_team(name, where)
    if current.etag != etag_of(if_match):
        raise teams.PreconditionFailed(name, etag_of(if_match), current.etag)
    return _submit(store, principal, kind=TEAM_DELETE, team=name, payload=payload,
                   decision=Decision(Outcome.ALLOWED), key=idempotency_key)


def check(spec: PlatformSpec, principal: Principal, name: str, document: dict[str, Any],
          *, current: Team | None, where: teams.Where) -> None:
    """The whole platform's rules on team ``name``'s proposal, now (current: its spec in
    the repository). For a non-admin, the peers it adds are left to the admin who approves
    them and the answer names no other team (:mod:`goldenpath.services.privacy`)."""
    if is_admin(spec, principal):
        teams.check_change(name, document, where)
        return
    with privacy.redacted(spec.platform, name, document):
        teams.check_change(name, privacy.without_added_peers(document, current), where)


def plan(spec: PlatformSpec, principal: Principal, name: str, document: dict[str, Any],
         where: teams.Where) -> privacy.OwnPlan:
    """What team ``name``'s proposal would change (:func:`teams.plan_team`); a non-admin
    sees its own team's part, its errors redacted and the peers it adds not planned, as
    :func:`check` does."""
    if is_admin(spec, principal):
        return privacy.OwnPlan(teams.plan_team(name, document, where))
    current = spec.team(name) if name in spec.entry else None
    with privacy.redacted(spec.platform, name, document):
        parse_team(document, specfiles.team_path(name))  # every peer it adds, too
        found = teams.plan_team(name, privacy.without_added_peers(document, current), where)
    own = privacy.own_plan(found, name)
    notes = privacy.not_planned(name, document, current)
    return replace(own, plan=replace(own.plan, warnings=[*notes, *own.plan.warnings]))


def _unless_replayed(store: Store, principal: Principal, key: str | None, *, kind: str,
                     team: str, payload: dict[str, Any],
                     submit: Callable[[], Submitted]) -> Submitted:
    """``submit()`` (the checks, then the store), unless ``key`` was sent before for the
    same ask: that request. Looked up again when the checks refuse: the same key sent to
    another replica at the same moment may have been stored, and done, after the first
    look, and what the checks refuse (the team exists, If-Match is stale) is its change."""
    replay = _replayed(store, principal, key, kind=kind, team=team, payload=payload)
    if replay is not None:
        return replay
    try:
        return submit()
    except GoldenpathError:
        replay = _replayed(store, principal, key, kind=kind, team=team, payload=payload)
        if replay is None:
            raise
        return replay


def _replayed(store: Store, principal: Principal, key: str | None, *, kind: str,
              team: str, payload: dict[str, Any]) -> Submitted | None:
    """The first answer to a retry with the same key and the same ask (its reasons
    aside); the same key with another ask goes to the store, which refuses it (409)."""
    earlier = store.requests.find_by_key(principal.actor, key) if key is not None else None
    if earlier is None:
        return None
    asked = {k: v for k, v in dict(earlier.payload).items() if k != "reasons"}
    if (earlier.kind, earlier.team, asked) == (kind, team, payload):
        return Submitted(earlier, replayed=True)
    return store.requests.submit(kind=kind, team=team, actor=principal.actor,
                                 payload=payload, idempotency_key=key)


def _submit(store: Store, principal: Principal, *, kind: str, team: str,
            payload: dict[str, Any], decision: Decision, key: str | None) -> Submitted:
    waits = decision.outcome is Outcome.NEEDS_APPROVAL
    if waits:
        payload = {**payload, "reasons": list(decision.reasons)}
    submitted = store.requests.submit(kind=kind, team=team, actor=principal.actor,
                                      payload=payload, needs_approval=waits,
                                      idempotency_key=key)
    if not submitted.replayed:
        store.audit.append(actor=principal.actor, action=kind,
                           outcome="pending-approval" if waits else "submitted", team=team,
                           request=submitted.request.id,
                           details={"reasons": list(decision.reasons)})
    return submitted


def requester_of(request: Request) -> teams.Requester:
    """The commit's requester: the request's actor when it is a subject, else (the
    bootstrap admin token, actor ``admin``) ``user:<actor>``."""
    actor = request.actor if ":" in request.actor else f"user:{request.actor}"
    return teams.Requester(actor, request.id)


def execute(request: Request, where: teams.Where) -> dict[str, Any]:
    """Do a team request (the worker's half); idempotent: a change the repository holds
    already commits nothing (see :mod:`goldenpath.services.teams`)."""
    outcome, = execute_all([request], where)
    if isinstance(outcome, GoldenpathError):
        raise outcome
    return outcome


def execute_all(requests: Sequence[Request],
                where: teams.Where) -> list[dict[str, Any] | GoldenpathError]:
    """Do several team requests as one push of one commit each, in order (see
    :func:`goldenpath.services.teams.make_all`); each outcome is the request's result or
    the error that failed it alone."""
    outcomes: dict[int, dict[str, Any] | GoldenpathError] = {}
    asks: list[tuple[int, teams.Proposal, teams.Requester]] = []
    for n, request in enumerate(requests):
        try:
            asks.append((n, _proposal(request), requester_of(request)))
        except GoldenpathError as error:  # a payload refused before the repository is read
            outcomes[n] = error
    made = teams.make_all([(proposal, who) for _, proposal, who in asks], where)
    for (n, _, _), change in zip(asks, made, strict=True):
        outcomes[n] = _result(requests[n], change, where)
    return [outcomes[n] for n in range(len(requests))]


def _proposal(request: Request) -> teams.Proposal:
    payload = request.payload
    if request.kind == TEAM_CREATE:
        return teams.onboarding(dict(payload["spec"]))
    if request.kind == TEAM_UPDATE:
        return teams.updating(request.team, dict(payload["spec"]), payload["ifMatch"])
    if request.kind == TEAM_DELETE:
        return teams.offboarding(request.team, payload["ifMatch"],
                                 allow_offboarding=bool(payload["allowOffboarding"]))
    raise NotFound(f"no team request kind {request.kind!r}", kind="request kind")


def _result(request: Request, change: teams.TeamChange | GoldenpathError,
            where: teams.Where) -> dict[str, Any] | GoldenpathError:
    if isinstance(change, NotFound) and request.kind == TEAM_DELETE:
        # it existed when submitted: offboarded by an earlier attempt of this request
        return {"team": request.team, "etag": None, "commit": None}
    if isinstance(change, (SpecError, PolicyViolation)) and request.kind != TEAM_DELETE:
        return _for_readers(change, request, dict(request.payload["spec"]), where)
    if isinstance(change, GoldenpathError):
        return change
    return {"team": change.team, "etag": change.etag, "commit": change.commit}


def _for_readers(error: SpecError | PolicyViolation, request: Request,
                 document: dict[str, Any], where: teams.Where) -> SpecError | PolicyViolation:
    """A failed team change as the request's readers (the team's members and viewers,
    not admins) may read it: redacted (:mod:`goldenpath.services.privacy`); the whole
    message goes to the server log, and an admin's plan of the same spec shows it too."""
    log.warning("request %s: %s", request.id, error, extra={"request_id": request.id})
    try:
        platform = teams.current_platform(where).platform
    except SpecError:  # the repository's own specs do not load: say nothing of them
        return SpecError([privacy.conflict(request.team)])
    return privacy.redact(error, platform, request.team, document)
