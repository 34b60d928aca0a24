"""Template updates as a 3-way merge, the way cruft and copier do it, with git's machinery.

The template as recorded, rendered with the recorded inputs (old), and the template as
it is now, rendered with what the current spec says (new), become two commits O and N
(N's parent is O) in the service's clone. Cherry-picking N onto a branch from the
service's ``main`` is then a 3-way merge with O as the base: template and spec changes
land where the service did not touch the same lines, the service's own edits stay, and
overlapping edits are left as conflicts for a person.

The branch is pushed as a fast-forward, never forced. When it exists already (an earlier
run made it, and a person may have pushed a resolution to it), the merge is made onto
its tip instead, with the branch's own record as O; a branch whose record is already N's
is left as it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import git

from goldenpath.scaffold import vcs
from goldenpath.scaffold.record import Record, write_record


def changed_files(old: Path, new: Path) -> list[str]:
    """Relative paths that differ between two rendered trees (added, removed or edited)."""
    old_files, new_files = _files(old), _files(new)
    names = sorted(old_files.keys() | new_files.keys())
    return [n for n in names if old_files.get(n) != new_files.get(n)]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}


def branch_name(record: Record) -> str:
    """One branch per template version and inputs: a spec change is a new update too."""
    inputs = hashlib.sha256(record.to_json().encode()).hexdigest()[:8]
    return f"goldenpath/template-{record.version[:12]}-{inputs}"


def apply(repo: git.Repo, old: Path, new: Path, record: Record) -> list[str]:
    """Merge the change old -> new onto the update branch of ``repo`` (made from HEAD,
    which is ``main`` or the branch's own tip), record ``record`` and commit; return the
    files left in conflict (committed with their markers)."""
    base = vcs.snapshot(repo, old, "template as recorded")
    target = vcs.snapshot(repo, new, "template now", parent=base)
    with vcs.wrapped("create the update branch"):
        repo.git.checkout("--quiet", "-B", branch_name(record))
    conflicts = vcs.cherry_pick(repo, target)
    write_record(Path(repo.working_tree_dir or "."), record)
    summary = f"Update from template {record.template} {record.version[:12]}"
    if conflicts:
        summary += "\n\nConflicts left for a person:\n" + "\n".join(f"  {c}" for c in conflicts)
    vcs.commit_all(repo, summary)
    return conflicts
