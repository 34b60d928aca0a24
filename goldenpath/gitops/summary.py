"""What a ChangeSet means to a reviewer: objects added, changed and removed (by team,
kind and name), a unified diff per file, and the drift apply would overwrite.

Only changed files are read and parsed, so a summary costs what the change costs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from goldenpath.gitops import ownership, specfiles
from goldenpath.gitops.tree import BaseTree, ChangeSet, Drift
from goldenpath.spec.yamlio import YamlProblem, parse_yaml_mapping

Reader = Callable[[str], bytes]
PLATFORM = "(platform)"


@dataclass(frozen=True, order=True)
class ObjectChange:
    team: str
    kind: str
    name: str
    action: str  # added | changed | removed
    path: str


@dataclass(frozen=True)
class FileDiff:
    path: str
    diff: str


@dataclass(frozen=True)
class DriftReport:
    """A hand edit to an owned file, and the diff apply would make to it."""

    path: str
    deleted: bool
    diff: str


def team_of(unit: str) -> str:
    return unit.removeprefix("team-") if unit.startswith("team-") else PLATFORM


def _object(content: bytes) -> dict[str, Any] | None:
    """The object a file of the repository holds, if it is one. Anyone who can push
    there (a hand edit is drift) may have written it: read with the same bounded, safe
    loader as the specs (:func:`goldenpath.spec.yamlio.parse_yaml_mapping`)."""
    try:
        body = parse_yaml_mapping(content)
    except YamlProblem:
        return None
    return body if "kind" in body else None


def _name(body: dict[str, Any]) -> str:
    meta = body.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def _old(base: BaseTree, path: str, read: Reader) -> bytes | None:
    blob = base.blobs.get(path)
    return None if blob is None else read(blob)


def objects(change: ChangeSet, base: BaseTree, read: Reader) -> list[ObjectChange]:
    out: list[ObjectChange] = []
    for path in sorted({*change.writes, *change.deletes}):
        if path.startswith(ownership.OWNED_DIR) or specfiles.is_spec_path(path):
            continue  # a spec file holds no object; its diff shows what changed
        named = _named(change, base, path, read)
        if named is None:
            continue
        kind, name = named
        new = change.writes.get(path)
        action = "removed" if new is None else "changed" if path in base.blobs else "added"
        team = team_of(change.unit_of_path.get(path, ""))
        # The same project or application exists once per cluster: say which.
        where = f" @{path.split('/')[1]}" if path.startswith("clusters/") else ""
        out.append(ObjectChange(team, kind, name + where, action, path))
    return sorted(out)


def _named(change: ChangeSet, base: BaseTree, path: str,
           read: Reader) -> tuple[str, str] | None:
    """Kind and name of the object in a changed file: known for what goldenpath writes,
    parsed from the old content for what it removes."""
    if path in change.names:
        return change.names[path]
    if path in change.writes:
        return None  # a layout file
    body = _object(_old(base, path, read) or b"")
    if body is None or body.get("kind") == "Kustomization":
        return None
    return str(body["kind"]), _name(body)


def unified(path: str, old: bytes | None, new: bytes | None) -> str:
    before = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
    a = f"a/{path}" if old is not None else "/dev/null"
    b = f"b/{path}" if new is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, a, b))


def diffs(change: ChangeSet, base: BaseTree, read: Reader) -> list[FileDiff]:
    """A unified diff per changed file; the ownership manifests are left out."""
    paths = sorted({*change.writes, *change.deletes})
    return [FileDiff(p, unified(p, _old(base, p, read), change.writes.get(p)))
            for p in paths if not p.startswith(ownership.OWNED_DIR)]


def drift_reports(found: list[Drift], change: ChangeSet, base: BaseTree,
                  read: Reader) -> list[DriftReport]:
    """Hand edits apply would overwrite or delete, with what would be lost."""
    reports = []
    for item in found:
        if item.path not in change.writes and item.path not in change.deletes:
            continue  # the edit matches what goldenpath renders now
        current = _old(base, item.path, read)
        reports.append(DriftReport(item.path, item.current is None,
                                   unified(item.path, current, change.writes.get(item.path))))
    return reports
