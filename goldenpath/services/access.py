"""Who may do what, decided from the specs alone. Pure: no I/O, no clock, no store.

The API asks three questions, and each has one function here:

- **May this caller touch this team at all, for this action?** :func:`authorize` returns
  the caller's role or raises. Platform admins (``spec.admins``, or the bootstrap admin
  token) may do everything; a team's owners may plan, change and scaffold for it; its
  members and viewers may read it. To anyone without a role in the team, a team that
  exists and one that does not give the *same* Forbidden, message and all, so no answer
  reveals which teams exist (only admins, who may see every team, get NotFound).
- **Does this change need an admin?** :func:`decide_change` compares the team's current
  spec with the proposed one field by field (:data:`TEAM_FIELDS`): allowed, needs
  approval (with every reason), or forbidden. :func:`decide_create` does the same for a
  new team, which a non-admin may only request.
- **Is this caller a platform admin?** :func:`require_admin`, for approvals, audit, tokens.

Roles come from equality of subject strings, nothing else: the principal's subjects
(:mod:`goldenpath.identity`) against the team's ``owners``/``members``/``viewers`` and the
platform's ``admins``. ``serviceaccount:`` subjects never get an API role, in a team or
as admin: in a spec they are Kubernetes identities (RBAC in the team's namespaces, as in
Argo CD, where they get nothing either). A tenant may name any serviceaccount, including
one a platform workload or another team runs as; if that made it an owner through the
API, a tenant could enrol someone else's automation into its team. Automation that calls
the API uses an API token minted for a ``user:`` or ``group:`` subject the spec lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum

from goldenpath.errors import Forbidden, NotFound
from goldenpath.identity import Principal
from goldenpath.spec import PlatformSpec, ResolvedQuota, Team
from goldenpath.spec.quantity import parse_quantity
from goldenpath.spec.resolve import merge_quota
from goldenpath.spec.types import is_dns_label

_KUBERNETES_ONLY = "serviceaccount:"


class Role(IntEnum):
    """A caller's role in one team, highest wins."""

    NONE = 0
    VIEWER = 1
    MEMBER = 2
    OWNER = 3
    ADMIN = 4


class Action(StrEnum):
    """What the API does to one team."""

    READ = "read"  # the team, its namespaces, services, requests
    PLAN = "plan"  # a proposed spec's changes; writes nothing
    UPDATE = "update"  # a new spec; then decide_change says whether it waits
    SCAFFOLD = "scaffold"  # a new service from a template: an update of spec.services
    DELETE = "delete"  # offboarding


class PlatformAction(StrEnum):
    """What only platform admins do."""

    APPROVE = "approve or reject requests"
    AUDIT = "read the audit trail"
    MINT_TOKEN = "mint or revoke API tokens"


#: the least role each action needs
NEEDS: Mapping[Action, Role] = {
    Action.READ: Role.VIEWER,
    Action.PLAN: Role.OWNER,
    Action.UPDATE: Role.OWNER,
    Action.SCAFFOLD: Role.OWNER,
    Action.DELETE: Role.ADMIN,
}
_WHO = {Role.VIEWER: "a viewer", Role.MEMBER: "a member", Role.OWNER: "an owner",
        Role.ADMIN: "a platform admin"}


def _api_subjects(principal: Principal) -> frozenset[str]:
    return frozenset(s for s in principal.subjects if not s.startswith(_KUBERNETES_ONLY))


def is_admin(spec: PlatformSpec, principal: Principal) -> bool:
    return principal.admin or bool(_api_subjects(principal) & set(spec.platform.spec.admins))


def role_in(spec: PlatformSpec, principal: Principal, team: Team) -> Role:
    if is_admin(spec, principal):
        return Role.ADMIN
    subjects = _api_subjects(principal)
    body = team.spec
    for role, listed in ((Role.OWNER, body.owners), (Role.MEMBER, body.members),
                         (Role.VIEWER, body.viewers)):
        if subjects.intersection(listed):
            return role
    return Role.NONE


def _shown(name: str) -> str:
    """A team name from a URL, as an error may quote it."""
    return name if is_dns_label(name) else "(not a team name)"


def hidden(name: str) -> Forbidden:
    """The one answer to a caller with no role in team ``name``, whether it exists or not."""
    return Forbidden(f'team "{_shown(name)}": no such team, or you have no role in it; its '
                     "owners or a platform admin can add you")


def authorize(spec: PlatformSpec, principal: Principal, name: str, action: Action) -> Role:
    """The caller's role in team ``name`` if it is enough for ``action``.

    Raises NotFound (admins only) or :func:`hidden` when the caller cannot see the team,
    Forbidden naming the role needed when the caller sees it but may not do this."""
    admin = is_admin(spec, principal)
    if name not in spec.entry:
        if admin:
            raise NotFound(f'team "{_shown(name)}" not found', kind="team", name=_shown(name))
        raise hidden(name)
    role = Role.ADMIN if admin else role_in(spec, principal, spec.team(name))
    if role is Role.NONE:
        raise hidden(name)
    needed = NEEDS[action]
    if role < needed:
        alternative = " or a platform admin" if needed < Role.ADMIN else ""
        raise Forbidden(f'team "{name}": you are {_WHO[role]} of it; {action} needs '
                        f"{_WHO[needed]}{alternative}")
    return role


def visible_teams(spec: PlatformSpec, principal: Principal) -> list[str]:
    """The names of the teams the caller may read: every team for an admin."""
    if is_admin(spec, principal):
        return list(spec.team_names)
    return [name for name in spec.team_names
            if role_in(spec, principal, spec.team(name)) >= Role.VIEWER]


def require_admin(spec: PlatformSpec, principal: Principal, action: PlatformAction) -> None:
    if not is_admin(spec, principal):
        raise Forbidden(f"only platform admins may {action}")


# --- changes ---------------------------------------------------------------------------


class Outcome(StrEnum):
    ALLOWED = "allowed"
    NEEDS_APPROVAL = "needs-approval"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Decision:
    """What becomes of a change: applied now, a pending request an admin approves or
    rejects (``reasons`` says why, for the admin and the requester), or refused."""

    outcome: Outcome
    reasons: tuple[str, ...] = ()

    def enforce(self) -> Decision:
        """Raise Forbidden (every reason) for a forbidden change; else return self."""
        if self.outcome is Outcome.FORBIDDEN:
            raise Forbidden("; ".join(self.reasons))
        return self


class Rule(StrEnum):
    """What a team's owners may do with one field of its spec."""

    OWNERS = "owners change it"
    APPROVAL = "any change needs approval"
    WIDENING = "removing is direct, adding needs approval"
    QUOTA = "raising above the self-service ceiling needs approval"
    SERVICES = "owners change them; a new ingress host needs approval"
    REFUSED = "refused"


#: Every field of a Team spec and what its owners may do with it (README, "Who may do
#: what"). A field missing here needs approval whenever it changes (see _unlisted), and a
#: test holds this table to the model's fields.
TEAM_FIELDS: Mapping[str, Rule] = {
    "metadata.name": Rule.REFUSED,
    "spec.displayName": Rule.OWNERS,
    "spec.costCenter": Rule.APPROVAL,
    "spec.owners": Rule.APPROVAL,
    "spec.members": Rule.OWNERS,
    "spec.viewers": Rule.OWNERS,
    "spec.environments": Rule.APPROVAL,
    "spec.quota": Rule.QUOTA,
    "spec.environmentOverrides": Rule.QUOTA,
    "spec.network.allowFromTeams": Rule.WIDENING,
    "spec.network.egressCIDRs": Rule.WIDENING,
    "spec.alerting": Rule.OWNERS,
    "spec.services": Rule.SERVICES,
}

_WHY = {
    "spec.costCenter": "moves the team's costs to another budget",
    "spec.owners": "changes who controls the team",
    "spec.environments": "creates or deletes the team's namespaces and everything in them",
    "spec.network.allowFromTeams": "admits traffic from more teams",
    "spec.network.egressCIDRs": "opens egress to more networks",
}


def decide_create(spec: PlatformSpec, principal: Principal, team: Team) -> Decision:
    """A new team: made at once by an admin, else a request an admin approves. (A
    non-admin's request is accepted whether or not the name is taken: telling them
    would say which teams exist. The admin sees the clash when approving.)"""
    if is_admin(spec, principal):
        return Decision(Outcome.ALLOWED)
    return Decision(Outcome.NEEDS_APPROVAL, (
        f'team "{team.name}" is new: a platform admin creates teams, or approves a request '
        "for one",))


def decide_change(spec: PlatformSpec, principal: Principal, old: Team,
                  new: Team) -> Decision:
    """A change of team ``old`` to ``new`` by ``principal`` (whose role :func:`authorize`
    has checked for UPDATE, PLAN or SCAFFOLD): admins' changes are allowed, owners'
    are classified by :func:`classify_change`, anyone else's are forbidden. A rename is
    forbidden to everyone."""
    role = role_in(spec, principal, old)
    if role is Role.ADMIN:
        renamed = list(_renamed(old, new))
        return Decision(Outcome.FORBIDDEN, tuple(renamed)) if renamed else \
            Decision(Outcome.ALLOWED)
    if role is Role.OWNER:
        return classify_change(spec, old, new)
    return Decision(Outcome.FORBIDDEN, (
        f'team "{old.name}": changing it needs an owner or a platform admin',))


def classify_change(spec: PlatformSpec, old: Team, new: Team) -> Decision:
    """What an owner's change of ``old`` to ``new`` becomes, by :data:`TEAM_FIELDS`."""
    refused = list(_renamed(old, new))
    if refused:
        return Decision(Outcome.FORBIDDEN, tuple(refused))
    reasons = [*_approvals(old, new), *_quota_raises(spec, old, new), *_unlisted(old, new)]
    return Decision(Outcome.NEEDS_APPROVAL, tuple(reasons)) if reasons else \
        Decision(Outcome.ALLOWED)


def _renamed(old: Team, new: Team) -> Iterator[str]:
    if old.name != new.name:
        yield (f'metadata.name: a team is not renamed ("{old.name}" to "{new.name}"); '
               "onboard the new team and offboard the old one")


def _value(team: Team, path: str) -> object:
    node: object = team.model_dump(mode="json", by_alias=True)
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else None
    return node


def _approvals(old: Team, new: Team) -> Iterator[str]:
    for path, rule in TEAM_FIELDS.items():
        before, after = _value(old, path), _value(new, path)
        if rule is Rule.APPROVAL and before != after:
            yield f"{path}: {_WHY[path]}; a platform admin approves"
        elif rule is Rule.WIDENING:
            assert isinstance(before, list) and isinstance(after, list)  # list fields
            added = sorted(set(map(str, after)) - set(map(str, before)))
            if added:
                yield f"{path}: {_WHY[path]} ({', '.join(added)}); a platform admin approves"
        elif rule is Rule.SERVICES:
            yield from _new_hosts(old, new)


def _hosts(team: Team) -> set[str]:
    return {s.ingress.host for s in team.spec.services if s.ingress is not None}


def _new_hosts(old: Team, new: Team) -> Iterator[str]:
    added = sorted(_hosts(new) - _hosts(old))
    if added:
        yield (f"spec.services: claims ingress host {', '.join(added)} on the shared ingress, "
               "first come first served; a platform admin approves new hostnames")


def self_service_ceiling(spec: PlatformSpec, team: str) -> ResolvedQuota:
    """The most quota ``team`` may give itself in one environment without an admin: the
    platform's default quota, raised field by field where ``spec.limits.grants.<team>
    .maxQuota`` names a field (an admin's standing approval)."""
    grant = spec.platform.spec.limits.grants.get(team)
    layers = [spec.platform.spec.defaults.quota] + ([grant.max_quota] if grant else [])
    return merge_quota(*layers)


def _amount(value: str | int) -> Decimal:
    return Decimal(value) if isinstance(value, int) else parse_quantity(value)


def _quota_raises(spec: PlatformSpec, old: Team, new: Team) -> Iterator[str]:
    """A quota field raised above the ceiling in some environment (lowering, or raising
    within the ceiling, is direct; an environment the team did not have counts as 0)."""
    ceiling = self_service_ceiling(spec, new.name)
    for env in new.spec.environments:
        after = spec.quota(new, env)
        before = spec.quota(old, env) if env in old.spec.environments else None
        for field in ResolvedQuota._fields:
            value, bound = getattr(after, field), getattr(ceiling, field)
            was = getattr(before, field) if before is not None else None
            if _amount(value) > _amount(bound) and (
                    was is None or _amount(value) > _amount(was)):
                yield (f"spec.quota: raises {_camel(field)} in {env} "
                       f"{f'from {was} ' if was is not None else ''}to {value}, above the "
                       f"self-service ceiling {bound} (the platform's default quota, or "
                       f"spec.limits.grants.{new.name}.maxQuota); a platform admin approves")


def _unlisted(old: Team, new: Team) -> Iterator[str]:
    """Fail safe: a field TEAM_FIELDS does not name (a spec field added later) waits for
    an admin whenever it changes, until someone decides its rule."""
    yield from _unlisted_in(old.model_dump(mode="json", by_alias=True),
                            new.model_dump(mode="json", by_alias=True), "")


def _unlisted_in(before: object, after: object, prefix: str) -> Iterator[str]:
    if prefix.rstrip(".") in TEAM_FIELDS or before == after:
        return
    inside = any(path.startswith(prefix) for path in TEAM_FIELDS) if prefix else True
    if inside and isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _unlisted_in(before.get(key), after.get(key), f"{prefix}{key}.")
        return
    yield f"{prefix.rstrip('.')}: no rule says owners may change it; a platform admin approves"


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
