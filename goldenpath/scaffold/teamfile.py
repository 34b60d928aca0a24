"""Add a service to a team's spec file without disturbing anything else in it.

ruamel.yaml's round-trip mode keeps comments, key order, flow style and quoting, so
the change a reviewer sees is the new entry alone. The caller keeps the original text to
put back if a later step fails.

A file is replaced whole (a temporary file beside it, then a rename), so the API, which
loads the specs while its worker edits them, never reads half a file.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from goldenpath.errors import SpecError, SpecIssue


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # The platform's files indent sequences under their key ("  - name: ..."), like these.
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def with_service(text: str, file: str, entry: dict[str, Any]) -> str:
    """``text`` of a team file with ``entry`` appended to ``spec.services``."""
    yaml = _yaml()
    try:
        doc = yaml.load(text)
    except YAMLError as err:
        raise SpecError([SpecIssue(file, "", f"invalid YAML: {err}")]) from err
    spec = doc.get("spec") if isinstance(doc, CommentedMap) else None
    if not isinstance(spec, CommentedMap):
        raise SpecError([SpecIssue(file, "spec", "is required")])
    services = spec.get("services")
    if services is None:
        services = spec["services"] = CommentedSeq()
    if not isinstance(services, CommentedSeq):
        raise SpecError([SpecIssue(file, "spec.services", "must be a list")])
    services.append(_entry(entry))
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _entry(entry: dict[str, Any]) -> CommentedMap:
    item = CommentedMap()
    for key, value in entry.items():
        item[key] = _flow(value) if isinstance(value, dict) else value
    return item


def _flow(value: dict[str, Any]) -> CommentedMap:
    # Small maps inline, as the hand-written entries write them: {queue: jobs}
    mapping = CommentedMap(value)
    mapping.fa.set_flow_style()
    return mapping


def add_service(path: Path, entry: dict[str, Any]) -> str:
    """Append ``entry`` to the services of the team file at ``path``; return the old text."""
    original = path.read_text(encoding="utf-8")
    replace_text(path, with_service(original, str(path), entry))
    return original


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` as ``path`` in one step for readers: a rename over it, keeping its
    permissions."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
