"""Use cases of the golden paths: ``new_service`` and ``update_service``.

``new_service`` checks everything it can before touching anything, then renders the
template, commits, pushes and adds the service to the team's spec file. Each step that
changes the world registers its undo; a failure at any later step runs them in reverse,
so there is never an orphan repository or a half-edited spec. Where the team specs are
read and the service is listed is a :class:`TeamSpecs`: a platform directory edited in
place (:class:`Directory`, ``goldenpath new-service``), or the control repository, where
the API lists it by one commit (:mod:`goldenpath.services.servicerequests`).

``update_service`` renders what the current spec says (its template, its declared
parameters validated again as ``new_service`` validates them, the team's environments and
the service's port, replicas and resources) against the repository as its record says it
was rendered, so a service is behind when either the template or the spec moved. The
record is the tenant's: it is read bounded and validated, and it must name the same team,
service and template as the spec, or nothing is rendered and nothing is pushed. The
update branch is never forced: an existing one is built on (see
:mod:`goldenpath.scaffold.update`), and a branch that moves during the run is a Conflict,
with nothing overwritten.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from types import TracebackType
from typing import Any, Literal, Protocol

from goldenpath.errors import (
    Conflict,
    GitError,
    NotFound,
    SpecError,
    SpecIssue,
    TemplateError,
)
from goldenpath.scaffold import cookie, teamfile, update, vcs
from goldenpath.scaffold.catalog import TemplateInfo, check_parameters, find_template
from goldenpath.scaffold.context import ServiceInputs, inputs_from_spec, service_context
from goldenpath.scaffold.record import RECORD_PATH, Record, read_record, write_record
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.models import ServiceSpec, Team
from goldenpath.spec.resolve import application_name
from goldenpath.spec.types import DNS_LABEL_MAX, is_dns_label


class Undo:
    """Undo steps run in reverse when the block fails. A step that fails itself (a host
    may refuse to delete a default branch) becomes a note on the original error, which is
    never hidden, saying what to clean up by hand."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], object]] = []

    def add(self, step: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        self._steps.append(lambda: step(*args, **kwargs))

    def __enter__(self) -> Undo:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if error is None:
            return
        for step in reversed(self._steps):
            try:
                step()
            except (GitError, OSError) as failed:
                error.add_note(f"undo failed, clean up by hand: {failed}")


@dataclass(frozen=True)
class Target:
    """Where a service repository lives; ``bare`` is set for the embedded local default."""

    url: str
    bare: Path | None = None


@dataclass(frozen=True)
class Scaffolded:
    team: str
    service: str
    template: str
    version: str
    repository: str
    commit: str
    spec_file: Path
    #: the control repository's commit that listed the service (None: a directory's
    #: file was edited, or an earlier attempt of the same request committed it)
    spec_commit: str | None = None


@dataclass(frozen=True)
class UpdateResult:
    #: pending: the update branch holds this update already (nothing pushed)
    status: Literal["current", "behind", "updated", "conflicts", "pending"]
    recorded: str
    latest: str
    #: whether the spec's inputs differ from the recorded ones (else only the template moved)
    spec_moved: bool = False
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    branch: str | None = None


@dataclass(frozen=True)
class NewService:
    """A new service request that passed every check ``new_service`` makes before it
    touches anything."""

    spec: PlatformSpec
    team: Team
    name: str
    info: TemplateInfo
    target: Target


class TeamSpecs(Protocol):
    """Where ``new_service`` reads the specs it checks against and lists the service."""

    def load(self) -> PlatformSpec:
        """The specs as they are now (their ``sources`` name the files as results and
        errors show them)."""

    def allow(self, spec: PlatformSpec, team: str) -> None:
        """Raise when the one asking may not add a service to ``team`` in ``spec``."""

    def register(self, spec: PlatformSpec, team: str, entry: dict[str, Any],
                 undo: Undo) -> str | None:
        """List ``entry`` in ``team``'s services (nothing when it is listed already) and
        prove the platform still loads with it; the commit that did, if any. Registers
        its undo, or is one atomic step that changes nothing when it fails."""


@dataclass(frozen=True)
class Directory:
    """A platform directory: its team file is edited in place (``new-service``)."""

    platform_dir: Path

    def load(self) -> PlatformSpec:
        return load_platform(self.platform_dir)

    def allow(self, spec: PlatformSpec, team: str) -> None:
        """Whoever may write the directory may add services: nothing to check."""

    def register(self, spec: PlatformSpec, team: str, entry: dict[str, Any],
                 undo: Undo) -> str | None:
        register(self.platform_dir, Path(spec.sources[team]), entry, undo)
        return None


def check_new_service(settings: Settings, spec: PlatformSpec, team_name: str, name: str, *,
                      template_name: str, params: dict[str, Any]) -> NewService:
    """Every check of ``new_service`` that writes nothing: the team exists, the name is a
    free DNS label whose application names fit, the template is the platform's, its
    parameters pass, and the repository does not exist yet. The API runs it before it
    accepts a request, so a bad one is refused at once rather than failing later."""
    team = find_team(spec, team_name)
    _check_name(spec, team, name)
    info = find_template(spec, template_name, settings.templates_root)
    check_parameters(info, params)
    target = repository_target(settings, spec, team.name, name)
    _check_free(target)
    return NewService(spec, team, name, info, target)


def new_service(settings: Settings, team_name: str, name: str, template_name: str,
                params: dict[str, str], *, specs: TeamSpecs | None = None) -> Scaffolded:
    """Scaffold, push and list a service; ``specs``: the platform directory's by default."""
    specs = specs or Directory(settings.platform_dir)
    spec = specs.load()
    specs.allow(spec, team_name)
    checked = check_new_service(settings, spec, team_name,
                                name, template_name=template_name, params=params)
    spec, team, info, target = checked.spec, checked.team, checked.info, checked.target
    inputs = inputs_from_spec(team, ServiceSpec(name=name, template=info.name,
                                                parameters=params))
    record = _record(info, inputs)
    with TemporaryDirectory(prefix="goldenpath-new-") as tmp, Undo() as undo:
        project = cookie.render(info.path, service_context(spec, inputs), Path(tmp))
        write_record(project, record)
        message = f"New {info.kind} {name} from template {info.name} {record.version[:12]}"
        commit = publish(project, target, message, undo)
        listed = specs.register(spec, team.name, _entry(name, info, params), undo)
    return Scaffolded(team.name, name, info.name, record.version, target.url, commit,
                      Path(spec.sources[team.name]), listed)


def resume_new_service(settings: Settings, team_name: str, name: str, template_name: str,
                       params: dict[str, str], *,
                       specs: TeamSpecs | None = None) -> Scaffolded | None:
    """Finish a ``new_service`` whose process died part way (killed: its undo never ran),
    for a worker that claims the request again. The repository pushed and the spec
    listing it: done, nothing is created again. Pushed but not listed: it is listed now,
    and when that fails (the requester may no longer add it, the spec no longer takes
    it) the repository is removed, as the first attempt's undo would have. Nothing
    pushed: an empty embedded repository the dead run created is removed and None says
    start again. Listed but not pushed is not this run's work: Conflict.

    Only call it for a request whose earlier attempt recorded that it started: a
    repository found here is then that attempt's (the claim's fencing keeps other
    workers of the same request out, and the checks before it started found none)."""
    specs = specs or Directory(settings.platform_dir)
    spec = specs.load()
    team = find_team(spec, team_name)
    info = find_template(spec, template_name, settings.templates_root)
    target = repository_target(settings, spec, team.name, name)
    listed = any(s.name == name for s in team.spec.services)
    commit = vcs.remote_head(target.url)
    if commit is None:
        if listed:
            raise Conflict(f"team {team.name!r} lists a service {name!r} but its repository "
                           f"{target.url} holds nothing; it was not made by this request")
        if target.bare is not None:
            shutil.rmtree(target.bare, ignore_errors=True)
        return None
    spec_commit = None
    if not listed:
        with Undo() as undo:
            _unpublish(target, undo)
            specs.allow(spec, team.name)
            spec_commit = specs.register(spec, team.name, _entry(name, info, params), undo)
    inputs = inputs_from_spec(team, ServiceSpec(name=name, template=info.name,
                                                parameters=params))
    return Scaffolded(team.name, name, info.name, _record(info, inputs).version, target.url,
                      commit, Path(spec.sources[team.name]), spec_commit)


def find_team(spec: PlatformSpec, name: str) -> Team:
    if name not in spec.entry:
        known = ", ".join(spec.team_names) or "none"
        raise NotFound(f"team {name!r} does not exist (known: {known})", kind="team", name=name)
    return spec.team(name)


def _check_name(spec: PlatformSpec, team: Team, name: str) -> None:
    file = spec.sources.get(team.name, team.name)
    if not is_dns_label(name):
        raise SpecError([SpecIssue(file, "spec.services", "is not a DNS-1123 label (lower-case "
                                   "letters, digits and '-')", value=name, has_value=True)])
    if any(s.name == name for s in team.spec.services):
        raise Conflict(f"team {team.name!r} already has a service {name!r} ({file})")
    longest = max((application_name(team.name, name, e) for e in team.spec.environments),
                  key=len)
    if len(longest) > DNS_LABEL_MAX:
        raise SpecError([SpecIssue(file, "spec.services", f"makes the Argo CD application name "
                                   f"{longest!r} longer than 63 characters",
                                   value=name, has_value=True)])


def repository_target(settings: Settings, spec: PlatformSpec, team: str, service: str) -> Target:
    if settings.service_repos == "platform":
        template = spec.platform.spec.service_repos.url_template
        return Target(template.format(team=team, service=service))
    bare = (settings.state_dir / "repos" / team / f"{service}.git").resolve()
    return Target(str(bare), bare)


def _check_free(target: Target) -> None:
    taken = target.bare.exists() if target.bare else vcs.remote_has_refs(target.url)
    if taken:
        raise Conflict(f"service repository {target.url} exists already")


def _record(info: TemplateInfo, inputs: ServiceInputs) -> Record:
    commit, dirty = vcs.template_commit(info.path)
    # A dirty template cannot be rendered again from git, so only its declared version counts.
    return Record(info.name, None if dirty else commit, info.declared_version, inputs)


def _entry(name: str, info: TemplateInfo, params: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "template": info.name}
    if params:
        entry["parameters"] = dict(sorted(params.items()))
    return entry


def publish(project: Path, target: Target, message: str, undo: Undo) -> str:
    """Commit ``project`` as ``main`` of the target, registering how to take it back;
    return the commit. The commit is written with one ``git fast-import`` into a bare
    repository: the embedded one directly, or a scratch one beside the project that is
    then pushed to the remote (never forced). A repository another request created
    meanwhile is a Conflict raised before the undo is registered: this request never
    takes it back."""
    if target.bare is not None:
        vcs.create_bare(target.bare)
        _unpublish(target, undo)
        return vcs.import_tree(target.bare, project, message)
    scratch = project.parent / f"{project.name}.git"
    vcs.create_bare(scratch)
    commit = vcs.import_tree(scratch, project, message)
    vcs.push_bare(scratch, target.url)
    _unpublish(target, undo)
    return commit


def _unpublish(target: Target, undo: Undo) -> None:
    """How to take a published service repository back."""
    if target.bare is not None:
        undo.add(shutil.rmtree, target.bare, ignore_errors=True)
    else:
        undo.add(vcs.delete_remote_branch, target.url)


def register(platform_dir: Path, spec_file: Path, entry: dict[str, Any], undo: Undo) -> None:
    """Add the service to the team file, then prove the platform still loads with it."""
    original = spec_file.read_text(encoding="utf-8")
    undo.add(teamfile.replace_text, spec_file, original)
    teamfile.add_service(spec_file, entry)
    load_platform(platform_dir)


# --- update ---------------------------------------------------------------------------


def update_service(settings: Settings, team_name: str, name: str,
                   check: bool = False) -> UpdateResult:
    spec = load_platform(settings.platform_dir)
    team = find_team(spec, team_name)
    service = next((s for s in team.spec.services if s.name == name), None)
    if service is None:
        raise NotFound(f"team {team.name!r} has no service {name!r}", kind="service", name=name)
    info = find_template(spec, service.template, settings.templates_root)
    check_parameters(info, service.parameters)
    current = inputs_from_spec(team, service)
    target = repository_target(settings, spec, team.name, name)
    with TemporaryDirectory(prefix="goldenpath-update-") as tmp:
        work = Path(tmp)
        repo = vcs.clone(target.url, work / "repo")
        recorded = read_record(work / "repo")
        _check_recorded(recorded, current, info)
        latest = _record(info, current)
        old = _render_recorded(spec, recorded, info, work / "old")
        new = cookie.render(info.path, service_context(spec, current), work / "new")
        changed = update.changed_files(old, new)
        moved = recorded.inputs != current
        if not changed or check:
            status: Literal["current", "behind"] = "behind" if changed else "current"
            return UpdateResult(status, recorded.version, latest.version, moved, changed)
        branch = update.branch_name(latest)
        if vcs.has_remote_branch(repo, branch):
            vcs.checkout_remote_branch(repo, branch)
            base = _branch_base(spec, work / "repo", branch, latest, info,
                                out=work / "branch")
            if base is None:
                return UpdateResult("pending", recorded.version, latest.version, moved,
                                    changed, [], branch)
            old = base
        conflicts = update.apply(repo, old, new, latest)
        vcs.push(repo, target.url, branch)
    return UpdateResult("conflicts" if conflicts else "updated", recorded.version,
                        latest.version, moved, changed, conflicts, branch)


def _branch_base(spec: PlatformSpec, checkout: Path, branch: str, latest: Record,
                 info: TemplateInfo, *, out: Path) -> Path | None:
    """The update branch exists already (an earlier run made it; people may have pushed
    resolutions to it) and is checked out, to be built on, never replaced. None when it
    holds this very update (its record is the one this run would write): nothing to do.
    Else the render of the branch's record: the base of the merge onto the branch."""
    try:
        on_branch = read_record(checkout)
        _check_recorded(on_branch, latest.inputs, info)
    except TemplateError as err:
        raise TemplateError(f"branch {branch}: {err}") from None
    if on_branch == latest:
        return None
    return _render_recorded(spec, on_branch, info, out)


def _check_recorded(recorded: Record, current: ServiceInputs, info: TemplateInfo) -> None:
    """The record describes this service of this team from this template, and its
    parameters pass the template's checks: else it is refused, not rendered."""
    was, now = recorded.inputs, current
    for what, old, new in (("team", was.team, now.team),
                           ("service", was.service.name, now.service.name),
                           ("template", recorded.template, info.name),
                           ("service template", was.service.template, info.name)):
        if old != new:
            raise TemplateError(f"{RECORD_PATH}: records {what} {old!r}, but this is {new!r} "
                                "in the spec; the record does not describe this service")
    try:
        check_parameters(info, dict(was.service.parameters))
    except TemplateError as err:
        raise TemplateError(f"{RECORD_PATH}: recorded parameters: {err}") from None


def _render_recorded(spec: PlatformSpec, recorded: Record, info: TemplateInfo,
                     out: Path) -> Path:
    """The service as the recorded template version rendered it from the recorded inputs."""
    context = service_context(spec, recorded.inputs)
    try:
        if recorded.commit is not None:
            source = vcs.export_template(info.path, recorded.commit, out / "template")
            return cookie.render(source, context, out / "render")
        if recorded.declared_version == info.declared_version:
            return cookie.render(info.path, context, out / "render")
    except (TemplateError, GitError) as err:
        raise TemplateError(f"the recorded version {recorded.version[:12]} of template "
                            f"{info.name!r} cannot be rendered again: {err}") from err
    raise TemplateError(f"template {info.name!r} {recorded.declared_version} was recorded "
                        "without a git commit and the template is now "
                        f"{info.declared_version}; the old version cannot be rendered again")
