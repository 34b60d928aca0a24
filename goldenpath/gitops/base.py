"""The base a change is computed on: every path's blob id in a commit and goldenpath's
ownership records there (:class:`~goldenpath.gitops.tree.BaseTree`).

Reading it from scratch lists the whole tree and reads every ownership manifest: in a
repository of 1,000 teams that is most of a one-team apply. But a commit never changes,
so the analysis of one commit, kept beside the cache repository, turns into the
analysis of a later one through ``git diff-tree`` (which reads only the trees that
differ) and a re-read of the manifests that changed. The result is exactly what reading
from scratch gives; a missing, damaged or foreign cache is simply read from scratch and
saved again. The saved analysis is moved forward (saved again) only when it falls more
than a few hundred paths behind, so most applies only load it.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

from goldenpath.errors import GitError
from goldenpath.gitops import ownership
from goldenpath.gitops.ownership import UnitState
from goldenpath.gitops.repo import Workspace
from goldenpath.gitops.tree import BaseTree
from goldenpath.spec import fingerprint

FILE = "goldenpath-base.pickle"
#: Beyond this many changed paths since the saved commit, save the analysis of the new one.
SAVE_AFTER = 200
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
               IndexError, TypeError, ValueError)
Saved = tuple[str, str, dict[str, str], dict[str, tuple[str, str, dict[str, str]]]]


def read(ws: Workspace, head: str | None) -> BaseTree:
    """The base at ``head`` (empty when the branch does not exist yet)."""
    if head is None:
        return BaseTree.empty()
    saved = _load(ws.path / FILE)
    if saved is not None:
        try:
            changed = ws.diff_tree(saved[1], head)
        except GitError:  # the saved commit is gone (history rewritten and pruned)
            changed = None
        if changed is not None:
            base = _advance(ws, saved, changed)
            if len(changed) > SAVE_AFTER:
                _save(ws.path / FILE, head, base)
            return base
    base = _from_scratch(ws, head)
    _save(ws.path / FILE, head, base)
    return base


def _from_scratch(ws: Workspace, head: str) -> BaseTree:
    blobs = ws.tree(head)
    manifests = {unit: blobs[path] for path in blobs
                 if (unit := ownership.unit_of_manifest(path)) is not None}
    return BaseTree(blobs, _records(ws, manifests))


def _records(ws: Workspace, manifests: dict[str, str]) -> dict[str, UnitState]:
    contents = ws.read_many(sorted(set(manifests.values())))
    return {unit: ownership.parse_manifest(contents[blob]) for unit, blob in manifests.items()}


def _advance(ws: Workspace, saved: Saved, changed: dict[str, str | None]) -> BaseTree:
    """The saved analysis moved to a later commit by the paths that changed since."""
    _, _, blobs, recorded = saved
    records = {unit: UnitState(fp, files, inputs=inputs)
               for unit, (fp, inputs, files) in recorded.items()}
    manifests: dict[str, str] = {}
    for path, blob in changed.items():
        unit = ownership.unit_of_manifest(path)
        if blob is None:
            blobs.pop(path, None)
            if unit is not None:
                records.pop(unit, None)
        else:
            blobs[path] = blob
            if unit is not None:
                manifests[unit] = blob
    records.update(_records(ws, manifests))
    return BaseTree(blobs, records)


def _load(path: Path) -> Saved | None:
    try:
        saved = pickle.loads(path.read_bytes())
    except _UNREADABLE:
        return None
    ok = isinstance(saved, tuple) and len(saved) == 4 and saved[0] == fingerprint.code_fingerprint()
    return saved if ok else None


def _save(path: Path, head: str, base: BaseTree) -> None:
    recorded = {unit: (r.fingerprint, r.inputs, r.blobs) for unit, r in base.records.items()}
    data = pickle.dumps((fingerprint.code_fingerprint(), head, base.blobs, recorded),
                        protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
