"""Edit a team's spec file without disturbing anything else in it: add a service
(``new-service``), or replace the whole spec with a new one (a request through the
services layer) keeping the comments and formatting of what stays.

ruamel.yaml's round-trip mode keeps comments, key order, flow style and quoting, so
the change a reviewer sees is the change alone. The caller keeps the original text to
put back if a later step fails.

A file is replaced whole (a temporary file beside it, then a rename), so the API, which
loads the specs while its worker edits them, never reads half a file.
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.memo import ContentMemo


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


def replaced(text: str, file: str, document: dict[str, Any]) -> str:
    """``text`` of a spec file made to hold ``document`` (plain data, already validated),
    keeping the comments, key order, flow style and quoting of every key and list item
    that stays: maps are updated key by key, lists of named items (services) matched by
    ``name``, other lists item by item; an unchanged scalar keeps its spelling.

    The same edit is made once per process (:data:`_EDITS`): the API's submission
    check, the worker's commit of that request and a plan of the same proposal all make
    it, and the round trip is most of what each costs."""
    if any(line.startswith("%") for line in text.splitlines()):
        return _replaced((text, document), file)
    found: str = _EDITS.get(file, (text, document), lambda edit: _replaced(edit, file))
    return found


def _replaced(edit: tuple[str, dict[str, Any]], file: str) -> str:
    text, document = edit
    yaml, doc = _loaded(text, file)
    if not isinstance(doc, CommentedMap):
        return new_text(document)
    _update_map(doc, document)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


#: edits made before, by the text, the document and its types and key order exactly
#: (see goldenpath.memo): an entry answers only the very same edit. A text with a
#: directive is never kept (as in _PARSED).
_EDITS: ContentMemo[str] = ContentMemo(8 << 20, len)


#: texts parsed before, by text: parsing is most of an edit's cost, and a plan edits the
#: same file again and again. Each edit gets a deep copy (comments and formatting are
#: copied with it). Texts with a directive (``%YAML``, ``%TAG``) are not kept: their
#: dump depends on the state the loader keeps.
_PARSED: OrderedDict[str, CommentedMap] = OrderedDict()
_PARSED_CHARS = 8 << 20
_PARSED_LOCK = threading.Lock()


def _loaded(text: str, file: str) -> tuple[YAML, Any]:
    """A YAML instance to dump with, and ``text`` parsed for this edit alone."""
    keep = not any(line.startswith("%") for line in text.splitlines())
    with _PARSED_LOCK:
        found = _PARSED.get(text) if keep else None
        if found is not None:
            _PARSED.move_to_end(text)
            return _yaml(), copy.deepcopy(found)
    yaml = _yaml()
    try:
        doc = yaml.load(text)
    except YAMLError as err:
        raise SpecError([SpecIssue(file, "", f"invalid YAML: {err}")]) from err
    if keep and isinstance(doc, CommentedMap) and len(text) <= _PARSED_CHARS:
        with _PARSED_LOCK:
            _PARSED[text] = copy.deepcopy(doc)
            while sum(map(len, _PARSED)) > _PARSED_CHARS:
                _PARSED.popitem(last=False)
    return yaml, doc


def new_text(document: dict[str, Any]) -> str:
    """A new spec file holding ``document``, in the style of the hand-written files."""
    out = io.StringIO()
    _yaml().dump(_styled(document, top=True), out)
    return out.getvalue()


def _update_map(node: CommentedMap, new: dict[str, Any]) -> None:
    for key in [k for k in node if k not in new]:
        del node[key]
    for key, value in new.items():
        node[key] = _merged(node[key], value) if key in node else _styled(value)


def _merged(old: Any, new: Any) -> Any:
    """``new``, reusing ``old``'s node (and so its comments and style) where it can."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        _update_map(old, new)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        _update_seq(old, new)
        return old
    if not isinstance(old, CommentedMap | CommentedSeq) and type(old) is not bool \
            and old == new and type(new) is not bool:
        return old  # the same value as written: keep its quoting
    return _styled(new)


def _update_seq(node: CommentedSeq, new: list[Any]) -> None:
    named = {item.get("name"): item for item in node
             if isinstance(item, CommentedMap) and isinstance(item.get("name"), str)}
    if named and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in new):
        items = [_merged(named[i["name"]], i) if i["name"] in named else _styled(i, top=True)
                 for i in new]
    else:
        items = [_merged(node[i], v) if i < len(node) else _styled(v, top=True)
                 for i, v in enumerate(new)]
    del node[len(items):]
    for i, item in enumerate(items):
        if i < len(node):
            node[i] = item
        else:
            node.append(item)


def _styled(value: Any, *, top: bool = False) -> Any:
    """New data as the hand-written files write it: block maps at the top and for list
    items, small flat maps and lists of scalars inline."""
    if isinstance(value, dict):
        mapping = CommentedMap((k, _styled(v)) for k, v in value.items())
        if not top and _flat(value) and len(value) <= 4:
            mapping.fa.set_flow_style()
        else:
            mapping.fa.set_block_style()
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v, top=True) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _flat(value: dict[str, Any]) -> bool:
    return all(not isinstance(v, list) and (not isinstance(v, dict) or _flat(v))
               for v in value.values())


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
