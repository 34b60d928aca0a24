"""Which goldenpath produced something: a digest of its source and of the libraries that
shape its output. Caches and records keyed by it are never reused across a change of code,
even one that leaves ``__version__`` alone.

Two scopes:

- :func:`code_fingerprint` covers every source file of the package: the key of caches
  that hold this code's own data shapes (the spec cache, the base analysis).
- :func:`unit_fingerprint` covers only the modules that shape what apply writes and what
  the guardrails decide about it (:data:`UNIT_SCOPE` and every goldenpath module they
  import, directly or not, with the packages those live in), plus the same libraries.
  It is what the input digests of the repository's units are made of
  (:mod:`goldenpath.render.digest`), so a release that changes only, say, the API, the
  store or the CLI changes no unit's digest: apply neither renders nor rewrites
  anything for it. A release that changes a renderer, a guardrail or the serializer
  changes every digest, and apply renders and checks every team again, rewriting only
  the files whose bytes changed and the manifests that record the new digests.

The import graph is read from the source text (every ``import goldenpath...`` and
``from goldenpath... import ...`` line, a lazy import inside a function included), not
by importing anything, so the scope cannot miss a module a unit's code can run:
goldenpath imports nothing by computed name (a test holds to it).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

#: Libraries whose version changes the bytes written (PyYAML) or what the guardrails accept.
_LIBRARIES = ("PyYAML", "pydantic", "jsonschema", "jsonschema-rs", "kubernetes-validate",
              "orjson")
_PACKAGE = Path(__file__).resolve().parents[1]
#: The modules whose code a unit's files and their guardrails' verdict come from: the
#: renderer (every concern; each team unit holds objects of every concern), the input
#: digest, the guardrails, the serializer with the layout and ownership manifests, and
#: the spec files committed with the objects.
UNIT_SCOPE = ("goldenpath.render", "goldenpath.render.digest", "goldenpath.policy",
              "goldenpath.gitops.layout", "goldenpath.gitops.ownership",
              "goldenpath.gitops.specfiles")
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(goldenpath(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|import[ \t]+([^\n]*))", re.MULTILINE)


@cache
def code_fingerprint() -> str:
    """A digest of goldenpath's source files and the versions of the libraries above.

    Computed once per process (a few milliseconds): any code change, even one that leaves
    ``__version__`` alone, makes it new, so nothing keyed by it is reused across it.
    """
    return source_fingerprint(sorted(_PACKAGE.rglob("*.py")), _PACKAGE)


@cache
def unit_fingerprint() -> str:
    """The digest of the source of :data:`UNIT_SCOPE` and everything it imports (and of
    the library versions): what the files of a unit and their verdict depend on."""
    return source_fingerprint(module_files(UNIT_SCOPE, _PACKAGE), _PACKAGE)


def source_fingerprint(files: Iterable[Path], package: Path) -> str:
    """sha256 over each file's path (relative to ``package``) and bytes, in the order
    given, then the library versions and the interpreter's."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        digest.update(f"{name}={_version(name)}\0".encode())
    digest.update(sys.version.encode())  # marshalled caches depend on the interpreter too
    return digest.hexdigest()


def module_files(roots: Iterable[str], package: Path) -> list[Path]:
    """The source files (sorted) of the modules ``roots`` and of every goldenpath module
    they import, directly or not, with the ``__init__`` of each package on the way
    (importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first)."""
    seen: dict[str, Path] = {}
    todo = [name for root in roots for name in _with_parents(root)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _source(name, package)
        if path is None:  # a name imported from a module, not a module
            continue
        seen[name] = path
        todo.extend(parent for found in _imports(path.read_text(encoding="utf-8"), package)
                    for parent in _with_parents(found))
    return sorted(seen.values())


def _imports(text: str, package: Path) -> set[str]:
    """Module names of goldenpath a source text imports (``from m import x``: ``m``, and
    ``m.x`` when that is a module)."""
    found: set[str] = set()
    for module, names, plain in _IMPORT.findall(text):
        if module:
            found.add(module)
            for name in re.findall(r"\w+", re.sub(r"#[^\n]*", "", names)):
                if _source(f"{module}.{name}", package) is not None:
                    found.add(f"{module}.{name}")
        else:
            found.update(m for m in re.findall(r"goldenpath(?:\.\w+)*", plain))
    return found


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _source(name: str, package: Path) -> Path | None:
    """The file of module ``name`` (``goldenpath.x.y``) under ``package``, or None."""
    parts = name.split(".")
    if parts[0] != package.name:
        return None
    base = package.joinpath(*parts[1:])
    for path in (base.with_suffix(".py") if len(parts) > 1 else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"
