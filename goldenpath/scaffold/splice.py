"""Where a round-trip dump wrote each entry of its block maps, and an edit written by
emitting the entries that change alone and taking every other line from the dump of the
document as it was: how :func:`goldenpath.scaffold.teamfile.replaced` gives the full
round trip's text, byte for byte, at a fraction of its cost (the emitter is pure
Python, and a plan edits the same team file again and again).

ruamel.yaml's emitter writes a block map's entries one after another, each one from the
start of a line: its comments before the key, the key at the map's indentation, the
value, the comments after it. What an entry's lines say depends on the entry alone (the
key, the value's node, the map's comments for that key) and on the emitter's state as it
begins, and that state is the same before every key of a block map that is the value of
a block map's key, down from the document's root: at the start of a line, at the map's
indentation, outside any flow collection, nothing pending. So an entry's lines are the
same wherever it is emitted among such maps, at the same depth, after whatever entry.

:func:`dump` is ruamel.yaml's own dump (the same YAML instance, the same emitter) that
also notes, for each key of each such map, the offset of the line it begins on
(:class:`Block`), and checks at each key that the state is the one above. It answers
None, rather than marks to trust, where that was not seen or where the argument above
was not made: an anchor, an alias or an explicit tag anywhere; a scalar spread over lines
(block scalars, line breaks in a value) or long enough to be folded at the width; a map
with comments at its end (written after its last entry, wherever that goes); a key that
is not a scalar; a key not at the start of a line or with anything pending.

:func:`edited` then makes an edit from such a dump. Entries kept as they were keep their
lines; a block map updated to a non-empty map keeps its key's lines and is taken entry
by entry in turn; every other entry that changes or is added is updated (on a copy) by
the caller's own rules (:class:`Rules`), and those are dumped together in a document of
their own, in the same maps at the same depth, each followed by a stand-in key that ends
its lines; entries removed are left out. Where anything is not as planned (a key that
is no string, a dump refused, marks that do not match) it answers None, and the caller
makes the full round trip.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.events import MappingEndEvent, ScalarEvent, SequenceEndEvent, StreamEndEvent

#: a scalar this long (or with a line break) is refused: the emitter may fold it over lines
LONGEST_SCALAR = 1000
_BREAK = re.compile("[\n\r\x85\u2028\u2029]")


@dataclass
class Block:
    """A block map as dumped: its keys in order, the offset of the line each key's text
    begins on (its comments before the key included), and the maps among its values
    that were dumped as block maps too, by the index of their key."""

    keys: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    children: dict[int, Block] = field(default_factory=dict)


@dataclass(frozen=True)
class Marked:
    """A dump's text and where the keys of the root's block maps begin in it."""

    text: str
    root: Block


@dataclass(frozen=True)
class Rules:
    """How the caller updates a document: ``kept(old, new)`` is true only when
    ``merged(old, new)`` would give ``old`` back untouched; ``merged(old, new)`` is the
    value an entry holding ``old`` is set to for ``new``; ``styled(new)`` the value of
    an added entry; ``yaml()`` the YAML instance the whole document is dumped with."""

    kept: Callable[[Any, Any], bool]
    merged: Callable[[Any, Any], Any]
    styled: Callable[[Any], Any]
    yaml: Callable[[], YAML]


def edited(doc: CommentedMap, base: Marked, document: dict[str, Any],
           rules: Rules) -> str | None:
    """The dump of ``doc`` updated to ``document`` key by key (deleted keys removed,
    the others set to ``rules.merged`` of their value, in place, new ones appended),
    written from ``base``, the marked dump of ``doc`` as it is; None where it cannot
    be written so. ``doc`` is not changed."""
    if not isinstance(document, dict):
        return None
    emitted = _block()
    steps = _plan(doc, document, base.root, emitted, rules)
    if steps is None:
        return None
    fresh = None
    if emitted:
        fresh = dump(rules.yaml(), emitted)
        if fresh is None or not _matches(emitted, fresh.root):
            return None
    pieces = [base.text[:base.root.starts[0]]]
    _Writer(base, fresh, pieces).entries(steps, base.root, len(base.text),
                                         fresh.root if fresh else None)
    return "".join(pieces)


@dataclass(frozen=True)
class _Keep:
    """An entry's lines as they were (the entry's index in its map)."""

    index: int


@dataclass(frozen=True)
class _Into:
    """A block map's key line as it was, then its entries (the key in the emitted
    document, when any of them is emitted)."""

    index: int
    steps: list[_Step]
    key: str | None


#: an entry kept, a map taken entry by entry, or the key of an entry emitted
_Step = _Keep | _Into | str

#: the stand-in keys that end an emitted entry's lines: a key no spec has
_STAND_IN = "\x00splice-"


def _plan(old: CommentedMap, new: dict[str, Any], block: Block, emitted: CommentedMap,
          rules: Rules) -> list[_Step] | None:
    """The steps that make ``old`` (dumped as ``block``) hold ``new``, what is to be
    emitted added to ``emitted``; None when the edit is not one to splice."""
    if not new or len(block.keys) != len(old) or any(
            not isinstance(key, str) or key != mark
            for key, mark in zip(old, block.keys, strict=True)):
        return None
    if any(not isinstance(key, str) or key.startswith(_STAND_IN) for key in [*old, *new]):
        return None
    steps: list[_Step] = []
    for index, (key, value) in enumerate(old.items()):
        if key not in new:
            continue
        if rules.kept(value, new[key]):
            steps.append(_Keep(index))
        elif index in block.children and isinstance(value, CommentedMap) \
                and isinstance(new[key], dict) and new[key]:
            inner = _block()
            below = _plan(value, new[key], block.children[index], inner, rules)
            if below is None:
                return None
            if inner:
                emitted[key] = inner
            steps.append(_Into(index, below, key if inner else None))
        else:
            emitted[key] = copy.deepcopy(value)
            emitted[key] = rules.merged(emitted[key], new[key])  # assigned as the update does
            if key in old.ca.items:
                emitted.ca.items[key] = copy.deepcopy(old.ca.items[key])
            steps.append(_stand_after(emitted, key))
    for key, value in new.items():
        if key not in old:
            emitted[key] = rules.styled(value)
            steps.append(_stand_after(emitted, key))
    return steps


def _stand_after(emitted: CommentedMap, key: str) -> str:
    emitted[f"{_STAND_IN}{len(emitted)}"] = 0
    return key


def _block() -> CommentedMap:
    mapping = CommentedMap()
    mapping.fa.set_block_style()
    return mapping


def _matches(emitted: CommentedMap, block: Block) -> bool:
    """``block`` marks the keys of ``emitted`` and of the block maps among its values."""
    return block.keys == list(emitted) and all(
        index in block.children and _matches(value, block.children[index])
        for index, value in enumerate(emitted.values())
        if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style())


@dataclass(frozen=True)
class _Writer:
    """The edit's text, piece by piece: lines of the document's dump as it was
    (``base``) and of the emitted entries' (``fresh``)."""

    base: Marked
    fresh: Marked | None
    pieces: list[str]

    def entries(self, steps: list[_Step], block: Block, end: int,
                emitted: Block | None) -> None:
        """The entries of ``block`` (whose last one ends at ``end``) that ``steps``
        make; ``emitted``: the same map in the emitted document."""
        for step in steps:
            if isinstance(step, str):
                assert self.fresh is not None and emitted is not None
                at = emitted.keys.index(step)  # its stand-in follows
                self.pieces.append(self.fresh.text[emitted.starts[at]:emitted.starts[at + 1]])
                continue
            start = block.starts[step.index]
            stop = block.starts[step.index + 1] if step.index + 1 < len(block.starts) \
                else end
            if isinstance(step, _Keep):
                self.pieces.append(self.base.text[start:stop])
                continue
            inner = block.children[step.index]
            self.pieces.append(self.base.text[start:inner.starts[0]])
            inner_emitted = None
            if step.key is not None:
                assert emitted is not None
                inner_emitted = emitted.children[emitted.keys.index(step.key)]
            self.entries(step.steps, inner, stop, inner_emitted)


def dump(yaml: YAML, doc: Any) -> Marked | None:
    """``doc`` dumped by ``yaml`` (as ``yaml.dump`` writes it), with its marks; None
    where a mark could not be trusted (see the module's docstring)."""
    text, marks = _marked(yaml, doc)
    return Marked(text, marks.root) if not marks.refused and marks.root is not None else None


def _marked(yaml: YAML, doc: Any) -> tuple[str, _Marks]:
    """The dump and its marks, refused or not (with the reason)."""
    out = _Out()
    yaml.Emitter = _MarkingEmitter
    try:
        yaml.dump(doc, out)
    finally:
        yaml.Emitter = RoundTripEmitter
    text, marks = out.getvalue(), out.marks
    if not all(_at_line_start(text, *spot) for spot in marks.spots):
        marks.refuse("a key's line not as marked")
    return text, marks


def _at_line_start(text: str, start: int, key: int, indent: int) -> bool:
    """The key written at ``key`` is preceded by its indentation alone, on a line at or
    after ``start``, which begins a line."""
    line = key - indent
    return (start == 0 or text[start - 1] == "\n") and start <= line \
        and (line == 0 or text[line - 1] == "\n") and text[line:key] == " " * indent


@dataclass
class _Marks:
    root: Block | None = None
    #: the block maps and sequences being written, innermost last (None: a sequence, or a
    #: map not reached from the root through block maps alone)
    open: list[Block | None] = field(default_factory=list)
    #: the next key's map, and the offset and column where its text began
    pending: tuple[Block, int, int, str] | None = None
    #: (line start, key offset, indentation) of every key, checked on the text at the end
    spots: list[tuple[int, int, int]] = field(default_factory=list)
    #: why the marks are not to be trusted (the first reason seen), or ""
    refused: str = ""

    def refuse(self, reason: str) -> None:
        self.refused = self.refused or reason


class _Out(io.StringIO):
    """The dump's stream, carrying the emitter's marks (ruamel.yaml drops the emitter)."""

    def __init__(self) -> None:
        super().__init__()
        self.marks = _Marks()


class _MarkingEmitter(RoundTripEmitter):
    """ruamel.yaml's round-trip emitter, writing the same text, noting where keys
    begin and refusing what the marks cannot stand for."""

    @property
    def _marks(self) -> _Marks:
        marks: _Marks = self.stream.marks
        return marks

    def emit(self, event: Any) -> None:
        if isinstance(event, ScalarEvent) and (len(event.value) > LONGEST_SCALAR
                                               or _BREAK.search(event.value)):
            self._marks.refuse(f"a scalar over lines or of over {LONGEST_SCALAR} characters")
        super().emit(event)

    def expect_alias(self) -> None:
        self._marks.refuse("an alias")
        super().expect_alias()

    def process_anchor(self, indicator: Any) -> bool:
        if self.event.anchor is not None:
            self._marks.refuse("an anchor")
        written: bool = super().process_anchor(indicator)
        return written

    def process_tag(self) -> None:
        before = self.stream.tell()
        super().process_tag()
        if self.stream.tell() != before:
            self._marks.refuse("an explicit tag")

    def expect_document_start(self, first: bool = False) -> None:
        if isinstance(self.event, StreamEndEvent) and self.open_ended:
            # a "..." would follow whichever entry came last
            self._marks.refuse("an open end")
        super().expect_document_start(first)

    def expect_block_mapping(self) -> None:
        marks = self._marks
        block: Block | None = None
        if not marks.open and marks.root is None:
            block = marks.root = Block()
        elif marks.open and marks.open[-1] is not None:
            parent = marks.open[-1]
            block = parent.children[len(parent.keys) - 1] = Block()  # its last key's value
        marks.open.append(block)  # None: a map in a list, not marked
        super().expect_block_mapping()

    def expect_block_sequence(self) -> None:
        self._marks.open.append(None)
        super().expect_block_sequence()

    def expect_block_sequence_item(self, first: bool = False) -> None:
        if not first and isinstance(self.event, SequenceEndEvent):
            self._marks.open.pop()
        super().expect_block_sequence_item(first)

    def expect_block_mapping_key(self, first: Any = False) -> None:
        marks = self._marks
        block = marks.open[-1]
        if not first and isinstance(self.event, MappingEndEvent):
            if self.event.comment and self.event.comment[1]:
                # written after the last entry, whichever it is
                marks.refuse("comments after a map's last entry")
            marks.open.pop()
        elif not isinstance(self.event, ScalarEvent):
            marks.refuse("a key that is not a scalar")
        elif block is not None:
            marks.pending = (block, self.stream.tell(), self.column, self.event.value)
        super().expect_block_mapping_key(first)

    def write_indent(self) -> None:
        super().write_indent()
        marks = self._marks
        if marks.pending is None:
            return
        block, offset, column, key = marks.pending
        marks.pending = None
        if not (self.column == (self.indent or 0) and self.whitespace and self.indention
                and not self.no_newline and not self.open_ended and not self.flow_level):
            marks.refuse("a key not at a line's start or with something pending")
        # A key begun mid-line (after a value) starts with the line break ending it.
        start = offset if column == 0 else offset + 1
        block.keys.append(key)
        block.starts.append(start)
        marks.spots.append((start, self.stream.tell(), self.column))
