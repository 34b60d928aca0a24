"""A cache of validated spec models, so loading 1,000 team files parses only the changed ones.

Parsing YAML is most of what loading costs (pure-Python construction, ~0.5 ms a file);
validation by pydantic is cheaper but not free. A file's validated model depends only on
its bytes, the model class and the code (goldenpath's source and library versions: see
:mod:`goldenpath.spec.fingerprint`), so that triple is the key: a hit is exactly what
parsing and validating the file again would return. The model's canonical JSON (what the
spec digests hash) depends on the same triple and is kept with it, so an unchanged file is
never dumped again either. Only valid files are cached; a file with issues is parsed every
time, so every issue is still reported.

The cross-file checks (:mod:`goldenpath.spec.crossref`) are not cached: they always run
over every team. The cache is one pickle under the state directory, which only goldenpath
writes (like the git cache beside it); a file that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from goldenpath.spec import fingerprint

FILE = "spec-models.pickle"
_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
               IndexError, TypeError, ValueError)


class ModelCache:
    """Validated models and their canonical JSON by (code, model class, file bytes);
    ``save`` keeps only the
    entries used since ``open``, so the file never outgrows the platform. Each model is
    pickled on its own inside the file, so saving after one change re-pickles one model."""

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

    def get(self, key: str) -> tuple[Any, str] | None:
        """(model, canonical JSON) stored under ``key``, or None."""
        hit = self._old.get(key)
        if not isinstance(hit, bytes):
            return None
        try:
            entry = pickle.loads(hit)
        except _UNREADABLE:
            return None
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str)):
            return None
        self._used[key] = hit
        return entry[0], entry[1]

    def put(self, key: str, value: BaseModel, canonical: str) -> None:
        self._used[key] = pickle.dumps((value, canonical), protocol=pickle.HIGHEST_PROTOCOL)

    def save(self) -> None:
        """Write the entries used, atomically; nothing when they are what was read."""
        if self._path is None or self._used.keys() == self._old.keys():
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=self._path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(pickle.dumps(self._used, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, self._path)
