"""The specs a branch of the control repository holds, loaded once per process and head:
what the API authorizes, checks and plans on (:mod:`goldenpath.services.teams`).

Loading 1,000 team files and analysing the commit a plan compares with take seconds;
every API request needs the platform (who may do what), and a plan or a submitted change
needs both. So a process keeps, per control repository, branch and state directory, the
last :class:`Snapshot`: the head commit, its spec files, the platform loaded from them
and (built when first asked for) the analysis of that commit
(:mod:`goldenpath.gitops.base`). Each use asks the remote for the branch's head, one
``git ls-remote`` (a few milliseconds on a local repository), and keeps using the
snapshot while the head is the same. When the head moved (any writer: this process's
worker, another replica, a CLI apply), the next use builds the snapshot of the new head
from the previous one: only the team files whose blob changed are parsed and checked
again (:func:`goldenpath.spec.loader.with_team_files`); everything is loaded again when
``platform.yaml`` changed. One thread builds while the others asking wait for it.

A proposal (one team's file replaced by a requested spec, edited with the round-trip
editor the writer uses) is loaded against the snapshot's platform the same way, so a
plan or a submission check parses one file and renders and checks what apply would
render and check to build on the head (:func:`goldenpath.services.gitops.check_on`).

Guarantees:

- A snapshot is never changed once shared. Its models are frozen; everything derived on
  demand (team models, resolved quotas, listings, digests, every ownership record of the
  analysis) is computed before any other thread sees it; a proposal is a new
  :class:`~goldenpath.spec.PlatformSpec` that shares the other teams' entries and never
  changes them.
- Nothing is written to the repository or to the state directory's spec cache. The cache
  repository is fetched into and the analysis of the head saved beside it, as ``plan``
  does; when there is no cache repository yet, one is kept (as ``apply`` keeps it), since
  the snapshot reads its objects later.
- A snapshot is at most as old as the last ``git ls-remote``: a change another writer
  pushed is seen by the next request. Requests asking at the same time share one
  ``git ls-remote`` (:class:`_Heads`), but only one that began after they asked, so
  sharing never hides a push that finished before a request arrived.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.errors import NotFound
from goldenpath.gitops import base as base_tree
from goldenpath.gitops import layout, specfiles
from goldenpath.gitops.repo import Remote, Workspace, remote_head
from goldenpath.gitops.specfiles import SpecFiles
from goldenpath.gitops.tree import BaseTree
from goldenpath.render import digest
from goldenpath.scaffold import teamfile
from goldenpath.services import gitops
from goldenpath.settings import Settings
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.loader import with_team_files

#: snapshots kept per process (one per repository, branch and state directory in use)
KEPT = 4

_Key = tuple[str, str, str]


@dataclass(frozen=True)
class Proposal:
    """The platform with team ``team``'s file proposed, the spec files apply would commit,
    and every unit's input digest (``inputs``)."""

    team: str
    spec: PlatformSpec
    files: SpecFiles
    inputs: dict[str, str]


class Snapshot:
    """A branch at one head commit: its spec files (``blobs``: path -> blob id of every
    file under ``platform/``; ``files``: unit -> (path, bytes) of the spec files), the
    platform loaded from them, every unit's input digest, and the analysis of the commit
    (:meth:`base`). Everything in it is only read once it is shared."""

    def __init__(self, remote: Remote, cache_root: Path, *, branch: str, head: str,
                 spec: PlatformSpec, blobs: Mapping[str, str], files: SpecFiles) -> None:
        self.remote, self.branch, self.head = remote, branch, head
        self.spec, self.blobs, self.files = spec, blobs, files
        #: every unit's input digest at this head (see goldenpath.render.digest)
        self.inputs = layout.unit_inputs(spec)
        self._cache_root = cache_root
        self._base: BaseTree | None = None
        self._ws: Workspace | None = None
        self._lock = threading.Lock()

    def base(self) -> BaseTree:
        """The analysis of the head commit, read on first use (every record then read,
        so threads only read it)."""
        with self._lock:
            if self._base is None:
                with Workspace.open(self._cache_root, self.remote, keep=False) as ws:
                    self._base = base_tree.read(ws, self.head).settled()
            return self._base

    def reader(self) -> Workspace:
        """The cache repository, to read the head's objects; opened on first use, shared
        by threads (see :meth:`goldenpath.gitops.repo.Workspace.reading`)."""
        with self._lock:
            if self._ws is None:
                self._ws = Workspace.reading(self._cache_root, self.remote)
            return self._ws

    def propose(self, team: str, document: dict[str, Any]) -> Proposal:
        """The platform with team ``team``'s file replaced by (or created from)
        ``document`` (already validated), edited as the writer edits it (comments and
        formatting of what stays kept) and loaded as a load of the branch would load it:
        SpecError names the file as the repository does."""
        path, unit = specfiles.team_path(team), layout.team_unit(team)
        old = self.files.get(unit)
        text = teamfile.replaced(old[1].decode("utf-8"), path, document) if old is not None \
            else teamfile.new_text(document)
        raw = text.encode("utf-8")
        spec = with_team_files(self.spec, {team: (path, raw)})
        return Proposal(team, spec, {**self.files, unit: (path, raw)}, self.inputs_of(spec, team))

    def inputs_of(self, spec: PlatformSpec, team: str) -> dict[str, str]:
        """Every unit's input digest in ``spec`` (this platform with team ``team``'s file
        changed): this head's, with those the change can affect computed again
        (:func:`goldenpath.render.digest.affected`)."""
        changed = layout.unit_inputs(spec, digest.affected(self.spec, spec, team))
        kept = dict(self.inputs)  # every unit of this head; only ``team`` can have gone
        if team not in spec.entry:
            kept.pop(layout.team_unit(team), None)
        return {**kept, **changed}

    def check(self, proposal: Proposal) -> None:
        """Render and check the proposal as apply would on this head: PolicyViolation
        names every guardrail it breaks."""
        gitops.check_on(proposal.spec, self.base(), proposal.inputs)

    def plan(self, proposal: Proposal, settings: Settings) -> gitops.Plan:
        """What committing the proposal on this head would change."""
        return gitops.plan_on(proposal.spec, proposal.files, self.reader(), head=self.head,
                              base=self.base(), spec_blobs=self.blobs, branch=self.branch,
                              settings=settings, inputs=proposal.inputs)


_LOCK = threading.Lock()
_SNAPSHOTS: OrderedDict[_Key, Snapshot] = OrderedDict()
_BUILDING: dict[_Key, threading.Lock] = {}


def current(repo: str | None, branch: str, settings: Settings) -> Snapshot:
    """The snapshot of ``branch``'s head as the remote has it now; NotFound when the
    branch holds no specs yet (or does not exist)."""
    branch = gitops.check_branch(branch)
    remote = gitops.remote_for(repo, settings)
    embedded = None if repo or settings.gitops_repo else settings.embedded_gitops_repo
    if embedded is not None and not (embedded / "HEAD").is_file():
        raise _no_specs(remote, branch)  # apply creates it: nothing to ask yet
    head = _heads_of(remote.url, branch).ask(lambda: remote_head(remote, branch))
    if head is None:
        raise _no_specs(remote, branch)
    key = (remote.url, branch, str(settings.state_dir.resolve()))
    found = _kept(key, head)
    if found is not None:
        return found
    with _builder(key):  # one build per key at a time; the others wait and take it
        found = _kept(key, head)
        if found is None:
            with _LOCK:
                previous = _SNAPSHOTS.get(key)
            found = _build(remote, branch, settings, previous)
            with _LOCK:
                _SNAPSHOTS[key] = found
                _SNAPSHOTS.move_to_end(key)
                while len(_SNAPSHOTS) > KEPT:
                    _BUILDING.pop(_SNAPSHOTS.popitem(last=False)[0], None)
    return found


class _Heads:
    """One branch's head as the remote answers it, asked by one ``git ls-remote`` at a
    time for every thread waiting (20 clients planning at once made 20 processes, the
    most costly step of a plan whose snapshot is current).

    A caller takes the answer of a question begun after it arrived, never of one already
    running when it came: that question may have been asked before a push the caller
    has seen finish (a client reading its own write), so its answer could be older than
    the caller's knowledge. Questions are numbered; a caller arriving when ``begun`` is
    n needs an answer to question n+1 or later, and asks it itself when none is running.
    Each caller gets the outcome, the same error included."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = False
        self._begun = 0
        self._answered = 0
        self._outcome: tuple[str | None, BaseException | None] = (None, None)

    def ask(self, question: Callable[[], str | None]) -> str | None:
        with self._changed:
            needed = self._begun + 1
            while self._answered < needed:
                if not self._running:
                    self._running = True
                    self._begun += 1
                    number = self._begun
                    break
                self._changed.wait()
            else:
                return self._result()
        try:
            outcome: tuple[str | None, BaseException | None] = (question(), None)
        except Exception as error:  # every caller waiting gets it, not only this one
            outcome = (None, error)
        with self._changed:
            self._running = False
            self._answered, self._outcome = number, outcome
            self._changed.notify_all()
            return self._result()

    def _result(self) -> str | None:
        head, error = self._outcome
        if error is not None:
            raise error
        return head


_HEADS: dict[tuple[str, str], _Heads] = {}


def _heads_of(url: str, branch: str) -> _Heads:
    with _LOCK:
        return _HEADS.setdefault((url, branch), _Heads())


def kept_at(repo: str | None, branch: str, settings: Settings, head: str) -> Snapshot | None:
    """The snapshot of ``head`` if this process keeps one; never builds one (a writer
    asking holds the cache repository a build would open) and asks the remote nothing."""
    remote = gitops.remote_for(repo, settings)
    return _kept((remote.url, gitops.check_branch(branch), str(settings.state_dir.resolve())),
                 head)


def forget() -> None:
    """Drop every snapshot kept (tests; a process that changes its settings)."""
    with _LOCK:
        _SNAPSHOTS.clear()


def _kept(key: _Key, head: str) -> Snapshot | None:
    with _LOCK:
        found = _SNAPSHOTS.get(key)
        if found is not None:
            _SNAPSHOTS.move_to_end(key)
    return found if found is not None and found.head == head else None


def _builder(key: _Key) -> threading.Lock:
    with _LOCK:
        return _BUILDING.setdefault(key, threading.Lock())


def _no_specs(remote: Remote, branch: str) -> NotFound:
    return NotFound(f"the control repository {remote.display} {branch} holds no specs yet "
                    f"({specfiles.PLATFORM_FILE}); seed it with goldenpath apply",
                    kind="platform")


def _build(remote: Remote, branch: str, settings: Settings,
           previous: Snapshot | None) -> Snapshot:
    """The snapshot of the branch's head now, reusing ``previous``'s files and models
    where their blobs are the same."""
    cache_root = settings.state_dir / "cache"
    known = {} if previous is None else \
        {blob: content for path, content in previous.files.values()
         if (blob := previous.blobs.get(path)) is not None}
    with Workspace.open(cache_root, remote, keep=True) as ws:
        head = ws.fetch(branch)
        blobs = ws.tree(head, under=specfiles.SPEC_DIR) if head is not None else {}
        if head is None or specfiles.PLATFORM_FILE not in blobs:
            raise _no_specs(remote, branch)
        wanted = {p: b for p, b in blobs.items()
                  if p == specfiles.PLATFORM_FILE or specfiles.team_of_path(p)}
        contents = {**known, **ws.read_many(sorted(set(wanted.values()) - known.keys()))}
    files: SpecFiles = {_unit(path): (path, contents[blob]) for path, blob in wanted.items()}
    spec = _load(files, blobs, previous)
    return Snapshot(remote, cache_root, branch=branch, head=head, spec=_settled(spec),
                    blobs=blobs, files=files)


def _unit(path: str) -> str:
    team = specfiles.team_of_path(path)
    return specfiles.PLATFORM_UNIT if team is None else layout.team_unit(team)


def _load(files: SpecFiles, blobs: Mapping[str, str], previous: Snapshot | None
          ) -> PlatformSpec:
    """The platform of ``files``: from ``previous`` and the team files that changed when
    platform.yaml did not, else loaded whole."""
    if previous is not None and \
            previous.blobs.get(specfiles.PLATFORM_FILE) == blobs[specfiles.PLATFORM_FILE]:
        before = {p for unit, (p, _) in previous.files.items()
                  if unit != specfiles.PLATFORM_UNIT}
        now = {p for unit, (p, _) in files.items() if unit != specfiles.PLATFORM_UNIT}
        changed = {p for p in before | now if previous.blobs.get(p) != blobs.get(p)}
        return with_team_files(previous.spec, {
            specfiles.team_of_path(p) or p: (p, files[_unit(p)][1] if p in now else None)
            for p in changed})
    with tempfile.TemporaryDirectory(prefix="goldenpath-specs-") as tmp:
        for path, content in files.values():
            target = Path(tmp) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        with gitops.repository_names(Path(tmp)):
            loaded = load_platform(Path(tmp) / specfiles.SPEC_DIR)  # no cache: all built
    # named as the repository names them: messages, and nothing read from the checkout
    sources = {name: specfiles.team_path(name) if name else specfiles.PLATFORM_FILE
               for name in loaded.sources}
    return PlatformSpec(loaded.platform, loaded.entries, sources, loaded.digests[""])


def _settled(spec: PlatformSpec) -> PlatformSpec:
    """``spec`` with everything it derives on demand derived now, so threads only read
    it: every team's model and resolved quotas, and the spec's cached properties."""
    for entry in spec.entries:
        model = entry.model
        for env in model.spec.environments:
            if env in spec.environments:
                spec.quota_of(entry.name, env)
    _ = (spec.teams, spec.team_names, spec.entry, spec.reach, spec.clusters, spec.cluster_of,
         spec.tenant_namespaces, spec.ordered, spec.claims, spec.cluster_names, spec.dangling,
         spec.digests, spec.listed_by(""))
    return spec

