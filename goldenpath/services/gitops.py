"""Use cases over the control repository: plan (what would change) and apply (commit and
push it). Shared by the CLI and the API.

Both load, render and check the spec first (``load_and_check``), so a bad spec or a
guardrail violation fails before git is touched. Apply builds its commit in a cache
repository and pushes without force; when the push is rejected it fetches the new base,
re-applies only the units it meant to change, and tries again a bounded number of times.
A failure at any step leaves the remote as it was.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from goldenpath.errors import Conflict
from goldenpath.gitops import ownership, summary, tree
from goldenpath.gitops.repo import PushRejected, Remote, Workspace, init_bare
from goldenpath.gitops.summary import DriftReport, FileDiff, ObjectChange
from goldenpath.gitops.tree import BaseTree, ChangeSet
from goldenpath.services.platform import Checked, load_and_check
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import PlatformSpec

MAX_ATTEMPTS = 5
_SUMMARY_LINES = 40


@dataclass(frozen=True)
class Plan:
    repo: str
    branch: str
    base: str | None
    objects: list[ObjectChange]
    diffs: list[FileDiff]
    drift: list[DriftReport]
    files: int

    @property
    def has_changes(self) -> bool:
        return self.files > 0


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    commit: str | None
    attempts: int


def remote_for(repo: str | None, spec: PlatformSpec, settings: Settings) -> Remote:
    """``--repo``, else GOLDENPATH_GITOPS_REPO, else the embedded bare repository."""
    url = repo or settings.gitops_repo
    if not url:
        path = settings.embedded_gitops_repo.resolve()
        init_bare(path, spec.platform.spec.gitops.target_revision)
        url = str(path)
    elif "://" not in url and not url.startswith("git@"):
        url = str(Path(url).resolve())
    return Remote(url, settings.gitops_username, settings.gitops_token.get_secret_value())


@contextmanager
def _workspace(checked: Checked, repo: str | None, settings: Settings) -> Iterator[Workspace]:
    remote = remote_for(repo, checked.spec, settings)
    with Workspace.open(settings.state_dir / "cache", remote) as ws:
        yield ws


def _base(ws: Workspace, target: str, branch: str) -> tuple[str | None, BaseTree]:
    """The commit to build on: the review branch if it exists, else the target branch."""
    head = ws.fetch(branch) if branch != target else None
    if head is None:
        head = ws.fetch(target)
    blobs = ws.tree(head)
    records = {}
    for path, blob in blobs.items():
        unit = ownership.unit_of_manifest(path)
        if unit is not None:
            records[unit] = ownership.parse_manifest(ws.read(blob))
    return head, BaseTree(blobs, records)


def _compute(checked: Checked, base: BaseTree, only: set[str] | None) -> ChangeSet:
    wanted = tree.desired(checked.bundle, base)
    return tree.changes(checked.spec, base, tree.merge(base, wanted, only))


def _plan(ws: Workspace, branch: str, head: str | None, base: BaseTree,
          change: ChangeSet, *, with_diffs: bool) -> Plan:
    found = summary.drift_reports(tree.drift(base), change, base, ws.read)
    return Plan(ws.remote.display, branch, head, summary.objects(change, base, ws.read),
                summary.diffs(change, base, ws.read) if with_diffs else [], found,
                len(change.writes) + len(change.deletes))


def plan(platform_dir: Path | str, repo: str | None = None, branch: str | None = None,
         settings: Settings | None = None, *, diffs: bool = True) -> Plan:
    """Render and compare with the repository; nothing is written anywhere."""
    settings = settings or get_settings()
    checked = load_and_check(platform_dir)
    target = checked.spec.platform.spec.gitops.target_revision
    with _workspace(checked, repo, settings) as ws:
        head, base = _base(ws, target, branch or target)
        change = _compute(checked, base, None)
        return _plan(ws, branch or target, head, base, change, with_diffs=diffs)


def apply(platform_dir: Path | str, repo: str | None = None, *, branch: str | None = None,
          message: str | None = None, settings: Settings | None = None,
          max_attempts: int = MAX_ATTEMPTS, diffs: bool = False) -> ApplyResult:
    """Commit and push the rendered tree; no commit when nothing changed."""
    return apply_checked(load_and_check(platform_dir), repo, branch=branch, message=message,
                         settings=settings, max_attempts=max_attempts, diffs=diffs)


def apply_checked(checked: Checked, repo: str | None = None, *, branch: str | None = None,
                  message: str | None = None, settings: Settings | None = None,
                  max_attempts: int = MAX_ATTEMPTS, diffs: bool = False) -> ApplyResult:
    """Apply a spec that already passed ``load_and_check`` (the git part of apply)."""
    settings = settings or get_settings()
    target = checked.spec.platform.spec.gitops.target_revision
    push_to = branch or target
    with _workspace(checked, repo, settings) as ws:
        head, base = _base(ws, target, push_to)
        first, change = base, _compute(checked, base, None)
        intended = set(change.units)
        for attempt in range(1, max_attempts + 1):
            result = _plan(ws, push_to, head, base, change, with_diffs=diffs)
            if not change:
                return ApplyResult(result, None, attempt)
            text = commit_message(checked.spec, result, message)
            commit = ws.commit(head, change.writes, change.deletes, text)
            try:
                ws.push(commit, push_to)
                return ApplyResult(result, commit, attempt)
            except PushRejected:
                if attempt == max_attempts:
                    raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)  # jitter spreads racing appliers
            head, base = _base(ws, target, push_to)
            tree.check_rebase(first, base, tree.desired(checked.bundle, base), intended)
            change = _compute(checked, base, intended)
    raise Conflict("unreachable")  # pragma: no cover - the loop returns or raises


def spec_digest(spec: PlatformSpec) -> str:
    docs = [spec.platform.model_dump(mode="json", by_alias=True)]
    docs += [team.model_dump(mode="json", by_alias=True) for team in spec.teams]
    text = json.dumps(docs, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def commit_message(spec: PlatformSpec, result: Plan, subject: str | None) -> str:
    """Subject, a summary of object changes, and trailers naming spec and version."""
    counts = Counter(change.action for change in result.objects)
    teams = sorted({c.team for c in result.objects} - {summary.PLATFORM})
    head = subject or f"goldenpath: update {_teams(teams) if teams else 'platform objects'}"
    stats = (f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} "
             f"removed objects; {result.files} files")
    lines = [f"{c.action:8} {c.team:20} {c.kind} {c.name}" for c in result.objects]
    if len(lines) > _SUMMARY_LINES:
        lines = [*lines[:_SUMMARY_LINES], f"... and {len(lines) - _SUMMARY_LINES} more"]
    trailers = f"Spec-Digest: {spec_digest(spec)}\nGoldenpath-Version: {_version()}"
    parts = [head, stats, "\n".join(lines), trailers]
    return "\n\n".join(part for part in parts if part) + "\n"


def _teams(teams: list[str]) -> str:
    return ", ".join(teams) if len(teams) <= 3 else f"{len(teams)} teams"


def _version() -> str:
    try:
        return importlib.metadata.version("goldenpath")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
