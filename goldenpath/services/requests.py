"""Use cases of the self-service API that become durable requests, and who may see them.

A write is accepted in two halves. Here, synchronously, everything that can be decided
without changing anything: the caller's role (:mod:`goldenpath.services.access`), the
same checks the CLI makes before it writes (for a new service,
:func:`goldenpath.services.scaffold.check_new_service`), then one row in the store. A bad
request is refused here and nothing is stored. The work itself is done later by a
worker (:mod:`goldenpath.services.worker`), which may run in another process.

An ``Idempotency-Key`` retry is answered before the checks run again: the first
request's own effects (the repository it created) would now fail them. When the checks
refuse a request with a key, the key is looked up once more: the same key sent to another
replica at the same moment may have been stored (and done) after the first look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goldenpath.errors import Forbidden, GoldenpathError, NotFound
from goldenpath.identity import Principal
from goldenpath.services.access import Action, authorize, is_admin
from goldenpath.services.scaffold import check_new_service
from goldenpath.services.servicerequests import GRANTED_BY, grants
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec
from goldenpath.store import FAILED, REJECTED, SUCCEEDED, Request, Store, Submitted

SERVICE_CREATE = "service.create"
#: states a request never leaves
FINAL = frozenset({SUCCEEDED, FAILED, REJECTED})


@dataclass(frozen=True)
class NewServiceRequest:
    """What a caller asks for when scaffolding: the payload of a ``service.create``."""

    name: str
    template: str
    parameters: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.template,
                "parameters": dict(sorted(self.parameters.items()))}


def submit_new_service(settings: Settings, store: Store, spec: PlatformSpec, *,
                       principal: Principal, team: str, wanted: NewServiceRequest,
                       idempotency_key: str | None = None) -> Submitted:
    """Authorize, check and store a ``service.create`` request (queued: a new service
    without an ingress host is the owners' own call, see ``access.TEAM_FIELDS``), with
    the caller's subjects that granted it (the worker authorizes it again with them, see
    :mod:`goldenpath.services.servicerequests`)."""
    authorize(spec, principal, team, Action.SCAFFOLD)
    payload = {**wanted.payload(), GRANTED_BY: grants(spec, principal, team)}
    replay = _replayed(store, principal, team, wanted, payload=payload, key=idempotency_key)
    if replay is not None:
        return replay
    try:
        check_new_service(settings, spec, team, wanted.name, template_name=wanted.template,
                          params=wanted.parameters)
    except GoldenpathError:
        # the same key sent to another replica at the same moment may have been stored
        # and done since: the checks refuse what that request made, its answer stands
        replay = _replayed(store, principal, team, wanted, payload=payload, key=idempotency_key)
        if replay is None:
            raise
        return replay
    submitted = _submit(store, principal, team, payload, idempotency_key)
    if not submitted.replayed:  # a replica that stored the same key first audited it
        store.audit.append(actor=principal.actor, action=SERVICE_CREATE, outcome="submitted",
                           team=team, request=submitted.request.id, details=wanted.payload())
    return submitted


def _replayed(store: Store, principal: Principal, team: str, wanted: NewServiceRequest, *,
              payload: dict[str, Any], key: str | None) -> Submitted | None:
    """The first request sent with ``key`` when it asked for the same (whoever granted
    it then); None when the key is new. The key used for another ask goes to the store,
    which refuses it (Conflict)."""
    earlier = store.requests.find_by_key(principal.actor, key) if key is not None else None
    if earlier is None:
        return None
    asked = {k: v for k, v in dict(earlier.payload).items() if k != GRANTED_BY}
    if (earlier.kind, earlier.team, asked) == (SERVICE_CREATE, team, wanted.payload()):
        return Submitted(earlier, replayed=True)
    return _submit(store, principal, team, payload, key)


def _submit(store: Store, principal: Principal, team: str, payload: dict[str, Any],
            key: str | None) -> Submitted:
    return store.requests.submit(kind=SERVICE_CREATE, team=team, actor=principal.actor,
                                 payload=payload, idempotency_key=key)


def visible_request(store: Store, spec: PlatformSpec, principal: Principal,
                    request_id: str) -> Request:
    """The request, if the caller asked for it or may read its team; else the same NotFound as for a
    request that does not exist, so no answer says which requests or teams exist."""
    request = store.requests.get(request_id)
    if is_admin(spec, principal) or request.actor == principal.actor:
        return request  # one's own request too (a new team's, before it exists)
    if request.team not in spec.entry:  # an offboarded team: admins only
        raise _unknown(request.id)
    try:
        authorize(spec, principal, request.team, Action.READ)
    except (Forbidden, NotFound) as err:  # alike: never say which
        raise _unknown(request.id) from err
    return request


def _unknown(rid: str) -> NotFound:
    """Word for word the store's answer for an id it does not have."""
    return NotFound(f"request {rid} not found", kind="request", name=rid)
