"""Scaffold requests (``service.create``) as a worker does them: on the control
repository's specs, as the requester, checked again at execution.

The API decides who may do what on the specs the control repository holds (see
:func:`api.deps.get_spec`), and the catalog and Argo CD read them there, so that is where
a new service is checked and listed (:class:`ControlRepository`, the
:class:`~goldenpath.services.scaffold.TeamSpecs` the worker gives
:func:`~goldenpath.services.scaffold.new_service`):

- the team, the name, the template and its parameters are checked on the branch's specs
  as they are when the worker starts (not as they were at submission);
- the requester's right to scaffold for the team (:data:`Action.SCAFFOLD`) is checked
  again there, before anything is created: an owner removed between submission and
  execution gets Forbidden and no repository. It is checked once more on the very specs
  the listing commit is built from (inside the edit, so also after a push race): an
  owner removed while the template rendered gets no entry, and ``new_service``'s undo
  removes the repository it pushed. A request resumed after its worker died (pushed,
  not listed) is checked again before it is listed; refused, the repository its dead
  attempt pushed is removed (:func:`~goldenpath.services.scaffold.resume_new_service`);
- the service is listed by one commit of :func:`goldenpath.services.gitops.apply_edit`:
  the team file edited with the round-trip editor (comments and formatting kept) and the
  objects rendered from it (the Argo CD Applications ``<team>.<service>.<env>``),
  authored by the requester with ``Requested-By`` and ``Request-Id`` trailers. The edit
  finds the service listed already when an earlier attempt of the same request
  committed it, and then commits nothing: a re-claimed request never commits twice.

Who the requester is at execution: the request's actor, and the subjects of the caller
that made it an owner of the team or a platform admin at submission (:func:`grants`,
kept in the payload as ``grantedBy``): an OIDC caller's groups are known only while its
token is presented, and a group listed as owner must still count. A subject the specs
no longer list as owner or admin counts for nothing, whatever the payload says.

A control repository that holds no specs yet (embedded mode, not seeded) leaves the
platform directory the specs, as it is for :func:`api.deps.get_spec`: the service is
listed there, after the same authorization check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.errors import Conflict
from goldenpath.gitops import specfiles
from goldenpath.identity import Principal
from goldenpath.scaffold import teamfile
from goldenpath.services import gitops, teams
from goldenpath.services.access import Action, authorize
from goldenpath.services.scaffold import Directory, TeamSpecs, Undo
from goldenpath.services.teamrequests import requester_of
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec
from goldenpath.store import Request

#: the payload key of the subjects that let the requester scaffold at submission
GRANTED_BY = "grantedBy"
#: the actor of the bootstrap admin token (see :class:`goldenpath.identity.Principal`)
_BOOTSTRAP_ACTOR = "admin"


def grants(spec: PlatformSpec, principal: Principal, team: str) -> list[str]:
    """The caller's subjects that ``spec`` lists as ``team``'s owners or as platform
    admins: what the worker asks again with. Only subjects the spec names already are
    kept, so the request shows nothing of the caller that the spec does not."""
    listed = set(spec.platform.spec.admins)
    if team in spec.entry:
        listed.update(spec.team(team).spec.owners)
    return sorted(principal.subjects & listed)


def principal_of(request: Request) -> Principal:
    """The requester as the worker authorizes it: the bootstrap admin, or the subjects
    that granted it the request at submission (its actor, for a request without them)."""
    if request.actor == _BOOTSTRAP_ACTOR:
        return Principal.bootstrap_admin()
    granted = request.payload.get(GRANTED_BY) if isinstance(request.payload, dict) else None
    subjects = granted if isinstance(granted, list) and granted else [request.actor]
    return Principal.of(subjects, actor=request.actor)


def team_specs(request: Request, settings: Settings) -> TeamSpecs:
    """Where the worker checks and lists the request's service: the control
    repository's specs once it holds any, else the platform directory."""
    where = teams.Where(settings=settings)
    principal = principal_of(request)
    snapshot = gitops.read_specs(where.repo, branch=where.branch, settings=settings)
    if specfiles.PLATFORM_FILE not in snapshot.blobs:
        return RequestedDirectory(settings.platform_dir, principal)
    return ControlRepository(where, requester_of(request), principal)


@dataclass(frozen=True)
class RequestedDirectory(Directory):
    """The platform directory, for a request: the requester is authorized again."""

    principal: Principal

    def allow(self, spec: PlatformSpec, team: str) -> None:
        authorize(spec, self.principal, team, Action.SCAFFOLD)


@dataclass(frozen=True)
class ControlRepository:
    """The control repository's specs, edited by one commit per request."""

    where: teams.Where
    requester: teams.Requester
    principal: Principal

    def load(self) -> PlatformSpec:
        return teams.current_platform(self.where)

    def allow(self, spec: PlatformSpec, team: str) -> None:
        authorize(spec, self.principal, team, Action.SCAFFOLD)

    def register(self, spec: PlatformSpec, team: str, entry: dict[str, Any],
                 undo: Undo) -> str | None:
        """One commit listing ``entry`` with its objects; None when the branch lists it
        already (this request's earlier attempt). Atomic: a refusal pushes nothing."""
        settings = self.where.resolved

        def edit(root: Path, blobs: Mapping[str, str]) -> None:
            with gitops.repository_names(root.parent):
                now = gitops.load_specs(root, settings)
            authorize(now, self.principal, team, Action.SCAFFOLD)
            if _listed(now, team, entry):
                return
            file = root / "teams" / f"{team}.yaml"
            text = teamfile.with_service(file.read_text("utf-8"),
                                         specfiles.team_path(team), entry)
            file.write_text(text, "utf-8")

        message = f"goldenpath: new service {team}/{entry['name']} ({entry['template']})"
        result = gitops.apply_edit(edit, self.requester.origin(), self.where.repo,
                                   branch=self.where.branch, message=message,
                                   settings=settings)
        return result.commit


def _listed(spec: PlatformSpec, team: str, entry: dict[str, Any]) -> bool:
    """Whether the team lists this very service already; Conflict when it lists another
    of the same name (someone else's, added since the checks: this one is not listed)."""
    found = next((s for s in spec.team(team).spec.services if s.name == entry["name"]),
                 None)
    if found is None:
        return False
    if found.template != entry["template"] or \
            dict(found.parameters) != entry.get("parameters", {}):
        raise Conflict(f"team {team!r} lists another service {entry['name']!r} now "
                       f"({specfiles.team_path(team)}); choose another name")
    return True
