"""Use cases over the control repository: plan (what would change) and apply (commit and
push it). Shared by the CLI and the API.

Both load the spec first, so a bad spec fails before git is touched; a guardrail
violation fails before anything is committed. What is rendered depends on the base: a
team whose files the base holds as the current code renders its current inputs (its
recorded input digest, see :mod:`goldenpath.render.digest`, equals the current one and no
file drifted) is kept as it is; only the other teams and the cluster-level objects are
rendered and checked (:func:`~goldenpath.services.platform.check_teams`, global guardrails
such as capacity still over every team). So a one-team change costs about the same in a
repository of 10 or 1,000 teams, and no object reaches the repository without passing
every guardrail for the inputs and code that produced it. A team this process saw pass
under its current digest (the API's submission check of the very change a worker then
commits; :mod:`goldenpath.services.passedteams`) is taken as a kept team is: its objects
as they passed, neither rendered nor checked by the per-team guardrails again.

Apply builds its commit in a cache repository and pushes without force; when the push is
rejected it fetches the new base, re-applies only the units it meant to change, and tries
again a bounded number of times. A failure at any step leaves the remote as it was. An
apply that would offboard more than MAX_OFFBOARDED_TEAMS teams, or remove a namespace of
a protected environment, is refused unless the caller allows it (:class:`Removals`).

The specs travel with their objects: each commit holds the spec files the tree was
rendered from (:mod:`goldenpath.gitops.specfiles`), so specs and objects never disagree.
Apply from a directory is refused where the directory is behind the repository's specs
(a request changed a team since it was copied: :mod:`goldenpath.gitops.staleness`)
unless forced, which the commit says. :func:`apply_edit` is the other writer: it checks
the repository's specs out, lets a request edit them, and commits through the same
steps, authored by the requester; on a push race it redoes the edit on the new specs.

State is made only by success: plan creates nothing (no embedded repository, no cache; a
remote without a cache is read into a temporary one), apply creates the embedded
repository when it first pushes and a new cache when it returns, so a failed command
(an unreachable remote, a refused spec) leaves the state directory as it found it.

Plan and apply run with the cyclic garbage collector paused (:mod:`goldenpath.gcpause`):
they make no reference cycles of note, and on a 1,000-team platform the collector's
rescans of the loaded spec and base analysis were a sixth of a one-team change.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from goldenpath.errors import (
    Conflict,
    FileSystemError,
    GitError,
    GoldenpathError,
    NotFound,
    SpecError,
    SpecIssue,
)
from goldenpath.gcpause import cyclic_gc_paused
from goldenpath.gitops import base as base_tree
from goldenpath.gitops import layout, ownership, specfiles, summary, tree
from goldenpath.gitops.ownership import UnitState
from goldenpath.gitops.repo import (
    Author,
    Committer,
    PushRejected,
    Remote,
    Workspace,
    init_bare,
)
from goldenpath.gitops.specfiles import SpecFiles
from goldenpath.gitops.staleness import SpecsBehind, Stale, stale_specs
from goldenpath.gitops.summary import DriftReport, FileDiff, ObjectChange
from goldenpath.gitops.tree import BaseTree, ChangeSet
from goldenpath.policy.verdicts import Verdicts
from goldenpath.render import digest
from goldenpath.services import passedteams
from goldenpath.services.platform import Checked, check_teams, state_cache
from goldenpath.services.servicerepos import service_repo_warnings
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.cache import SpecCache
from goldenpath.spec.loader import with_team_files
from goldenpath.spec.refname import branch_problem
from goldenpath.statefile import state_error

MAX_ATTEMPTS = 5
_SUMMARY_LINES = 40
#: Teams one apply may offboard without --allow-offboarding (none with a namespace in a
#: protected environment): more at once looks like a lost file or a wrong --platform.
MAX_OFFBOARDED_TEAMS = 2


@dataclass(frozen=True)
class Removals:
    """What a change removes from the cluster: teams offboarded (every object of theirs
    deleted) and tenant namespaces deleted, those of protected environments apart."""

    teams: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()

    @property
    def need_consent(self) -> bool:
        return len(self.teams) > MAX_OFFBOARDED_TEAMS or bool(self.protected)

    def __str__(self) -> str:
        parts = []
        if self.teams:
            parts.append(f"{len(self.teams)} team{'s' if len(self.teams) != 1 else ''} "
                         f"({', '.join(self.teams)})")
        if self.protected:
            parts.append(f"the namespaces of protected environments {', '.join(self.protected)}")
        return " and ".join(parts)


class OffboardingRefused(Conflict):
    """Apply would remove more teams than MAX_OFFBOARDED_TEAMS, or a namespace of a
    protected environment, and the caller did not allow it."""

    def __init__(self, removals: Removals) -> None:
        self.removals = removals
        super().__init__(
            f"apply would remove {removals}; nothing was pushed. Check the platform "
            "directory; if these removals are intended, run apply with --allow-offboarding")


@dataclass(frozen=True)
class Origin:
    """Who asked for a change, recorded in its commit: the author, and the trailers
    ``Requested-By`` (a subject, ``user:alice@example.com``) and ``Request-Id``."""

    requested_by: str = ""
    request_id: str = ""
    author: Author | None = None

    def trailers(self) -> list[str]:
        found = [("Requested-By", self.requested_by), ("Request-Id", self.request_id)]
        return [f"{key}: {value}" for key, value in found if value]


@dataclass(frozen=True)
class Plan:
    repo: str
    branch: str
    base: str | None
    objects: list[ObjectChange]
    diffs: list[FileDiff]
    drift: list[DriftReport]
    files: int
    removals: Removals = Removals()
    #: service repositories that lag what the plan renders (plan only; never an error)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return self.files > 0


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    commit: str | None
    attempts: int
    #: spec files --force overwrote (teams, or "platform"), named in the commit
    forced: tuple[str, ...] = ()


def remote_for(repo: str | None, settings: Settings) -> Remote:
    """``--repo``, else GOLDENPATH_GITOPS_REPO, else the embedded bare repository (which
    apply creates when it first pushes; see :func:`_embedded`)."""
    url = repo or settings.gitops_repo
    if not url:
        url = str(settings.embedded_gitops_repo.resolve())
    elif "://" not in url and not url.startswith("git@"):
        url = str(Path(url).resolve())
    return Remote(url, settings.gitops_username, settings.gitops_token.get_secret_value())


def _embedded(repo: str | None, settings: Settings) -> Path | None:
    """The embedded repository when it is the remote, else None."""
    return None if repo or settings.gitops_repo else settings.embedded_gitops_repo.resolve()


def check_branch(branch: str) -> str:
    """``branch``, if git and goldenpath accept it as a branch to push to."""
    problem = branch_problem(branch)
    if problem is not None:
        raise GitError(f"branch {branch!r} {problem}")
    return branch


@dataclass(frozen=True)
class _Target:
    """What apply wants the repository to hold: the checked objects, every team unit's
    input digest (units neither rendered nor reusable cannot be built), and the spec
    files they came from (:mod:`goldenpath.gitops.specfiles`)."""

    checked: Checked
    inputs: dict[str, str]
    specs: SpecFiles

    @classmethod
    def of(cls, checked: Checked, specs: SpecFiles) -> _Target:
        return cls(checked, layout.unit_inputs(checked.spec), specs)

    @classmethod
    def for_base(cls, spec: PlatformSpec, base: BaseTree, specs: SpecFiles,
                 inputs: dict[str, str] | None = None) -> _Target:
        """Render and check only the teams the base does not hold as they are now
        (``inputs``: every unit's, when known already)."""
        inputs = layout.unit_inputs(spec) if inputs is None else inputs
        kept = tree.reusable(base, inputs)
        stale = [n for n in spec.team_names if layout.team_unit(n) not in kept]
        # teams that passed under their current digest in this process: as if kept
        digests = {n: inputs[u] for n in stale if (u := layout.team_unit(n)) in inputs}
        found = passedteams.PASSED.found(digests)
        checked = check_teams(spec, [n for n in stale if n not in found])
        passedteams.PASSED.record(checked.bundle,
                                  {n: d for n, d in digests.items() if n not in found})
        return cls(checked.with_passed(found), inputs, specs)

    def verify(self, change: ChangeSet) -> None:
        """The spec files the change writes are those the objects were rendered from."""
        written = {unit for unit, (path, _) in self.specs.items() if path in change.writes}
        specfiles.verify(self.checked.spec, self.specs, written)

    def wanted(self, base: BaseTree, only: set[str] | None, current: dict[str, str]
               ) -> dict[str, UnitState]:
        """Rendered units, and the others as the base holds them, with their spec files;
        every unit of the spec unless ``only`` (a retry: the others come from the base
        anyway). ``current``: path -> blob of the spec files in the base commit."""
        missing = {u: d for u, d in self.inputs.items() if not self._rendered(u)}
        reuse = tree.reusable(base, missing)
        if only is None and missing.keys() - reuse:
            raise Conflict(f"{len(missing.keys() - reuse)} teams were neither rendered nor found "
                           "unchanged in the repository; run apply again")
        kept = specfiles.unchanged(self.specs, base.records, current, base.intact, base.unowned)
        return specfiles.with_specs(tree.desired(self.checked.bundle, base, self.inputs, reuse),
                                    self.specs, kept)

    def _rendered(self, unit: str) -> bool:
        team = layout.team_of_unit(unit)
        return team is None or self.checked.rendered(team)


def load_specs(platform_dir: Path | str, settings: Settings, *, cache: bool = True
               ) -> PlatformSpec:
    """The spec, with unchanged files' models from the state directory's cache, when an
    apply made one (a command never creates state before it succeeds) and ``cache``."""
    return load_platform(platform_dir, state_cache(settings) if cache else None)


@contextmanager
def _workspace(repo: str | None, settings: Settings, *, keep: bool) -> Iterator[_Repo]:
    """The remote's cache; a new one is kept only when ``keep`` and the block succeeds."""
    with _local_state(settings):
        if keep:  # checked before anything is pushed, not when the cache is saved after
            usable_state_dir(settings.state_dir)
        remote = remote_for(repo, settings)
        with Workspace.open(settings.state_dir / "cache", remote, keep=keep) as ws:
            yield _Repo(ws, _embedded(repo, settings))
        if keep:  # the next load keeps validated models here (see load_specs); only a cache
            with suppress(OSError):
                settings.spec_cache_dir.mkdir(parents=True, exist_ok=True)


@contextmanager
def _local_state(settings: Settings) -> Iterator[None]:
    """The state directory's own failures (not a directory, not writable, full) as
    errors that say what to do: a full disk is DiskFull (the worker retries)."""
    try:
        yield
    except OSError as error:
        raise state_error(settings.state_dir, error) from error


def usable_state_dir(state: Path) -> None:
    """FileSystemError unless ``state`` (and its cache) are directories or can be made."""
    for path in (state, state / "cache"):
        if path.exists() and not path.is_dir():
            raise FileSystemError(f"the state directory {state} is not usable: {path} is a "
                                  "file; set GOLDENPATH_STATE_DIR to a directory")


@dataclass(frozen=True)
class _Repo:
    """A remote's cache, and the embedded repository when that is the remote."""

    ws: Workspace
    embedded: Path | None

    def base(self, target: str, branch: str) -> _Base:
        """The commit to build on: the review branch if it exists, else the target
        branch; nothing when the embedded repository was never created."""
        if self.embedded is not None and not (self.embedded / "HEAD").is_file():
            return _Base(None, BaseTree.empty(), {})
        head = self.ws.fetch(branch) if branch != target else None
        if head is None:
            head = self.ws.fetch(target)
        specs = self.ws.tree(head, under=specfiles.SPEC_DIR)
        return _Base(head, base_tree.read(self.ws, head), specs)

    def push(self, commit: str, branch: str, target: str) -> None:
        if self.embedded is not None:
            init_bare(self.embedded, target)  # on first use: HEAD names the target branch
        self.ws.push(commit, branch)


@dataclass(frozen=True)
class _Base:
    """A commit to build on, its analysis, and path -> blob of its spec files."""

    head: str | None
    tree: BaseTree
    specs: dict[str, str]


def _compute(target: _Target, at: _Base, only: set[str] | None) -> ChangeSet:
    base = at.tree
    wanted = target.wanted(base, only, at.specs)
    return tree.changes(target.checked.spec, base, tree.merge(base, wanted, only))


def _plan(ws: Workspace, branch: str, head: str | None, base: BaseTree, change: ChangeSet,
          *, spec: PlatformSpec, with_diffs: bool) -> Plan:
    found = summary.drift_reports(base.drift, change, base, ws.read)
    objects = summary.objects(change, base, ws.read)
    return Plan(ws.remote.display, branch, head, objects,
                summary.diffs(change, base, ws.read) if with_diffs else [], found,
                len(change.writes) + len(change.deletes), removals(spec, change, objects))


def removals(spec: PlatformSpec, change: ChangeSet, objects: list[ObjectChange]) -> Removals:
    """The teams a change offboards (their ownership manifest goes) and the tenant
    namespaces it deletes; an environment the platform no longer has counts as protected."""
    teams = sorted(t for unit in change.units if (t := layout.team_of_unit(unit)) is not None
                   and ownership.manifest_path(unit) in change.deletes)
    gone = [(c.team, c.name) for c in objects if c.action == "removed" and c.kind == "Namespace"]
    envs = spec.environments
    protected = [name for team, name in gone
                 if (env := envs.get(name.removeprefix(f"{team}-"))) is None or env.is_protected]
    return Removals(tuple(teams), tuple(sorted(n for _, n in gone)), tuple(sorted(protected)))


@cyclic_gc_paused()
def plan(platform_dir: Path | str, repo: str | None = None, branch: str | None = None,
         settings: Settings | None = None, *, diffs: bool = True,
         spec_cache: bool = True) -> Plan:
    """Render and compare with the repository; nothing is written anywhere (without
    ``spec_cache``, not even the spec cache: the API plans proposals). Warns where
    a service repository lags the spec (see :mod:`goldenpath.services.servicerepos`)."""
    settings = settings or get_settings()
    spec = load_specs(platform_dir, settings, cache=spec_cache)
    target = spec.platform.spec.gitops.target_revision
    branch = check_branch(branch) if branch is not None else target
    specs = specfiles.read(spec)
    with _workspace(repo, settings, keep=False) as remote:
        at = remote.base(target, branch)
        wants = _Target.for_base(spec, at.tree, specs)
        change = _compute(wants, at, None)
        result = _plan(remote.ws, branch, at.head, at.tree, change, spec=spec, with_diffs=diffs)
        stale = stale_specs(remote.ws, at.head, specs, at.specs)
    warnings = [f"apply would refuse: {SpecsBehind(stale)}"] if stale else []
    return replace(result, warnings=[*warnings, *_lagging(spec, settings, result, wants)])


def check_on(spec: PlatformSpec, base: BaseTree,
             inputs: dict[str, str] | None = None) -> Checked:
    """What apply renders and checks to build on ``base``: the cluster-level objects and
    the teams the base does not hold as they are now (``inputs``: every unit's input
    digest, when known already), every guardrail enforced (PolicyViolation names them);
    writes nothing (the teams that passed are kept in the process's memo, from which the
    writer takes them: :mod:`goldenpath.services.passedteams`)."""
    return _Target.for_base(spec, base, {}, inputs).checked


@cyclic_gc_paused()
def plan_on(spec: PlatformSpec, specs: SpecFiles, ws: Workspace, *, head: str,
            base: BaseTree, spec_blobs: Mapping[str, str], branch: str,
            settings: Settings, inputs: dict[str, str] | None = None) -> Plan:
    """:func:`plan` of a spec built in memory (a proposed change to the specs the branch
    holds, see :mod:`goldenpath.services.snapshots`) on the branch's ``head``, whose
    analysis is ``base`` and whose spec files are ``spec_blobs`` (path -> blob); ``specs``
    are the spec files the change would commit. The same targets, guardrails and summary
    as plan, reading old contents from ``ws``; writes nothing. No staleness warning: a
    proposal is an edit of the branch's own specs (its writer checks If-Match).
    ``inputs``: every unit's input digest, when known already."""
    at = _Base(head, base, dict(spec_blobs))
    wants = _Target.for_base(spec, base, specs, inputs)
    change = _compute(wants, at, None)
    result = _plan(ws, branch, head, base, change, spec=spec, with_diffs=True)
    return replace(result, warnings=_lagging(spec, settings, result, wants))


def _lagging(spec: PlatformSpec, settings: Settings, result: Plan, wants: _Target
             ) -> list[str]:
    """Where a service repository lags what the plan renders: the services of the teams
    it changes (their Applications and SLO rules are what apply would write)."""
    teams = {c.team for c in result.objects if c.action != "removed"}
    apps = [r for r in wants.checked.bundle.of_kind("Application") if r.coords.team in teams]
    return service_repo_warnings(spec, settings, apps)


@cyclic_gc_paused()
def apply(platform_dir: Path | str, repo: str | None = None, *, branch: str | None = None,
          message: str | None = None, settings: Settings | None = None,
          max_attempts: int = MAX_ATTEMPTS, diffs: bool = False,
          allow_offboarding: bool = False, force: bool = False) -> ApplyResult:
    """Commit and push the rendered tree and the specs; no commit when nothing changed.
    Only the teams the repository does not already hold as they are now are rendered and
    checked. A directory behind the repository's specs is refused (:class:`SpecsBehind`)
    unless ``force``, which the commit then says (``Forced-Specs``)."""
    settings = settings or get_settings()
    # A first apply creates the state directory only when it succeeds; what it parsed is
    # then kept there, so the next command does not parse every spec file again.
    first = SpecCache.deferred() if state_cache(settings) is None else None
    spec = load_specs(platform_dir, settings) if first is None else \
        load_platform(platform_dir, cache=first)
    result = _apply(spec, None, specfiles.read(spec), repo, branch=branch, message=message,
                    settings=settings, max_attempts=max_attempts, diffs=diffs,
                    allow_offboarding=allow_offboarding, guard=_Guard(force=force))
    if first is not None:
        first.save_into(state_cache(settings))
    return result


#: Edits the platform directory checked out of the repository; gets the repository's
#: spec files (path -> blob id) it was checked out from.
Edit = Callable[[Path, Mapping[str, str]], None]


@dataclass(frozen=True)
class EditRequest:
    """One request's change to the specs: its edit, who asked (the commit's author and
    trailers), the commit's subject, whether it may offboard (see :class:`Removals`), and
    the teams whose files the edit reads or writes (None: any; a chain whose edits all
    say checks out only those files when it can start from :class:`Loaded` specs)."""

    edit: Edit
    origin: Origin
    message: str | None = None
    allow_offboarding: bool = False
    teams: frozenset[str] | None = None


@dataclass(frozen=True)
class Loaded:
    """A branch's specs at ``head`` loaded already (a process's snapshot of its head, see
    :mod:`goldenpath.services.snapshots`): the platform, every unit's input digest and
    the spec files. Shared: only read."""

    head: str
    spec: PlatformSpec
    inputs: Mapping[str, str]
    files: SpecFiles


#: The loaded specs of a head when the caller has them (else None: loaded here).
LoadedAt = Callable[[str], Loaded | None]


#: What became of one edit of a batch: its commit (None: the specs held it already), or
#: the error that refused it (nothing of it was committed).
EditOutcome = ApplyResult | GoldenpathError


def apply_edit(edit: Edit, origin: Origin, repo: str | None = None, *, branch: str,
               message: str | None = None, settings: Settings | None = None,
               allow_offboarding: bool = False, max_attempts: int = MAX_ATTEMPTS) -> ApplyResult:
    """A change to the specs the repository holds: check them out of ``branch``, let
    ``edit`` change them, then load, render, check and commit exactly as apply does (the
    specs with their objects), authored and trailed by ``origin``. A push race reads the
    new specs and runs ``edit`` again on them (which re-checks its precondition), so a
    request never undoes a change that landed first; a failure leaves the remote as it
    was. Spec errors name the files as the repository does (``platform/teams/x.yaml``)."""
    outcome, = apply_edits([EditRequest(edit, origin, message, allow_offboarding)], repo,
                           branch=branch, settings=settings, max_attempts=max_attempts)
    if isinstance(outcome, GoldenpathError):
        raise outcome
    return outcome


@cyclic_gc_paused()
def apply_edits(edits: Sequence[EditRequest], repo: str | None = None, *, branch: str,
                settings: Settings | None = None, max_attempts: int = MAX_ATTEMPTS,
                loaded: LoadedAt | None = None) -> list[EditOutcome]:
    """Several requests' changes, one commit each, pushed together: each edit is made on
    the specs as the commit before it left them and committed on top of it (loaded,
    rendered, checked as :func:`apply_edit` does), so every commit holds one request's
    change with its author and trailers and a consistent tree; the branch then moves once,
    by one push. An edit that fails is left out (its outcome is the error) and the next
    builds on the last good commit. On a push race every edit is made again on the new
    specs (each re-checks its precondition). Errors of git or the state directory fail
    the whole batch and leave the remote as it was."""
    settings = settings or get_settings()
    branch = check_branch(branch)
    with _workspace(repo, settings, keep=True) as remote:
        for attempt in range(1, max_attempts + 1):
            at = remote.base(branch, branch)
            if specfiles.PLATFORM_FILE not in at.specs:
                raise NotFound(f"{remote.ws.remote.display} {branch} holds no specs yet "
                               f"({specfiles.PLATFORM_FILE}); seed it with goldenpath apply",
                               kind="platform")
            start = loaded(at.head) if loaded is not None and at.head is not None else None
            outcomes, head = _chain(remote.ws, at, edits, branch=branch, settings=settings,
                                    attempt=attempt, start=start)
            if head is None or head == at.head:
                return outcomes  # nothing to push: every edit failed or changed nothing
            try:
                remote.push(head, branch, branch)
                return outcomes
            except PushRejected:
                if attempt == max_attempts:
                    raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise Conflict("unreachable")  # pragma: no cover - the loop returns or raises


def _chain(ws: Workspace, at: _Base, edits: Sequence[EditRequest], *, branch: str,
           settings: Settings, attempt: int,
           start: Loaded | None = None) -> tuple[list[EditOutcome], str | None]:
    """Make and commit ``edits`` one on top of the other from ``at``; the outcomes and the
    last commit (``at.head`` when none was made). One checkout serves the whole chain and
    the platform is loaded once: each edit's files are loaded into the last commit's
    platform (:class:`_Specs`), so an edit costs its own team's parse, render and checks,
    not a load of every team. Started from ``start`` (the base's specs loaded already)
    when every edit names its teams, only their files are checked out and nothing is
    loaded. An edit that fails is undone in the checkout. One ``git fast-import`` makes
    every commit (:meth:`Workspace.committer`); if it fails, the chain does."""
    outcomes: list[EditOutcome] = []
    named = [request.teams for request in edits]
    with tempfile.TemporaryDirectory(prefix="goldenpath-specs-") as tmp:
        if start is not None and start.head == at.head and None not in named:
            teams = frozenset(team for some in named if some is not None for team in some)
            specs = _Specs.partial(start, Path(tmp), teams)
        else:
            specs = _Specs.open(ws, at, Path(tmp), settings)
        with ws.committer() as committer:  # one git fast-import for all the commits
            for request in edits:
                try:
                    request.edit(specs.root, at.specs)
                    proposed = specs.edited(settings)
                    result, commit, change = _commit_edit(ws, committer, at, proposed, request,
                                                          branch=branch)
                except GoldenpathError as error:
                    if committer.failed is not None:
                        raise  # git stopped: the chain's commits are lost with it
                    outcomes.append(error)
                    specs.restore()
                    continue
                outcomes.append(ApplyResult(result, commit, attempt))
                specs = proposed
                if commit is not None:
                    at = _committed(at, commit, change)
    return outcomes, at.head


def _committed(at: _Base, commit: str, change: ChangeSet) -> _Base:
    """The base ``commit`` is, made on ``at`` with ``change`` by this process: derived
    from ``at`` and the change (the bytes committed), as reading the commit would give
    it, without a git call (several per commit were a fifth of a batched change)."""
    changed: dict[str, str | None] = {path: ownership.blob_id(content)
                                      for path, content in change.writes.items()}
    changed.update(dict.fromkeys(change.deletes))
    manifests = {unit: ownership.parse_manifest(content)
                 for path, content in change.writes.items()
                 if (unit := ownership.unit_of_manifest(path)) is not None}
    specs = {path: blob for path, blob in {**at.specs, **changed}.items()
             if blob is not None and path.startswith(f"{specfiles.SPEC_DIR}/")}
    return _Base(commit, base_tree.advanced(at.tree, changed, manifests), specs)


@dataclass(frozen=True)
class _Specs:
    """The specs of a chain's last commit: its checkout (which the next edit changes),
    the platform loaded from it, every unit's input digest, and the spec files (unit ->
    (path in the repository, bytes)) exactly as committed."""

    root: Path
    spec: PlatformSpec
    inputs: dict[str, str]
    files: SpecFiles
    #: the spec files (paths in the repository) the checkout holds; None: every one
    present: frozenset[str] | None = None

    @classmethod
    def open(cls, ws: Workspace, at: _Base, into: Path, settings: Settings) -> _Specs:
        root = specfiles.checkout(ws, at.specs, into)
        return cls.loaded(root, settings)

    @classmethod
    def partial(cls, start: Loaded, into: Path, teams: frozenset[str]) -> _Specs:
        """The loaded specs, with only platform.yaml and ``teams``' files checked out
        (writing every file of 1,000 teams costs more than the change)."""
        root = into / specfiles.SPEC_DIR
        (root / "teams").mkdir(parents=True)
        wanted = {specfiles.PLATFORM_FILE, *(specfiles.team_path(t) for t in teams)}
        present = {path for path, _ in start.files.values() if path in wanted}
        for path, raw in start.files.values():
            if path in present:
                (into / path).write_bytes(raw)
        return cls(root, start.spec, dict(start.inputs), dict(start.files), frozenset(present))

    @classmethod
    def loaded(cls, root: Path, settings: Settings) -> _Specs:
        """Everything loaded from the checkout (the chain's start, or platform.yaml
        edited). Models may be built from their files on demand: the checkout lives until
        the chain is committed, and a failed edit is undone in it."""
        with repository_names(root.parent):
            spec = load_specs(root, settings)
        return cls(root, spec, layout.unit_inputs(spec), specfiles.read(spec))

    def edited(self, settings: Settings) -> _Specs:
        """The specs with what the last edit changed in the checkout: only the team files
        it changed are parsed and checked, and only the input digests they can affect are
        computed again (as :mod:`goldenpath.services.snapshots` builds a new head)."""
        changed = self._changed()
        teams = {specfiles.team_of_path(path): (path, raw) for path, raw in changed.items()}
        if None in teams:  # platform.yaml: everything depends on it
            self._complete()
            return self.loaded(self.root, settings)
        named = {team: file for team, file in teams.items() if team is not None}
        with repository_names(self.root.parent):
            spec = with_team_files(self.spec, named)
        affected = set().union(*(digest.affected(self.spec, spec, team) for team in named))
        # only the named teams can have gone (the others are self.spec's, whose units
        # and files these hold, keyed by unit): no walk over every team per edit
        inputs, files = dict(self.inputs), dict(self.files)
        for team in named:
            if team not in spec.entry:
                inputs.pop(layout.team_unit(team), None)
            files.pop(layout.team_unit(team), None)
        inputs.update(layout.unit_inputs(spec, affected))
        files.update({layout.team_unit(team): (path, raw) for team, (path, raw)
                      in named.items() if raw is not None})
        present = None if self.present is None else self.present | changed.keys()
        return _Specs(self.root, spec, inputs, files, present)

    def _complete(self) -> None:
        """Check out every spec file the checkout lacks (before a load of it all)."""
        if self.present is not None:
            for path, raw in self.files.values():
                target = self.root.parent / path
                if path not in self.present and not target.exists():
                    target.write_bytes(raw)

    def restore(self) -> None:
        """Undo whatever an edit changed in the checkout."""
        current = {path: raw for path, raw in self.files.values()}
        for path in self._changed():
            target = self.root.parent / path
            if current.get(path) is None:
                target.unlink()
            else:
                target.write_bytes(current[path])

    def _changed(self) -> dict[str, bytes | None]:
        """Path -> new bytes (None: removed) of the spec files the checkout holds other
        than :attr:`files` says."""
        now = {f"{specfiles.SPEC_DIR}/teams/{entry.name}": Path(entry.path).read_bytes()
               for entry in os.scandir(self.root / "teams")
               if entry.name.endswith(".yaml") and entry.is_file(follow_symlinks=False)}
        platform = self.root / "platform.yaml"
        if platform.is_file():
            now[specfiles.PLATFORM_FILE] = platform.read_bytes()
        before = {path: raw for path, raw in self.files.values()
                  if self.present is None or path in self.present}
        return {path: now.get(path) for path in sorted(before.keys() | now.keys())
                if before.get(path) != now.get(path)}


def _commit_edit(ws: Workspace, committer: Committer, at: _Base, specs: _Specs,
                 request: EditRequest, *, branch: str) -> tuple[Plan, str | None, ChangeSet]:
    wants = _Target.for_base(specs.spec, at.tree, specs.files, specs.inputs)
    change = _compute(wants, at, None)
    result = _plan(ws, branch, at.head, at.tree, change, spec=specs.spec, with_diffs=False)
    if not change:
        return result, None, change
    if result.removals.need_consent and not request.allow_offboarding:
        raise OffboardingRefused(result.removals)
    wants.verify(change)
    text = commit_message(specs.spec, result, request.message, request.origin.trailers())
    return result, committer(at.head, change.writes, change.deletes, text,
                             request.origin.author), change


@contextmanager
def repository_names(checkout: Path) -> Iterator[None]:
    """Spec errors of a checkout named by the files' paths in the repository."""
    prefix = f"{checkout}/"
    try:
        yield
    except SpecError as error:
        raise SpecError([SpecIssue(i.file.replace(prefix, ""), i.path,
                                   i.message.replace(prefix, ""), i.value, i.has_value)
                         for i in error.issues]) from None


@dataclass(frozen=True)
class SpecSnapshot:
    """The spec files of a branch: its head commit, path -> blob id of each file under
    ``platform/`` (a blob id is the file's digest: its ETag), and the contents read."""

    head: str | None
    blobs: dict[str, str]
    contents: dict[str, bytes]


def read_specs(repo: str | None = None, *, branch: str, settings: Settings | None = None,
               read: Callable[[str], bool] = lambda path: False) -> SpecSnapshot:
    """The spec files ``branch`` holds, with the contents of the paths ``read`` selects;
    nothing is written anywhere (an embedded repository not yet created holds none)."""
    settings = settings or get_settings()
    branch = check_branch(branch)
    with _workspace(repo, settings, keep=False) as remote:
        if remote.embedded is not None and not (remote.embedded / "HEAD").is_file():
            return SpecSnapshot(None, {}, {})
        head = remote.ws.fetch(branch)
        blobs = remote.ws.tree(head, under=specfiles.SPEC_DIR)
        wanted = {p: b for p, b in blobs.items() if read(p)}
        found = remote.ws.read_many(sorted(set(wanted.values())))
    return SpecSnapshot(head, blobs, {p: found[b] for p, b in wanted.items()})


@cyclic_gc_paused()
def apply_checked(checked: Checked, repo: str | None = None, *, branch: str | None = None,
                  message: str | None = None, settings: Settings | None = None,
                  max_attempts: int = MAX_ATTEMPTS, diffs: bool = False,
                  allow_offboarding: bool = False) -> ApplyResult:
    """Apply a whole platform that already passed ``load_and_check``."""
    if checked.teams is not None:
        raise ValueError("apply_checked needs every team rendered (load_and_check)")
    specs = specfiles.read(checked.spec)
    return _apply(checked.spec, _Target.of(checked, specs), specs, repo, branch=branch,
                  message=message, settings=settings or get_settings(),
                  max_attempts=max_attempts, diffs=diffs, allow_offboarding=allow_offboarding,
                  guard=_Guard())


@dataclass(frozen=True)
class _Guard:
    """Refuse a directory behind the repository's specs, unless ``force``."""

    force: bool = False

    def check(self, ws: Workspace, at: _Base, specs: SpecFiles) -> list[Stale]:
        """The stale specs ``force`` overwrites (raise SpecsBehind without it)."""
        stale = stale_specs(ws, at.head, specs, at.specs)
        if stale and not self.force:
            raise SpecsBehind(stale)
        return stale


def _apply(spec: PlatformSpec, given: _Target | None, specs: SpecFiles, repo: str | None, *,
           branch: str | None, message: str | None, settings: Settings, max_attempts: int,
           diffs: bool, allow_offboarding: bool, guard: _Guard | None = None,
           origin: Origin = Origin()) -> ApplyResult:
    result, wants = _push_change(spec, given, specs, repo, branch=branch, message=message,
                                 settings=settings, max_attempts=max_attempts, diffs=diffs,
                                 allow_offboarding=allow_offboarding, guard=guard,
                                 origin=origin)
    _record_verdicts(settings, wants)
    return result


def _record_verdicts(settings: Settings, wants: _Target) -> None:
    """The teams apply checked passed every guardrail under their input digests: validate
    and render need not check them again (:mod:`goldenpath.policy.verdicts`)."""
    inputs = {team: d for unit, d in wants.inputs.items()
              if (team := layout.team_of_unit(unit)) is not None}
    checked = [team for team in inputs if wants.checked.rendered(team)]
    Verdicts.open(state_cache(settings)).save(inputs, checked)


def _push_change(spec: PlatformSpec, given: _Target | None, specs: SpecFiles,
                 repo: str | None, *, branch: str | None, message: str | None,
                 settings: Settings, max_attempts: int, diffs: bool, allow_offboarding: bool,
                 guard: _Guard | None, origin: Origin) -> tuple[ApplyResult, _Target]:
    target = spec.platform.spec.gitops.target_revision
    push_to = check_branch(branch) if branch is not None else target
    with _workspace(repo, settings, keep=True) as remote:
        ws = remote.ws
        at = remote.base(target, push_to)
        wants = given or _Target.for_base(spec, at.tree, specs)
        first, change = at.tree, _compute(wants, at, None)
        intended = set(change.units)
        for attempt in range(1, max_attempts + 1):
            head, base = at.head, at.tree
            forced = guard.check(ws, at, specs) if guard is not None else []
            result = _plan(ws, push_to, head, base, change, spec=spec, with_diffs=diffs)
            if not change:
                return ApplyResult(result, None, attempt), wants
            if result.removals.need_consent and not allow_offboarding:
                raise OffboardingRefused(result.removals)
            wants.verify(change)
            trailers = origin.trailers()
            if forced:
                trailers.append(f"Forced-Specs: {', '.join(s.name for s in forced)}")
            text = commit_message(spec, result, message, trailers)
            commit = ws.commit(head, change.writes, change.deletes, text, origin.author)
            try:
                remote.push(commit, push_to, target)
                return ApplyResult(result, commit, attempt, tuple(s.name for s in forced)), wants
            except PushRejected:
                if attempt == max_attempts:
                    raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)  # jitter spreads racing appliers
            at = remote.base(target, push_to)
            tree.check_rebase(first, at.tree, wants.wanted(at.tree, intended, at.specs),
                              intended)
            change = _compute(wants, at, intended)
    raise Conflict("unreachable")  # pragma: no cover - the loop returns or raises


def spec_digest(spec: PlatformSpec) -> str:
    """sha256 of the document digests (sha256 of each canonical JSON) of the platform and
    the teams, in that order, one per line."""
    docs = [spec.digests[""], *(spec.digests[name] for name in spec.team_names)]
    text = "".join(f"{doc}\n" for doc in docs)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def commit_message(spec: PlatformSpec, result: Plan, subject: str | None,
                   trailers: list[str] | None = None) -> str:
    """Subject, a summary of object changes, and trailers naming spec and version (and
    any ``trailers`` given: who asked, the request, a forced overwrite)."""
    counts = Counter(change.action for change in result.objects)
    teams = sorted({c.team for c in result.objects} - {summary.PLATFORM})
    head = subject or f"goldenpath: update {_teams(teams) if teams else 'platform objects'}"
    stats = (f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} "
             f"removed objects; {result.files} files")
    lines = [f"{c.action:8} {c.team:20} {c.kind} {c.name}" for c in result.objects]
    if len(lines) > _SUMMARY_LINES:
        lines = [*lines[:_SUMMARY_LINES], f"... and {len(lines) - _SUMMARY_LINES} more"]
    tail = "\n".join([f"Spec-Digest: {spec_digest(spec)}", f"Goldenpath-Version: {_version()}",
                      *(trailers or [])])
    parts = [head, stats, "\n".join(lines), tail]
    return "\n\n".join(part for part in parts if part) + "\n"


def _teams(teams: list[str]) -> str:
    return ", ".join(teams) if len(teams) <= 3 else f"{len(teams)} teams"


@functools.cache
def _version() -> str:
    """The version of the running code, read once (it does not change under a running
    process; the lookup walks the installed distributions, per commit a twentieth of
    a chained commit's CPU)."""
    try:
        return importlib.metadata.version("goldenpath")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
