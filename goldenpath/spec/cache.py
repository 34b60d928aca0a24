"""A cache of validated spec files, so loading 1,000 team files parses only the changed ones.

Parsing YAML is most of what loading costs (pure-Python construction, ~0.5 ms a file);
validation by pydantic is cheaper but not free. A file's validated model depends only on
its bytes, the model class and the code (goldenpath's source and library versions: see
:mod:`goldenpath.spec.fingerprint`), so that triple is the key: a hit is exactly what
parsing and validating the file again would return. Stored with the model, under the same
key: its canonical JSON (what spec digests hash) and, for a team, its
:class:`~goldenpath.spec.teams.TeamFacts`. The model itself stays serialised until
something asks for it: an apply that renders one team of 1,000 builds one model.

A second kind of entry records that a team file passed the cross-file checks under a
given platform (:mod:`goldenpath.spec.crossref`; everything they read is the platform,
the file and the code, except which teams exist, which the loader checks every time from
the facts), with the quota it resolves to in each of its environments.

Only valid files are cached; a file with issues is parsed and checked every time, so
every issue is still reported. The cache is one pickle under the state directory, which
only goldenpath writes (like the git cache beside it); a file that cannot be read is
ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from goldenpath.spec import fingerprint
from goldenpath.spec.resolve import ResolvedQuota
from goldenpath.spec.teams import TeamFacts

FILE = "spec-models.pickle"
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
               IndexError, TypeError, ValueError)


@dataclass(frozen=True)
class Cached:
    """A cached file: its canonical JSON, its facts (teams only) and its model on demand."""

    canonical: str
    facts: TeamFacts | None
    #: the model, or None should its bytes be unreadable after all
    load: Callable[[], Any]


class ModelCache:
    """Cached files by (code, model class, file bytes) and passed checks by (that key,
    platform); ``save`` keeps only the entries used since ``open``, so the file never
    outgrows the platform. Each entry is pickled on its own inside the file, so saving
    after one change pickles one model again, and reading an entry unpickles only its
    small parts."""

    def __init__(self, path: Path | None, entries: dict[str, bytes]) -> None:
        self._path = path
        self._old = entries
        self._used: dict[str, bytes] = {}

    @classmethod
    def open(cls, directory: Path | None) -> ModelCache:
        if directory is None:
            return cls(None, {})
        path = directory / FILE
        try:
            entries = pickle.loads(path.read_bytes())
        except _UNREADABLE:  # absent, damaged or stale: start afresh
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    @staticmethod
    def key(model: type[BaseModel], data: bytes) -> str:
        digest = hashlib.sha256(f"{fingerprint.code_fingerprint()}\0{model.__name__}\0".encode())
        digest.update(data)
        return digest.hexdigest()

    @staticmethod
    def platform_key(platform_json: str) -> str:
        """What a team's check key takes of the platform (hashed once per load)."""
        return hashlib.sha256(platform_json.encode()).hexdigest()

    @staticmethod
    def check_key(file_key: str, platform_key: str) -> str:
        """The key of a team file's passed cross-file checks under a platform."""
        return hashlib.sha256(f"checked\0{file_key}\0{platform_key}".encode()).hexdigest()

    # Entries hold plain tuples of strings (rebuilt into their classes here): unpickling
    # a thousand of them is several times faster than a thousand dataclasses.

    def get(self, key: str) -> Cached | None:
        entry = self._entry(key)
        try:
            canonical, facts, model = entry
            found = Cached(canonical, None if facts is None else TeamFacts.from_tuple(facts),
                           lambda: _unpickled(model))
        except (TypeError, ValueError):
            return None
        return found if isinstance(canonical, str) and isinstance(model, bytes) else None

    def put(self, key: str, value: BaseModel, canonical: str,
            facts: TeamFacts | None = None) -> None:
        model = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        plain = None if facts is None else facts.as_tuple()
        self._used[key] = pickle.dumps((canonical, plain, model),
                                       protocol=pickle.HIGHEST_PROTOCOL)

    def get_quotas(self, key: str) -> dict[str, ResolvedQuota] | None:
        """The resolved quotas stored under a check key, or None."""
        entry = self._entry(key)
        try:
            return {env: ResolvedQuota(*values) for env, values in entry}
        except (TypeError, ValueError):
            return None

    def put_quotas(self, key: str, quotas: dict[str, ResolvedQuota]) -> None:
        plain = tuple((env, astuple(quota)) for env, quota in quotas.items())
        self._used[key] = pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)

    def _entry(self, key: str) -> Any:
        hit = self._old.get(key)
        if not isinstance(hit, bytes):
            return None
        try:
            entry = pickle.loads(hit)
        except _UNREADABLE:
            return None
        self._used[key] = hit
        return entry

    def save(self) -> None:
        """Write the entries used, atomically; nothing when they are what was read."""
        if self._path is None or self._used.keys() == self._old.keys():
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=self._path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(pickle.dumps(self._used, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, self._path)


def _unpickled(data: bytes) -> Any:
    try:
        return pickle.loads(data)
    except _UNREADABLE:
        return None
