"""Team changes over the specs the control repository holds: read teams with their
ETags, create a team, update one (``if_match``), offboard one. Shared by the API (which
maps the errors to HTTP) and anything else that changes a team on someone's behalf.

The repository's ``platform/`` (see :mod:`goldenpath.gitops.specfiles`) is the one
source of truth: every change is checked out of the branch, edited with the same
round-trip editor the scaffolder uses (:mod:`goldenpath.scaffold.teamfile`: comments and
formatting of what stays are kept), then loaded, rendered, checked and committed by
:func:`goldenpath.services.gitops.apply_edit`, the same path as ``apply``: one commit with
the spec and its objects, authored by the requester, with ``Requested-By`` and
``Request-Id`` trailers. Bad input raises before anything is written.

A team's ETag is the git blob id of its file as stored (the sha1 of its bytes): any
change to the file, a comment's included, is a new version. Reads (ETags, files, the
platform) come from the process's snapshot of the branch's head
(:mod:`goldenpath.services.snapshots`): one head check, no file read. An update or
offboarding names the version it was made from (``if_match``); when the file is another
version by then, the change is
refused with :class:`PreconditionFailed` (HTTP 412), also when that is found only on a
retry after a push race: a stale writer never undoes a newer accepted change. A change
the file already holds (the same request retried after it landed) commits nothing and
succeeds, so retrying a request is safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from goldenpath.errors import Conflict, GoldenpathError, NotFound, SpecError, SpecIssue
from goldenpath.gitops import specfiles
from goldenpath.gitops.ownership import blob_id
from goldenpath.gitops.repo import Author
from goldenpath.scaffold import teamfile
from goldenpath.services import gitops, snapshots
from goldenpath.services.gitops import ApplyResult, Origin
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import PlatformSpec, parse_team
from goldenpath.spec.types import is_dns_label
from goldenpath.spec.yamlio import YamlProblem, parse_yaml_mapping

#: Request ids become a trailer: one line of a bounded, plain alphabet.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_SUBJECT = re.compile(r"(user|group|serviceaccount):[^\s<>\x00-\x1f\x7f]{1,253}")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")


class PreconditionFailed(Conflict):
    """The team's file is not the version the change was made from (HTTP 412)."""

    def __init__(self, team: str, expected: str, current: str) -> None:
        self.team, self.expected, self.current = team, expected, current
        super().__init__(f"team {team} changed since version {expected} (it is {current} "
                         "now); nothing was written: read it again and redo the change")


class TeamExists(Conflict):
    """A team of that name exists already (HTTP 409)."""


@dataclass(frozen=True)
class Where:
    """Where the specs live: the control repository (None: GOLDENPATH_GITOPS_REPO, else
    the embedded one) and the branch read and pushed.

    Each read asks the remote for the branch's head, unless made through one request's
    :meth:`for_request`, whose reads all see the head the first one saw (one question per
    request; the caller's role and the plan decided on the same commit)."""

    repo: str | None = None
    branch: str = "main"
    settings: Settings | None = None
    seen: list[snapshots.Snapshot] | None = field(default=None, compare=False, repr=False)

    @property
    def resolved(self) -> Settings:
        return self.settings or get_settings()

    def for_request(self) -> Where:
        """The same place, read once for the request that uses it."""
        return replace(self, seen=[])


@dataclass(frozen=True)
class Requester:
    """Who asks for a change (a subject, as the specs write them) and the request id."""

    subject: str
    request_id: str

    def __post_init__(self) -> None:
        issues = []
        if not _SUBJECT.fullmatch(self.subject):
            issues.append(SpecIssue("request", "requestedBy", "is not a subject "
                                    "(user:<name>, group:<name>, serviceaccount:<ns>/<name>)",
                                    self.subject, True))
        if not _REQUEST_ID.fullmatch(self.request_id):
            issues.append(SpecIssue("request", "requestId", "is not a request id (letters, "
                                    "digits, '.', '_', ':', '-'; at most 128)",
                                    self.request_id, True))
        if issues:
            raise SpecError(issues)

    def origin(self) -> Origin:
        """The commit's author (the subject; a user's address when it is one) and
        trailers."""
        name = self.subject.partition(":")[2]
        email = name if _EMAIL.fullmatch(name) else "goldenpath@localhost"
        return Origin(self.subject, self.request_id, Author(self.subject, email))


@dataclass(frozen=True)
class SpecTags:
    """The ETags of the specs a branch holds, at its head commit."""

    head: str | None
    platform: str | None
    teams: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TeamSpec:
    name: str
    etag: str
    path: str
    text: str
    document: dict[str, Any]


@dataclass(frozen=True)
class TeamChange:
    """What a change did: the team's new ETag (None once offboarded) and the apply."""

    team: str
    etag: str | None
    result: ApplyResult

    @property
    def commit(self) -> str | None:
        return self.result.commit


def spec_etags(where: Where = Where()) -> SpecTags:
    """Each team's ETag and the platform's, as the branch stores them (no file read)."""
    snap = _specs(where)
    teams = {team: blob for path, blob in snap.blobs.items()
             if (team := specfiles.team_of_path(path))}
    return SpecTags(snap.head, snap.blobs.get(specfiles.PLATFORM_FILE), dict(sorted(teams.items())))


def list_teams(where: Where = Where()) -> list[TeamSpec]:
    """Every team spec the branch holds, with its ETag."""
    snap = _specs(where, read=lambda p: specfiles.team_of_path(p) is not None)
    return [_team(path, snap.blobs[path], content)
            for path, content in sorted(snap.contents.items())]


def get_team(name: str, where: Where = Where()) -> TeamSpec:
    """One team's spec and ETag; NotFound when the branch holds no such team."""
    path = specfiles.team_path(_name(name))
    snap = _specs(where, read=lambda p: p == path)
    if path not in snap.contents:
        raise _missing(name)
    return _team(path, snap.blobs[path], snap.contents[path])


@dataclass(frozen=True)
class Proposal:
    """One team change not made yet: its edit of the checked-out specs (which checks its
    precondition against the blobs the checkout came from), the commit's subject, and
    whether it may offboard. :func:`make` or :func:`make_all` commit it."""

    team: str
    edit: gitops.Edit
    message: str
    allow_offboarding: bool = False


def onboarding(document: dict[str, Any]) -> Proposal:
    """Onboard a team; TeamExists when the branch has one of that name."""
    meta = document.get("metadata")
    named = meta.get("name") if isinstance(meta, dict) else None
    file = specfiles.team_path(named) if isinstance(named, str) and is_dns_label(named) \
        else "request"
    team = parse_team(document, file).metadata.name  # a valid name before any path
    path = specfiles.team_path(team)

    def edit(root: Path, blobs: Mapping[str, str]) -> None:
        text = teamfile.new_text(document)
        if path in blobs:
            if (root / "teams" / f"{team}.yaml").read_text("utf-8") == text:
                return  # this very request, retried after it landed: nothing to do
            raise TeamExists(f"team {team} exists already; change it with an update")
        _write(root, team, text)

    return Proposal(team, edit, f"goldenpath: onboard {team}")


def updating(name: str, document: dict[str, Any], if_match: str) -> Proposal:
    """Replace a team's spec with ``document`` if its file is still version ``if_match``
    (else PreconditionFailed); comments and formatting of what stays are kept."""
    team = _name(name)
    path = specfiles.team_path(team)
    parse_team(document, path)  # refused before the repository is read

    def edit(root: Path, blobs: Mapping[str, str]) -> None:
        if blobs.get(path) is None:
            raise _missing(team)
        text = (root / "teams" / f"{team}.yaml").read_text("utf-8")
        new = teamfile.replaced(text, path, document)
        if new == text:
            return  # the file holds this already (a retry of this change): nothing to do
        _precondition(team, path, blobs, if_match)
        _write(root, team, new)

    return Proposal(team, edit, f"goldenpath: update {team}")


def offboarding(name: str, if_match: str, *, allow_offboarding: bool = False) -> Proposal:
    """Offboard a team (its spec file and every object of it go) if its file is still
    version ``if_match``. A team with a namespace in a protected environment needs
    ``allow_offboarding`` (see :class:`goldenpath.services.gitops.Removals`)."""
    team = _name(name)
    path = specfiles.team_path(team)

    def edit(root: Path, blobs: Mapping[str, str]) -> None:
        _precondition(team, path, blobs, if_match)
        (root / "teams" / f"{team}.yaml").unlink()

    return Proposal(team, edit, f"goldenpath: offboard {team}", allow_offboarding)


def create_team(document: dict[str, Any], requester: Requester,
                where: Where = Where()) -> TeamChange:
    """Onboard a team now (see :func:`onboarding`)."""
    return make(onboarding(document), requester, where)


def update_team(name: str, document: dict[str, Any], if_match: str, requester: Requester,
                where: Where = Where()) -> TeamChange:
    """Update a team now (see :func:`updating`)."""
    return make(updating(name, document, if_match), requester, where)


def delete_team(name: str, if_match: str, requester: Requester, where: Where = Where(), *,
                allow_offboarding: bool = False) -> TeamChange:
    """Offboard a team now (see :func:`offboarding`)."""
    return make(offboarding(name, if_match, allow_offboarding=allow_offboarding),
                requester, where)


def make(proposal: Proposal, requester: Requester, where: Where = Where()) -> TeamChange:
    """Commit and push one change; its error raised."""
    outcome, = make_all([(proposal, requester)], where)
    if isinstance(outcome, GoldenpathError):
        raise outcome
    return outcome


def make_all(asks: Sequence[tuple[Proposal, Requester]],
             where: Where = Where()) -> list[TeamChange | GoldenpathError]:
    """Commit several requests' changes, one commit each on top of the other, and push
    them together (:func:`goldenpath.services.gitops.apply_edits`); each outcome is its
    change or the error that refused it alone."""
    written: list[dict[str, str | None]] = [{} for _ in asks]

    def recorded(n: int, proposal: Proposal) -> gitops.Edit:
        path = specfiles.team_path(proposal.team)

        def edited(root: Path, blobs: Mapping[str, str]) -> None:
            proposal.edit(root, blobs)
            file = root / "teams" / f"{proposal.team}.yaml"
            # the ETag of what is committed (the last attempt's): the file's blob id
            written[n][path] = blob_id(file.read_bytes()) if file.is_file() else None

        return edited

    edits = [gitops.EditRequest(recorded(n, proposal), requester.origin(), proposal.message,
                                proposal.allow_offboarding, frozenset({proposal.team}))
             for n, (proposal, requester) in enumerate(asks)]
    outcomes = gitops.apply_edits(edits, where.repo, branch=where.branch,
                                  settings=where.resolved, loaded=lambda head: _loaded(where, head))
    return [outcome if isinstance(outcome, GoldenpathError)
            else TeamChange(proposal.team, written[n].get(specfiles.team_path(proposal.team)),
                            outcome)
            for n, ((proposal, _), outcome) in enumerate(zip(asks, outcomes, strict=True))]


def seed(platform_dir: Path | str, where: Where = Where()) -> ApplyResult | None:
    """Fill a control repository that holds no specs yet from ``platform_dir`` (what
    ``goldenpath serve`` does on first start; apply creates the embedded repository);
    None when it holds specs already, whatever they are."""
    snap = gitops.read_specs(where.repo, branch=where.branch, settings=where.resolved)
    if specfiles.PLATFORM_FILE in snap.blobs:
        return None
    return gitops.apply(platform_dir, where.repo, settings=where.resolved,
                        message="goldenpath: seed the control repository")


def current_platform(where: Where = Where()) -> PlatformSpec:
    """The platform as the branch holds it now (the process's snapshot of the branch's
    head, see :mod:`goldenpath.services.snapshots`: shared, never to be changed). Who may
    do what is decided on this."""
    return _snapshot(where).spec


def check_change(name: str, document: dict[str, Any], where: Where = Where()) -> None:
    """Refuse, before it is stored, a change the worker would refuse: the branch's
    platform with team ``name``'s file replaced by (or created from) ``document`` is
    loaded (the rules across files: the platform's maximum quota, ingress hosts, limits;
    SpecError), then rendered and checked as apply would (every guardrail;
    PolicyViolation names them). Writes nothing."""
    team = _name(name)
    snap = _snapshot(where)
    snap.check(snap.propose(team, document))


def plan_team(name: str, document: dict[str, Any],
              where: Where = Where()) -> gitops.Plan:
    """What replacing (or creating) team ``name``'s spec with ``document`` would change:
    the objects and the unified diff against the branch, by the same targets, guardrails
    and summary as ``goldenpath plan``, on the branch's snapshot with the proposed file.
    Writes nothing to the repository or the state directory's spec cache."""
    team = _name(name)
    parse_team(document, specfiles.team_path(team))
    snap = _snapshot(where)
    return snap.plan(snap.propose(team, document), where.resolved)


def _specs(where: Where, read: Callable[[str], bool] = lambda path: False
           ) -> gitops.SpecSnapshot:
    """The branch's spec files (those ``read`` selects with their contents): from the
    snapshot of its head, else (its specs do not load, or it holds none) read from it."""
    try:
        snap = _snapshot(where)
    except (NotFound, SpecError):
        return gitops.read_specs(where.repo, branch=where.branch, settings=where.resolved,
                                 read=read)
    contents = {path: content for path, content in snap.files.values() if read(path)}
    return gitops.SpecSnapshot(snap.head, dict(snap.blobs), contents)


def _loaded(where: Where, head: str) -> gitops.Loaded | None:
    """The process's snapshot of ``head`` when it keeps one (the API's submission checks
    built it), so the writer neither checks out nor loads every team; else None and the
    writer loads the specs itself."""
    snap = snapshots.kept_at(where.repo, where.branch, where.resolved, head)
    if snap is None:
        return None
    return gitops.Loaded(snap.head, snap.spec, snap.inputs, snap.files)


def _snapshot(where: Where) -> snapshots.Snapshot:
    if where.seen:
        return where.seen[0]
    found = snapshots.current(where.repo, where.branch, where.resolved)
    if where.seen is not None:
        where.seen.append(found)
    return found


def _write(root: Path, team: str, text: str) -> None:
    (root / "teams" / f"{team}.yaml").write_text(text, "utf-8")


def _precondition(team: str, path: str, blobs: Mapping[str, str], if_match: str) -> None:
    current = blobs.get(path)
    if current is None:
        raise _missing(team)
    if current != if_match:
        raise PreconditionFailed(team, if_match, current)


def _name(name: str) -> str:
    if not is_dns_label(name):
        raise _missing(name)
    return name


def _missing(name: str) -> NotFound:
    shown = name if is_dns_label(name) else "(not a team name)"
    return NotFound(f"no team {shown} in the control repository", kind="team", name=shown)


def _team(path: str, etag: str, content: bytes) -> TeamSpec:
    try:
        document = parse_yaml_mapping(content)
    except YamlProblem as err:
        raise SpecError([SpecIssue(path, "", str(err))]) from None
    return TeamSpec(specfiles.team_of_path(path) or path, etag, path,
                    content.decode("utf-8"), document)
