"""Is a platform directory behind the control repository's specs?

Specs have more than one writer: ``goldenpath apply`` from a directory, and requests
through the services layer (the API), which edit the repository's spec files
(``platform/``, see :mod:`goldenpath.gitops.specfiles`) and record a ``Request-Id``
trailer. A directory copied before a request landed must not undo it. For each spec file
where the directory and the repository's branch differ, the file's history on that
branch decides (only those files' history is read, with one ``git log``):

- **behind**: the directory holds bytes the repository held before (an older version of
  the file, or a file the repository has since deleted), and a request wrote a later
  version: a copy that missed that change. A bytes-for-bytes earlier version is evidence
  no edit makes by accident. (When only directory applies wrote the later versions, the
  directory is going back on purpose, a revert: apply goes on, so a platform that never
  sees a request is never refused.)
- **conflict**: the directory holds bytes the repository never held (a local edit),
  while the repository's current version was written by a request (the last commit that
  changed the file carries ``Request-Id``): that version came from another writer, and
  the directory's edit cannot be shown to build on it. Also a team the repository has,
  last written by a request, that the directory lacks (created through the API after
  the copy) is behind.
- otherwise the directory is **ahead** (a local edit of a file directories own, a new
  team, a team the directory offboards): apply goes on.

The history cannot tell *when* a directory was copied, so a directory brought up to date
by hand and then edited is still refused once (its edit is on top of a request's version
it cannot be shown to hold): ``--force`` applies it and says so in the commit
(``Forced-Specs``); from then on the directory's version is the last one written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from goldenpath.errors import Conflict
from goldenpath.gitops import specfiles
from goldenpath.gitops.ownership import blob_id
from goldenpath.gitops.repo import Version, Workspace
from goldenpath.gitops.specfiles import SpecFiles

_SHOWN = 10


@dataclass(frozen=True, order=True)
class Stale:
    """A spec file the directory would overwrite with something older or unrelated."""

    name: str  # the team, or "platform" for platform.yaml
    why: str  # behind | conflict
    path: str
    last: Version | None  # the commit that wrote the repository's version

    def __str__(self) -> str:
        what = "is behind the repository" if self.why == "behind" else \
            "was edited here, but the repository's version came from another writer"
        if self.last is None:
            return f"{self.name} ({self.path} {what})"
        by = f"request {self.last.request}, " if self.last.request else ""
        return f"{self.name} ({self.path} {what}: {by}commit {self.last.commit[:12]})"


class SpecsBehind(Conflict):
    """The platform directory would undo spec changes it has not seen."""

    def __init__(self, stale: list[Stale]) -> None:
        self.stale = stale
        names = [str(s) for s in stale[:_SHOWN]]
        more = f" and {len(stale) - _SHOWN} more" if len(stale) > _SHOWN else ""
        super().__init__(
            f"the platform directory differs from the control repository's specs for "
            f"{'; '.join(names)}{more}; nothing was pushed. Take the repository's version "
            "(git show <commit>:<path>), redo any edit of yours on it, and apply again; "
            "apply --force overwrites the repository's specs (and says so in the commit)")

    @property
    def teams(self) -> list[str]:
        return [s.name for s in self.stale]


def stale_specs(ws: Workspace, head: str | None, files: SpecFiles,
                repo: Mapping[str, str] | None = None) -> list[Stale]:
    """The spec files of ``files`` (the directory's) that are behind or in conflict with
    the branch at ``head`` (whose spec files are ``repo``, path -> blob, when known),
    sorted by name."""
    if head is None:
        return []
    if repo is None:
        repo = ws.tree(head, under=specfiles.SPEC_DIR)
    mine = {path: blob_id(content) for path, content in files.values()}
    differ = sorted(p for p in repo.keys() | mine.keys()
                    if _named(p) is not None and repo.get(p) != mine.get(p))
    history = ws.history(head, differ)
    found = [_assess(path, mine.get(path), repo.get(path), history[path]) for path in differ]
    return sorted(s for s in found if s is not None)


def _named(path: str) -> str | None:
    if path == specfiles.PLATFORM_FILE:
        return "platform"
    return specfiles.team_of_path(path)


def _assess(path: str, mine: str | None, current: str | None,
            versions: list[Version]) -> Stale | None:
    name = _named(path) or path
    last = versions[0] if versions else None
    held = next((i for i, v in enumerate(versions) if mine is not None and v.blob == mine), None)
    if held is not None:  # an earlier version: behind if a request wrote a later one
        return Stale(name, "behind", path, last) if any(v.request for v in versions[:held]) \
            else None
    by_request = last is not None and bool(last.request)
    if mine is None:  # the repository has a team this directory lacks
        return Stale(name, "behind", path, last) if by_request else None
    return Stale(name, "conflict", path, last) if by_request else None
