"""A cache of loaded spec files, so loading 1,000 team files parses only the changed ones.

Parsing YAML is most of what loading costs (pure-Python construction, ~0.5 ms a file);
validation by pydantic is cheaper but not free. A file's validated model depends only on
its bytes, the model class and the code (goldenpath's source and library versions: see
:mod:`goldenpath.spec.fingerprint`), so that triple is the key: a hit is exactly what
parsing and validating the file again would return. Kept for each key: the model's
document digest (what the digests of the spec are made of) and, for a team, its
:class:`~goldenpath.spec.teams.TeamFacts`, in one small index; the model itself in a file
of its own, read only when something asks for it (an apply that renders one team of
1,000 builds one model).

Two more things are recorded in the index:

- each file's ``stat`` signature (inode, size, mtime, ctime) with the key of the bytes
  read: a file whose signature is unchanged is not even read again. Like git's index, a
  signature taken within :data:`RACY_NS` of the save is not trusted (the file could
  still change within the same timestamp), and ctime changes with every write, so an
  edit that restores the mtime is still seen;
- that a team file passed the cross-file checks under a platform
  (:mod:`goldenpath.spec.crossref`: everything they read is the platform, the file and
  the code, except which teams exist, which the loader checks every time from the
  facts), with the quota it resolves to in each of its environments.

Only valid files are cached; a file with issues is parsed and checked every time, so
every issue is still reported. The cache lives under the state directory, which only
goldenpath writes (like the git cache beside it); anything that cannot be read is
ignored and rebuilt, and ``save`` keeps only what the last load used.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from goldenpath.spec import fingerprint
from goldenpath.spec.resolve import ResolvedQuota
from goldenpath.spec.teams import TeamFacts

INDEX = "spec-index.marshal"
MODELS = "models"
#: A stat signature this close to the save (or after it) is re-read next time.
RACY_NS = 2_000_000_000
_FORMAT = 2
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
               IndexError, TypeError, ValueError)
Signature = tuple[int, int, int, int, int]


class Known(NamedTuple):
    """A valid file seen before: its key, document digest and facts (teams only)."""

    key: str
    digest: str
    facts: TeamFacts | None


class SpecCache:
    """The index (documents by key, files by path, passed checks) and the model files.

    The index holds only plain data (dicts, tuples, strings, numbers), written with
    ``marshal`` and rebuilt into classes when used: several times faster to read and
    write than a pickle of a thousand objects."""

    def __init__(self, directory: Path | None, index: dict[str, Any]) -> None:
        self._dir = directory
        self._docs: dict[str, Any] = index.get("docs", {})
        self._paths: dict[str, Any] = index.get("paths", {})
        self._checked: dict[str, Any] = index.get("checked", {})
        saved = index.get("saved", 0)
        self._trusted_before = (saved if isinstance(saved, int) else 0) - RACY_NS
        self._used_docs: dict[str, Any] = {}
        self._used_paths: dict[str, Any] = {}
        self._used_checked: dict[str, Any] = {}
        self._new_models: dict[str, bytes] = {}
        self._stats: dict[str, Signature] = {}
        self._changed = False

    @classmethod
    def open(cls, directory: Path | None) -> SpecCache:
        if directory is None:
            return cls(None, {})
        try:
            index = marshal.loads((directory / INDEX).read_bytes())
        except _UNREADABLE:  # absent, damaged or stale: start afresh
            index = {}
        # Written by this very code (same fingerprint, so the same interpreter's marshal
        # format) or not used at all: its entries have the shapes this code gives them.
        fresh = isinstance(index, dict) and index.get("format") == _FORMAT \
            and index.get("code") == fingerprint.code_fingerprint() \
            and all(isinstance(index.get(k), dict) for k in ("docs", "paths", "checked"))
        return cls(directory, index if fresh else {})

    @staticmethod
    def key(model: type[BaseModel], data: bytes) -> str:
        digest = hashlib.sha256(f"{fingerprint.code_fingerprint()}\0{model.__name__}\0".encode())
        digest.update(data)
        return digest.hexdigest()

    @staticmethod
    def check_key(file_key: str, platform_digest: str) -> str:
        """The key of a team file's passed cross-file checks under a platform."""
        return f"{file_key}:{platform_digest}"

    # --- files and documents ------------------------------------------------------------

    def unchanged(self, path: str) -> Known | None:
        """What ``path`` held when last loaded, if its stat signature says it has not
        changed since (None: read it). Raises OSError when it cannot be stat'ed."""
        st = os.stat(path)
        signature = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev)
        self._stats[path] = signature
        record = self._paths.get(path)
        if self._dir is None or record is None or record[0] != signature \
                or max(st.st_mtime_ns, st.st_ctime_ns) >= self._trusted_before:
            return None
        found = self.get(record[1])
        if found is not None:
            self._used_paths[path] = record
        return found

    def get(self, key: str) -> Known | None:
        """The document stored under ``key``, or None."""
        entry = self._docs.get(key)
        if entry is None:
            return None
        digest, facts = entry  # the index is this code's own (see ``open``)
        self._used_docs[key] = entry
        return Known(key, digest, None if facts is None else TeamFacts(*facts))

    def put(self, key: str, model: BaseModel, digest: str,
            facts: TeamFacts | None = None) -> None:
        self._used_docs[key] = (digest, None if facts is None else tuple(facts))
        if self._dir is not None:  # nowhere to keep it: the caller holds the model anyway
            self._new_models[key] = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        self._changed = True

    def seen(self, path: str, key: str) -> None:
        """``path`` was read and held the document ``key`` (as of its last ``unchanged``)."""
        signature = self._stats.get(path)
        if signature is None:
            return
        record = (signature, key)
        self._used_paths[path] = record
        self._changed |= self._paths.get(path) != record

    def model(self, key: str) -> Any:
        """The model stored under ``key``, or None when it cannot be read."""
        data = self._new_models.get(key)
        try:
            if data is None:
                if self._dir is None:
                    return None
                data = (self._dir / MODELS / f"{key}.pickle").read_bytes()
            return pickle.loads(data)
        except _UNREADABLE:
            return None

    # --- passed checks -------------------------------------------------------------------

    def get_quotas(self, key: str) -> Callable[[], dict[str, ResolvedQuota]] | None:
        """What reads the resolved quotas stored under a check key, or None."""
        entry = self._checked.get(key)
        if entry is None:
            return None
        self._used_checked[key] = entry
        return lambda: {env: ResolvedQuota(*values) for env, values in marshal.loads(entry)}

    def put_quotas(self, key: str, quotas: dict[str, ResolvedQuota]) -> None:
        # one string per team in the index, turned into quotas only when asked for
        self._used_checked[key] = marshal.dumps(tuple((env, tuple(q))
                                                      for env, q in quotas.items()))
        self._changed = True

    # --- saving --------------------------------------------------------------------------

    def save(self) -> None:
        """Write what this load used, atomically; nothing when it is what was read."""
        if self._dir is None:
            return
        if not self._changed and self._used_docs.keys() == self._docs.keys() \
                and self._used_paths.keys() == self._paths.keys() \
                and self._used_checked.keys() == self._checked.keys():
            return
        models = self._dir / MODELS
        models.mkdir(parents=True, exist_ok=True)
        for key, data in self._new_models.items():
            _write(models / f"{key}.pickle", data)
        index = {"format": _FORMAT, "code": fingerprint.code_fingerprint(),
                 "saved": time.time_ns(), "docs": self._used_docs,
                 "paths": self._used_paths, "checked": self._used_checked}
        _write(self._dir / INDEX, marshal.dumps(index))
        self._prune(models)

    def _prune(self, models: Path) -> None:
        """Remove the model files no document of the index names any more: those of the
        documents this load did not use, or, when the index started afresh, any."""
        if self._docs:
            gone = [f"{key}.pickle" for key in self._docs.keys() - self._used_docs.keys()]
        else:
            gone = [name for name in os.listdir(models) if not name.startswith(".")
                    and name.removesuffix(".pickle") not in self._used_docs]
        for name in gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(models / name)


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
