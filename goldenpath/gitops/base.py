"""The base a change is computed on: what a commit holds, as a
:class:`~goldenpath.gitops.tree.BaseTree` (ownership records, drift, unowned files).

Reading it from scratch lists the whole tree and reads every ownership manifest: in a
repository of 1,000 teams (117,000 files) that alone is several times a one-team apply.
But a commit never changes, so the analysis of one commit is kept beside the cache
repository and turned into the analysis of a later one with ``git diff-tree`` (which
reads only the trees that differ), re-reading only the manifests that changed. The result
is exactly what reading from scratch gives; a missing, damaged or foreign file is simply
read from scratch and saved again.

The saved analysis is a header (each unit's fingerprint and input digest, the drift, the
unowned files: small) followed by each unit's path -> blob map on its own, read only when
that unit is used, so a one-team change reads the header and a few units, not 117,000
paths. Moving it forward costs what changed: the units whose manifests changed are
compared with the tree on their own paths; only a changed path that no changed unit owns
(a hand edit, someone's new file) or a path a unit gave up makes it read every unit. It is
saved again when it had to do that, or when it falls more than a few hundred paths behind.

The file is goldenpath's own, but whoever can write the state directory could plant one,
so nothing in it is trusted until checked: it holds only plain data (``marshal``, never
``pickle``, which runs code), the header is authenticated with an HMAC-SHA-256 under the
state's secret key (:func:`goldenpath.spec.cache.secret_key`, mode 0600) before it is
unmarshalled, and it records the SHA-256 of each unit's path map, checked when that map
is read. A file that fails a check is read from scratch (the header, or a file shorter or
longer than its header says: cut short by a full disk, say) or refused with a clear
error, and removed (a path map, read later in the run).

It is written whole or not at all (:func:`goldenpath.statefile.write_atomic`), and
saving it is no part of the work: an analysis that cannot be saved (the disk is full)
leaves nothing behind, and the next run makes it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import marshal
import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldenpath.errors import FileSystemError, GitError
from goldenpath.gitops import ownership
from goldenpath.gitops.ownership import UnitState
from goldenpath.gitops.repo import Workspace
from goldenpath.gitops.tree import BaseTree, LazyBlobs
from goldenpath.spec import fingerprint
from goldenpath.spec.cache import secret_key
from goldenpath.statefile import write_atomic

FILE = "goldenpath-base.pack"
#: Beyond this many changed paths since the saved commit, save the analysis of the new one.
SAVE_AFTER = 200
_MAGIC = b"goldenpath-base 3\n"
_LENGTH = struct.Struct("<Q")
_MAC_BYTES = 32
_UNREADABLE = (OSError, EOFError, IndexError, TypeError, ValueError, struct.error)
Drift = dict[tuple[str, str], str | None]


def read(ws: Workspace, head: str | None) -> BaseTree:
    """The base at ``head`` (empty when the branch does not exist yet)."""
    if head is None:
        return BaseTree.empty()
    saved = _Pack.open(ws.path / FILE)
    if saved is not None:
        try:
            changed = ws.diff_tree(saved.head, head)
        except GitError:  # the saved commit is gone (history rewritten and pruned)
            changed = None
        if changed is not None:
            advance = _advance(ws, saved, changed)
            base = advance.tree()
            if len(changed) > SAVE_AFTER or advance.read_every_unit:
                _save(ws.path / FILE, head, base)
            return base
    base = _from_scratch(ws, head)
    _save(ws.path / FILE, head, base)
    return base


def _save(path: Path, head: str, base: BaseTree) -> None:
    """Keep the analysis of ``head`` for the next run, if the disk takes it."""
    with contextlib.suppress(OSError):
        _write(path, head, base)


def _from_scratch(ws: Workspace, head: str) -> BaseTree:
    blobs = ws.tree(head)
    manifests = {unit: blobs[path] for path in blobs
                 if (unit := ownership.unit_of_manifest(path)) is not None}
    return BaseTree.of(blobs, _records(ws, manifests))


def _records(ws: Workspace, manifests: dict[str, str]) -> dict[str, UnitState]:
    contents = ws.read_many(sorted(set(manifests.values())))
    return {unit: ownership.parse_manifest(contents[blob]) for unit, blob in manifests.items()}


class _Pack:
    """A saved analysis: its header, and its units' path maps read on demand from a
    read-only memory map of the file (which stays as it was if a newer analysis replaces
    the file meanwhile, and needs no closing)."""

    def __init__(self, data: mmap.mmap, header: tuple[Any, ...], data_at: int,
                 path: Path) -> None:
        self._data = data
        self._path = path
        self.head: str = header[1]
        #: unit -> (fingerprint, input digest, offset, size and SHA-256 of its path map)
        self.units: dict[str, tuple[str, str, int, int, bytes]] = header[2]
        self.drift: Drift = header[3]
        self.unowned: dict[str, str] = header[4]
        self._data_at = data_at

    @classmethod
    def open(cls, path: Path) -> _Pack | None:
        try:
            with path.open("rb") as file:
                data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            mac_at = len(_MAGIC)
            start = mac_at + _MAC_BYTES + _LENGTH.size
            if data[:mac_at] != _MAGIC:
                raise ValueError("not a saved analysis")
            (length,) = _LENGTH.unpack(data[mac_at + _MAC_BYTES:start])
            raw = data[start:start + length]
            # nothing reaches marshal that this state's key did not sign
            if not hmac.compare_digest(data[mac_at:mac_at + _MAC_BYTES],
                                       _mac(path.parent, raw)):
                raise ValueError("not signed by this state's key")
            header = marshal.loads(raw)
            if not (isinstance(header, tuple) and len(header) == 5
                    and header[0] == fingerprint.code_fingerprint()):
                raise ValueError("saved by another goldenpath")
            if start + length + sum(unit[3] for unit in header[2].values()) != len(data):
                raise ValueError("not the length its header says: cut short")
        except _UNREADABLE:  # absent (or empty: mmap refuses), damaged, foreign or forged
            return None
        return cls(data, header, start + length, path)

    def records(self) -> dict[str, UnitState]:
        return {unit: UnitState(fp, LazyBlobs(self._reader(at, size, digest)), inputs=inputs)
                for unit, (fp, inputs, at, size, digest) in self.units.items()}

    def _reader(self, at: int, size: int, digest: bytes) -> Callable[[], dict[str, str]]:
        def read() -> dict[str, str]:
            start = self._data_at + at
            chunk = self._data[start:start + size]
            if not hmac.compare_digest(hashlib.sha256(chunk).digest(), digest):
                with contextlib.suppress(OSError):
                    os.unlink(self._path)
                raise FileSystemError(f"{self._path} was changed outside goldenpath (a unit's "
                                      "paths do not match its recorded digest); it has been "
                                      "removed: run the command again")
            blobs: dict[str, str] = marshal.loads(chunk)
            return blobs
        return read


def _mac(directory: Path, data: bytes) -> bytes:
    return hmac.digest(secret_key(directory), data, "sha256")


def _write(path: Path, head: str, base: BaseTree) -> None:
    units: dict[str, tuple[str, str, int, int, bytes]] = {}
    chunks: list[bytes] = []
    at = 0
    for unit, record in base.records.items():
        chunk = marshal.dumps(dict(record.blobs))
        units[unit] = (record.fingerprint, record.inputs, at, len(chunk),
                       hashlib.sha256(chunk).digest())
        chunks.append(chunk)
        at += len(chunk)
    header = marshal.dumps((fingerprint.code_fingerprint(), head, units,
                            dict(base.drift_entries), dict(base.unowned)))
    write_atomic(path, b"".join([_MAGIC, _mac(path.parent, header),
                                 _LENGTH.pack(len(header)), header, *chunks]))


def _advance(ws: Workspace, saved: _Pack, changed: dict[str, str | None]) -> _Advance:
    """The saved analysis moved to a later commit by the paths that changed since."""
    manifests = {unit: blob for path, blob in changed.items()
                 if (unit := ownership.unit_of_manifest(path)) is not None and blob is not None}
    return _Advance(saved.records(), saved.drift, saved.unowned, changed,
                    _records(ws, manifests))


def advanced(tree: BaseTree, changed: dict[str, str | None],
             manifests: dict[str, UnitState]) -> BaseTree:
    """The analysis of a commit this process made on ``tree``'s commit, without asking
    git: ``changed`` is everything the commit changed (path -> its blob, None: deleted)
    and ``manifests`` the ownership records it wrote (unit -> the record, parsed from
    the bytes committed). What :func:`read` gives for that commit (a chain of commits
    made in memory, see :func:`goldenpath.services.gitops.apply_edits`)."""
    return _Advance(dict(tree.records), tree.drift_entries, tree.unowned, changed,
                    manifests).tree()


class _Advance:
    """The drift and unowned files at the new commit, from those at an earlier one (the
    saved analysis, or the base a chain of commits made here started from).

    ``read_every_unit`` tells whether that took reading every unit's path map: the
    analysis is then saved at once, so the next apply does not pay for it again."""

    def __init__(self, before: dict[str, UnitState], drift: Drift, unowned: dict[str, str],
                 changed: dict[str, str | None], manifests: dict[str, UnitState]) -> None:
        records = dict(before)
        touched: set[str] = set()
        for path, blob in changed.items():
            unit = ownership.unit_of_manifest(path)
            if unit is not None:
                touched.add(unit)
                if blob is None:
                    records.pop(unit, None)
        records.update(manifests)
        self._before, self._records = before, records
        self._drift, self._unowned = drift, unowned
        self._touched, self._changed = touched, changed
        self._drift_before = {p: current for (_, p), current in drift.items()}
        #: paths that had drifted at the earlier commit for a unit the change did not touch
        self._untouched_drift = {p for (u, p) in drift if u not in touched}
        self._claims_before: dict[str, str] | None = None
        self.read_every_unit = False

    def tree(self) -> BaseTree:
        drift: Drift = {key: current for key, current in self._drift.items()
                        if key[0] not in self._touched and key[1] not in self._changed}
        unowned = dict(self._unowned)
        claimed = self._compare_touched(drift, unowned)
        self._settle_others(claimed, drift, unowned)
        for path, new in self._changed.items():  # the manifests: never owned by a record
            if ownership.unit_of_manifest(path) is not None:
                _file_of_nobody(unowned, path, new)
        return BaseTree(self._records, drift, unowned)

    def _compare_touched(self, drift: Drift, unowned: dict[str, str]) -> set[str]:
        """Compare the touched units' files with the new tree; return their paths."""
        claimed: set[str] = set()
        for unit in self._touched & self._records.keys():
            for path, blob in self._records[unit].blobs.items():
                claimed.add(path)
                unowned.pop(path, None)
                current = self._now(path, unit)
                if current != blob:
                    drift[unit, path] = current
        return claimed

    def _settle_others(self, claimed: set[str], drift: Drift, unowned: dict[str, str]) -> None:
        """Changed paths no touched unit owns (another unit's, edited by hand, or
        nobody's), and paths a touched unit gave up that are still in the tree."""
        changed, touched = self._changed, self._touched
        rest = [p for p in changed if ownership.unit_of_manifest(p) is None
                and (p not in claimed or p in self._untouched_drift)]
        given_up = [p for unit in touched & self._before.keys()
                    for p in self._before[unit].blobs
                    if p not in claimed and p not in changed and self._now(p, unit) is not None]
        # A file nobody owned before still is: the untouched units' records are as then.
        nobodys = [p for p in rest if p in self._unowned and p not in self._untouched_drift]
        for path in nobodys:
            _file_of_nobody(unowned, path, None if path in claimed else changed[path])
        unknown = [p for p in [*rest, *given_up] if p not in nobodys]
        owners = self._untouched_owners() if unknown else {}
        for path in unknown:
            current = self._now(path, None)
            for unit in owners.get(path, ()):
                if current != self._records[unit].blobs[path]:
                    drift[unit, path] = current
            owned = path in owners or path in claimed
            _file_of_nobody(unowned, path, None if owned else current)

    def _now(self, path: str, unit: str | None) -> str | None:
        """The blob at ``path`` in the new commit (None: no such file)."""
        if path in self._changed:
            return self._changed[path]
        return self._then(path, unit)

    def _then(self, path: str, unit: str | None) -> str | None:
        """The blob at ``path`` in the saved commit; ``unit`` likely owned it then."""
        if path in self._drift_before:
            return self._drift_before[path]
        if path in self._unowned:
            return self._unowned[path]
        old = self._before.get(unit) if unit is not None else None
        if old is not None and path in old.blobs:
            return old.blobs[path]
        if self._claims_before is None:  # owned by another unit then: read every unit
            self._claims_before = {p: b for r in self._before.values() for p, b in r.blobs.items()}
            self.read_every_unit = True
        return self._claims_before.get(path)

    def _untouched_owners(self) -> dict[str, list[str]]:
        """path -> the units not touched by the change that own it (reads every unit)."""
        self.read_every_unit = True
        owners: dict[str, list[str]] = {}
        for unit, record in self._records.items():
            if unit not in self._touched:
                for path in record.blobs:
                    owners.setdefault(path, []).append(unit)
        return owners


def _file_of_nobody(unowned: dict[str, str], path: str, blob: str | None) -> None:
    """Record ``path`` as a file nobody owns with ``blob``, or as none (None)."""
    if blob is None:
        unowned.pop(path, None)
    else:
        unowned[path] = blob
