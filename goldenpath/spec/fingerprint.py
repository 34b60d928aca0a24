"""Which goldenpath produced something: a digest of its source and of the libraries that
shape its output. Caches and records keyed by it are never reused across a change of code,
even one that leaves ``__version__`` alone.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from functools import cache
from pathlib import Path

#: Libraries whose version changes the bytes written (PyYAML) or what the guardrails accept.
_LIBRARIES = ("PyYAML", "pydantic", "jsonschema", "kubernetes-validate", "orjson")
_PACKAGE = Path(__file__).resolve().parents[1]


@cache
def code_fingerprint() -> str:
    """A digest of goldenpath's source files and the versions of the libraries above.

    Computed once per process (a few milliseconds): any code change, even one that leaves
    ``__version__`` alone, makes every team's digest new, so nothing is reused across it.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        digest.update(f"{name}={_version(name)}\0".encode())
    digest.update(sys.version.encode())  # marshalled caches depend on the interpreter too
    return digest.hexdigest()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"
