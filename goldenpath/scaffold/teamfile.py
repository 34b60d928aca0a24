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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from goldenpath.errors import SpecError, SpecIssue
from goldenpath.memo import ContentMemo
from goldenpath.scaffold import splice
from goldenpath.spec.yamlio import YamlProblem, check_bounds


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
    doc = _load(yaml, text, file)
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

    The answer is always that of the full round trip (parse, update, dump the whole
    file), byte for byte. It is reached more cheaply where it can be: a text's parse is
    kept (:data:`_PARSED`), with the dump of it unchanged, and an edit emits only the
    entries that change and takes the rest from that dump (:func:`.splice.edited`); and
    the same edit is made once per process (:data:`_EDITS`): the API's submission check,
    the worker's commit of that request and a plan of the same proposal all make it."""
    if _directive(text):
        return _round_trip(text, file, document)
    found: str = _EDITS.get(file, (text, document), lambda edit: _replaced(edit, file))
    return found


def _round_trip(text: str, file: str, document: dict[str, Any]) -> str:
    """The full round trip: ``text`` parsed, updated to ``document`` and dumped whole,
    by the YAML instance that parsed it (a directive's state lives there)."""
    yaml = _yaml()
    doc = _load(yaml, text, file)
    if not isinstance(doc, CommentedMap):
        return new_text(document)
    _update_map(doc, document)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _replaced(edit: tuple[str, dict[str, Any]], file: str) -> str:
    text, document = edit
    parsed = _parsed(text, file)
    if parsed is None:
        return new_text(document)
    if parsed.base is None:
        return _round_trip(text, file, document)
    spliced = splice.edited(parsed.doc, parsed.base, document, _RULES)
    return spliced if spliced is not None else _rewritten(parsed.doc, document)


def _rewritten(doc: CommentedMap, document: dict[str, Any]) -> str:
    """The whole of a copy of ``doc`` updated to ``document`` and dumped."""
    doc = copy.deepcopy(doc)
    _update_map(doc, document)
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


#: edits made before, by the text, the document and its types and key order exactly
#: (see goldenpath.memo): an entry answers only the very same edit. A text with a
#: directive is never kept (as in _PARSED).
_EDITS: ContentMemo[str] = ContentMemo(8 << 20, len)


@dataclass(frozen=True)
class _Parsed:
    """A text parsed, never to be changed or dumped (each edit copies what it changes),
    and the dump of it unchanged with where its keys begin; or (``base`` None) a text
    whose dump could not be marked, which gets the full round trip from a parse of its
    own each time: it has what a copy of a parse may not keep (merge keys, anchors)."""

    doc: CommentedMap
    base: splice.Marked | None
    size: int  # characters kept: the text and the dump


#: texts parsed before, by text: parsing is most of an edit's cost, and a plan edits the
#: same file again and again. Texts with a directive (``%YAML``, ``%TAG``) are not kept:
#: their dump depends on the state the loader keeps. The budget counts each text and
#: its dump.
_PARSED: OrderedDict[str, _Parsed] = OrderedDict()
_PARSED_CHARS = 8 << 20
_PARSED_LOCK = threading.Lock()


def _directive(text: str) -> bool:
    return any(line.startswith("%") for line in text.splitlines())


def _load(yaml: YAML, text: str, file: str) -> Any:
    """``text`` parsed round trip, within the spec loader's bounds: a team file is tenant
    input, so ruamel.yaml builds nothing from a text over the size limit or one whose
    aliases expand beyond the loader's limits, whoever hands it over
    (:func:`goldenpath.spec.yamlio.check_bounds`)."""
    try:
        check_bounds(text)
    except YamlProblem as err:
        raise SpecError([SpecIssue(file, "", str(err))]) from None
    try:
        return yaml.load(text)
    except YAMLError as err:
        raise SpecError([SpecIssue(file, "", f"invalid YAML: {err}")]) from err


def _parsed(text: str, file: str) -> _Parsed | None:
    """``text`` (without a directive) parsed, from :data:`_PARSED` when it was before;
    None when it does not hold a map."""
    with _PARSED_LOCK:
        found = _PARSED.get(text)
        if found is not None:
            _PARSED.move_to_end(text)
            return found
    yaml = _yaml()
    doc = _load(yaml, text, file)
    if not isinstance(doc, CommentedMap):
        return None
    kept = copy.deepcopy(doc)
    base = splice.dump(yaml, doc)  # doc is spent: a dump changes its comments
    parsed = _Parsed(kept if base is not None else CommentedMap(), base,
                     len(text) + (len(base.text) if base is not None else 0))
    if parsed.size <= _PARSED_CHARS:
        with _PARSED_LOCK:
            _PARSED[text] = parsed
            while sum(entry.size for entry in _PARSED.values()) > _PARSED_CHARS:
                _PARSED.popitem(last=False)
    return parsed


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


def _kept(old: Any, new: Any) -> bool:
    """``_merged(old, new)`` would give ``old`` back untouched (it follows _merged,
    _update_map and _update_seq step by step; any doubt answers False)."""
    if isinstance(old, CommentedMap):
        return isinstance(new, dict) and len(new) == len(old) \
            and all(key in new and _kept(value, new[key]) for key, value in old.items())
    if isinstance(old, CommentedSeq):
        if not isinstance(new, list) or len(new) != len(old):
            return False
        named = _named(old)
        if named and _all_named(new):
            return all(named.get(n["name"]) is o and _kept(o, n)
                   for o, n in zip(old, new, strict=True))
        return all(_kept(o, n) for o, n in zip(old, new, strict=True))
    return type(old) is not bool and type(new) is not bool and bool(old == new)


def _update_seq(node: CommentedSeq, new: list[Any]) -> None:
    named = _named(node)
    if named and _all_named(new):
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


def _named(node: CommentedSeq) -> dict[str, CommentedMap]:
    """The maps of a list by their ``name`` (the last of a name wins)."""
    return {item.get("name"): item for item in node
            if isinstance(item, CommentedMap) and isinstance(item.get("name"), str)}


def _all_named(new: list[Any]) -> bool:
    return all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in new)


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


#: how an edit updates a document, for the splice
_RULES = splice.Rules(kept=_kept, merged=_merged, styled=_styled, yaml=_yaml)


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
