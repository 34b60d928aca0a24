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

A load that changed a small part of the index (a one-team change at 1,000 teams
changes a few of its 3,000 entries) does not write the index again: it writes a
:data:`DELTA` beside it, the entries set and removed since the index, signed like it
and naming the index's own MAC, so it is read only with that very index (an index
rewritten whole leaves any older delta unread). What the two hold together is exactly
the index a rewrite would hold; past :data:`_DELTA_SHARE` of the index, the index is
rewritten whole and the delta dropped. (The index of 1,000 teams is 0.6 MB: writing and
syncing it on every change cost more than the rest of the save.)

Only valid files are cached; a file with issues is parsed and checked every time, so
every issue is still reported. Anything that cannot be read is ignored and rebuilt, and
``save`` keeps only what the last load used. Each file is written whole or not at all
(:func:`goldenpath.statefile.write_atomic`), and a save that fails (the disk is full,
the directory cannot be written) is no failure of the load: nothing of it is left, and
the next load reads the files again.

Nothing read from the cache can run code, whoever wrote it. The cache lives under the
state directory, which only goldenpath should write, but a cache is not trusted for
that: the models are JSON, validated again by their pydantic model when built (a
pickle would run whatever its author chose), and must have the document digest the
index records for them. The index (plain data in ``marshal``, several times faster to
read than JSON for 1,000 teams, but not meant for untrusted bytes: malformed input can
crash the interpreter) is authenticated before it is unmarshalled: an HMAC-SHA-256
under a random key in :data:`KEY` (mode 0600, owned by this user, replaced when it is
not), so only a process that can read that key, that is one that runs as goldenpath's
own user and could change goldenpath itself, can write an index this code will read.
Every cache file is opened without following symbolic links or blocking on a FIFO,
and bounded in size.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import marshal
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from goldenpath.spec import fingerprint
from goldenpath.spec.resolve import ResolvedQuota, document_digest
from goldenpath.spec.teams import TeamFacts
from goldenpath.statefile import write_atomic

INDEX = "spec-index.marshal"
#: What changed since the index, for the index whose MAC it names (see above).
DELTA = "spec-index.delta.marshal"
MODELS = "models"
#: The MAC key of the index: 32 random bytes, mode 0600.
KEY = "spec-cache.key"
#: A stat signature this close to the save (or after it) is re-read next time.
RACY_NS = 2_000_000_000
_FORMAT = 3
_MAGIC = b"gpspec3\0"
_DELTA_MAGIC = b"gpsdel3\0"
#: A delta holding more than this share of the index's entries is folded into it.
_DELTA_SHARE = 1 / 8
_SECTIONS = ("docs", "paths", "checked")
_MAC_BYTES = 32
_KEY_BYTES = 32
#: Bounds on what is read back: far above what 1,000 teams need (an index of 1,000
#: teams is about 0.5 MB; a model's JSON is about the size of its YAML).
MAX_INDEX_BYTES = 256 << 20
MAX_MODEL_BYTES = 8 << 20
_UNREADABLE = (OSError, EOFError, IndexError, TypeError, ValueError)
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
Signature = tuple[int, int, int, int, int]
_M = TypeVar("_M", bound=BaseModel)


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

    def __init__(self, directory: Path | None, index: dict[str, Any],
                 key: bytes = b"", *, deferred: bool = False,
                 base: tuple[bytes, dict[str, Any]] | None = None) -> None:
        self._dir = directory
        #: the index file's MAC and sections, when ``index`` is it with its delta
        self._base = base
        #: no directory yet, but one may be given when the command succeeds (save_into)
        self._deferred = deferred
        self._key = key
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
            key = secret_key(directory)
        except OSError:  # no key, no cache: load everything from the files
            return cls(None, {})
        index, mac = _unseal(key, directory / INDEX)
        if not _fresh(index):
            return cls(directory, {}, key)
        delta, _ = _unseal(key, directory / DELTA, _DELTA_MAGIC)
        base = (mac, {name: index[name] for name in _SECTIONS})
        if not (_fresh(delta, "set") and delta.get("base") == mac
                and isinstance(delta.get("gone"), dict)
                and all(isinstance(delta["gone"].get(k), tuple) for k in _SECTIONS)):
            return cls(directory, index, key, base=base)
        merged: dict[str, Any] = {"saved": delta.get("saved")}
        for name in _SECTIONS:
            section = {**index[name], **delta["set"][name]}
            for gone in delta["gone"][name]:
                section.pop(gone, None)
            merged[name] = section
        return cls(directory, merged, key, base=base)

    @classmethod
    def deferred(cls) -> SpecCache:
        """An empty cache with no directory yet: what a load puts in it is kept in memory
        and written by :meth:`save_into` once the command that loaded has succeeded (a
        command never creates state before it succeeds)."""
        return cls(None, {}, deferred=True)

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

    def unchanged(self, path: str, st: os.stat_result) -> Known | None:
        """What ``path`` held when last loaded, if its stat signature ``st`` says it has
        not changed since (None: read it)."""
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
        if self._dir is not None or self._deferred:  # else the caller holds the model
            # only the fields the file set: the model built from it is the same, down to
            # model_fields_set
            self._new_models[key] = model.model_dump_json(by_alias=True, exclude_unset=True
                                                          ).encode()
        self._changed = True

    def seen(self, path: str, key: str) -> None:
        """``path`` was read and held the document ``key`` (as of its last ``unchanged``)."""
        signature = self._stats.get(path)
        if signature is None:
            return
        record = (signature, key)
        self._used_paths[path] = record
        self._changed |= self._paths.get(path) != record

    def model(self, key: str, model: type[_M]) -> _M | None:
        """The ``model`` stored under ``key``, or None when it cannot be read, is not a
        valid ``model``, or is not the document the index holds under ``key``."""
        entry = self._docs.get(key) or self._used_docs.get(key)
        data = self._new_models.get(key)
        try:
            if data is None:
                if self._dir is None or entry is None:
                    return None
                data = read_bounded(self._dir / MODELS / f"{key}.json", MAX_MODEL_BYTES)
            built = model.model_validate_json(data)
        except (*_UNREADABLE, ValidationError):
            return None
        return built if entry is not None and document_digest(built) == entry[0] else None

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

    def save_into(self, directory: Path | None) -> None:
        """Write a :meth:`deferred` cache into ``directory`` (nothing without one); a
        failure to write is no failure of the command that loaded."""
        if not self._deferred or directory is None:
            return
        with contextlib.suppress(OSError):
            self._key = secret_key(directory)
            self._dir, self._deferred = directory, False
            self.save()

    def save(self) -> None:
        """Write what this load used, atomically; nothing when it is what was read, or
        when it cannot be written (the next load reads the files again)."""
        if self._dir is None:
            return
        with contextlib.suppress(OSError):
            self._save(self._dir)

    def _save(self, directory: Path) -> None:
        if not self._changed and self._used_docs.keys() == self._docs.keys() \
                and self._used_paths.keys() == self._paths.keys() \
                and self._used_checked.keys() == self._checked.keys():
            return
        models = directory / MODELS
        models.mkdir(mode=0o700, parents=True, exist_ok=True)
        for key, data in self._new_models.items():
            write_atomic(models / f"{key}.json", data)
        used = {"docs": self._used_docs, "paths": self._used_paths,
                "checked": self._used_checked}
        if not self._save_delta(directory, used):
            index = {"format": _FORMAT, "code": fingerprint.code_fingerprint(),
                     "saved": time.time_ns(), **used}
            data = marshal.dumps(index)
            write_atomic(directory / INDEX, _MAGIC + _mac(self._key, data) + data)
            # the delta names the index it was made for: it is unread from here on
            with contextlib.suppress(FileNotFoundError):
                os.unlink(directory / DELTA)
        self._prune(models)

    def _save_delta(self, directory: Path, used: dict[str, dict[str, Any]]) -> bool:
        """Write what ``used`` changed since the index file as its delta, unless that is
        too large a share of it (False: write the index)."""
        if self._base is None:
            return False
        mac, base = self._base
        changed: dict[str, dict[str, Any]] = {}
        gone: dict[str, tuple[str, ...]] = {}
        for name in _SECTIONS:
            old = base[name]
            changed[name] = {k: v for k, v in used[name].items() if old.get(k) != v}
            gone[name] = tuple(old.keys() - used[name].keys())
        size = sum(len(changed[n]) + len(gone[n]) for n in _SECTIONS)
        if size > _DELTA_SHARE * sum(len(base[n]) for n in _SECTIONS):
            return False
        delta = {"format": _FORMAT, "code": fingerprint.code_fingerprint(),
                 "saved": time.time_ns(), "base": mac, "set": changed, "gone": gone}
        data = marshal.dumps(delta)
        write_atomic(directory / DELTA, _DELTA_MAGIC + _mac(self._key, data) + data)
        return True

    def _prune(self, models: Path) -> None:
        """Remove the model files no document of the index names any more: those of the
        documents this load did not use, or, when the index started afresh, any."""
        if self._docs:
            gone = [f"{key}.json" for key in self._docs.keys() - self._used_docs.keys()]
        else:
            gone = [name for name in os.listdir(models) if not name.startswith(".")
                    and name.removesuffix(".json") not in self._used_docs]
        for name in gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(models / name)


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes: no symbolic link followed, no FIFO waited on, at most
    ``limit`` bytes (ValueError beyond)."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            raise ValueError(f"{path.name}: not a regular file of at most {limit} bytes")
        data = os.read(fd, limit + 1)
        if len(data) > limit:
            raise ValueError(f"{path.name}: over {limit} bytes")
        return data
    finally:
        os.close(fd)


# --- the index's integrity -------------------------------------------------------------


def _mac(key: bytes, data: bytes) -> bytes:
    # HMAC-SHA-256: where the CPU has SHA instructions, several times faster than keyed
    # BLAKE2b (under 1 ms for the index of 1,000 teams)
    return hmac.digest(key, data, "sha256")


def _unseal(key: bytes, path: Path, magic: bytes = _MAGIC) -> tuple[Any, bytes]:
    """The index (or, with its magic, the delta) in ``path`` and its MAC if this key
    signed it, else ``({}, b"")``: nothing else is ever given to ``marshal``."""
    try:
        data = read_bounded(path, MAX_INDEX_BYTES)
    except _UNREADABLE:  # absent or not a file of ours: start afresh
        return {}, b""
    head, body = len(magic), len(magic) + _MAC_BYTES
    if data[:head] != magic or not hmac.compare_digest(data[head:body], _mac(key, data[body:])):
        return {}, b""
    try:
        return marshal.loads(data[body:]), data[head:body]
    except _UNREADABLE:
        return {}, b""


def _fresh(index: Any, sections: str = "") -> bool:
    """Was ``index`` (a delta: its ``sections`` key) written by this very code (same
    fingerprint, so the same interpreter's marshal format)? Else it is not used at all:
    so its entries have the shapes this code gives them."""
    if not (isinstance(index, dict) and index.get("format") == _FORMAT
            and index.get("code") == fingerprint.code_fingerprint()):
        return False
    holder = index.get(sections) if sections else index
    return isinstance(holder, dict) and all(isinstance(holder.get(k), dict) for k in _SECTIONS)


def secret_key(directory: Path) -> bytes:
    """The MAC key of the cache in ``directory``, created on first use.

    A key file that is not a regular file of this user, readable by no one else, of the
    right size, may be known to someone else: it is replaced, which invalidates every
    index signed with it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / KEY
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return _new_key(path, replace=False)
    except OSError:  # a symbolic link, or unreadable
        return _new_key(path, replace=True)
    try:
        st = os.fstat(fd)
        key = os.read(fd, _KEY_BYTES + 1)
    finally:
        os.close(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() \
            or st.st_mode & 0o077 or len(key) != _KEY_BYTES:
        return _new_key(path, replace=True)
    return key


def _new_key(path: Path, *, replace: bool) -> bytes:
    key = os.urandom(_KEY_BYTES)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
            return key
        try:
            os.link(tmp, path)  # complete when it appears; never over another's key
        except FileExistsError:  # another process made one first: use it
            return secret_key(path.parent)
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
