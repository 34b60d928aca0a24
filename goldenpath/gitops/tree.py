"""From a base commit and a Bundle to the set of file changes apply commits.

The work is proportional to what changed, at two levels. A team whose recorded input
digest equals its current one and whose files were not edited by hand is not even
rendered (:func:`reusable`; the caller renders the other teams only). A rendered unit
whose fingerprint matches its record and whose files are intact is taken over from the
base as blob ids, without serialising it. Only changed units are rendered to bytes.

Apply may have to retry on a newer base (someone pushed first). Then only the units this
applier meant to change are rewritten (:func:`merge`), so a concurrent change to another
team is kept, and the same unit changed by both is a Conflict, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from goldenpath.errors import Conflict
from goldenpath.gitops import layout, ownership
from goldenpath.gitops.ownership import UnitState
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec


@dataclass(frozen=True)
class Drift:
    """An owned file whose content is not what goldenpath last wrote."""

    path: str
    recorded: str
    current: str | None  # None: deleted by hand


class BaseTree:
    """What a commit holds: every path's blob id and goldenpath's ownership records.

    Kept in the form apply needs it in, so that a one-team change never walks the whole
    tree: ``records`` (unit -> UnitState, whose path -> blob maps may be read only when
    first used, see :mod:`goldenpath.gitops.base`), the ``drift`` (owned files whose
    content is not what goldenpath recorded, or which are gone) and the ``unowned`` paths
    with their blob ids (files goldenpath does not own, the ownership manifests
    included). Every other path of the tree is owned, intact, and has its record's blob.
    ``blobs`` is that tree as a mapping: a path of a record already read is answered at
    once; any other path reads every record, once (a change that adds files).
    """

    def __init__(self, records: dict[str, UnitState], drift: dict[tuple[str, str], str | None],
                 unowned: dict[str, str]) -> None:
        self.records = records
        #: (unit, path) -> the blob in the tree (None: deleted) of each drifted file
        self._drift = drift
        self._unowned = unowned
        self._drift_by_path = {path: current for (_, path), current in drift.items()}
        #: path -> recorded blob, from every record read so far (``claim``)
        self._claims: dict[str, str] = {}
        self._complete = False
        for record in records.values():
            if isinstance(record.blobs, LazyBlobs):
                record.blobs.bind(self)
            else:
                self._claims.update(record.blobs)
        self.blobs: Mapping[str, str] = _TreeBlobs(self)

    @classmethod
    def empty(cls) -> BaseTree:
        return cls({}, {}, {})

    @classmethod
    def of(cls, blobs: dict[str, str], records: dict[str, UnitState]) -> BaseTree:
        """The analysis of a whole tree (path -> blob) and its ownership records."""
        drift = {(unit, path): blobs.get(path) for unit, record in records.items()
                 for path, blob in record.blobs.items() if blobs.get(path) != blob}
        claimed = {path for record in records.values() for path in record.blobs}
        return cls(records, drift, {p: b for p, b in blobs.items() if p not in claimed})

    def claim(self, blobs: Mapping[str, str]) -> None:
        """A record's paths were read (called by LazyBlobs)."""
        self._claims.update(blobs)

    def blob(self, path: str) -> str | None:
        """The blob id at ``path`` in the tree, or None when the tree has no such file."""
        if path in self._drift_by_path:
            return self._drift_by_path[path]
        found = self._unowned.get(path) or self._claims.get(path)
        if found is None and not self._complete:
            self._read_every_record()
            found = self._claims.get(path)
        return found

    def settled(self) -> BaseTree:
        """This analysis with everything it reads on demand read now (every record's
        paths, what is derived from them), so that from then on it is only read: one
        analysis can then be shared by threads (see goldenpath.services.snapshots)."""
        self._read_every_record()
        _ = self.owned, self.drift, self.drifted_units, self.kept_inputs
        return self

    def _read_every_record(self) -> None:
        for record in self.records.values():
            self._claims.update(record.blobs)
        self._complete = True

    def all_blobs(self) -> dict[str, str]:
        """path -> blob of every file in the tree (reads every record)."""
        self._read_every_record()
        tree = {**self._claims, **self._unowned}
        for path, current in self._drift_by_path.items():
            if current is None:
                tree.pop(path, None)
            else:
                tree[path] = current
        return tree

    @property
    def unowned(self) -> dict[str, str]:
        """Path -> blob of every file goldenpath does not own (manifests included)."""
        return self._unowned

    @property
    def drift_entries(self) -> dict[tuple[str, str], str | None]:
        """(unit, path) -> blob in the tree (None: deleted) of every drifted file."""
        return self._drift

    @cached_property
    def owned(self) -> frozenset[str]:
        """Every path goldenpath owns; built only when a write lands on an existing path
        that the writing unit did not own before."""
        self._read_every_record()
        paths = {p for record in self.records.values() for p in record.blobs}
        return frozenset(paths | {ownership.manifest_path(u) for u in self.records})

    @cached_property
    def drift(self) -> list[Drift]:
        """Owned files whose content is not what goldenpath recorded, sorted by path."""
        found = [Drift(path, self.records[unit].blobs[path], current)
                 for (unit, path), current in self._drift.items()]
        return sorted(found, key=lambda d: d.path)

    @cached_property
    def drifted_units(self) -> frozenset[str]:
        return frozenset(unit for unit, _ in self._drift)

    @cached_property
    def kept_inputs(self) -> frozenset[tuple[str, str]]:
        """(unit, input digest) of every record untouched by hand: what :func:`reusable`
        compares the current input digests with."""
        drifted = self.drifted_units
        return frozenset((unit, record.inputs) for unit, record in self.records.items()
                         if unit not in drifted)

    def intact(self, unit: str) -> bool:
        """No file of ``unit`` was edited or deleted by hand."""
        return unit not in self.drifted_units


class LazyBlobs(Mapping[str, str]):
    """A record's path -> blob map, read by ``read`` when first used; tells ``tree``
    (``BaseTree.claim``) once it is."""

    __slots__ = ("_data", "_read", "_trees")

    def __init__(self, read: Callable[[], dict[str, str]]) -> None:
        self._read: Callable[[], dict[str, str]] | None = read
        self._data: dict[str, str] = {}
        self._trees: list[BaseTree] = []

    def bind(self, tree: BaseTree) -> None:
        """Tell ``tree`` the paths, now if they were read, else when they are."""
        if self._read is None:
            tree.claim(self._data)
        else:
            self._trees.append(tree)

    @property
    def data(self) -> dict[str, str]:
        if self._read is not None:
            self._data, self._read = self._read(), None
            for tree in self._trees:
                tree.claim(self._data)
            self._trees.clear()
        return self._data

    def __getitem__(self, path: str) -> str:
        return self.data[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, path: object) -> bool:
        return path in self.data

    def __eq__(self, other: object) -> bool:
        return self.data == (other.data if isinstance(other, LazyBlobs) else other)

    __hash__ = None  # type: ignore[assignment]


class _TreeBlobs(Mapping[str, str]):
    """``BaseTree.blobs``: the tree as path -> blob, answered by ``BaseTree.blob``."""

    __slots__ = ("_tree",)

    def __init__(self, tree: BaseTree) -> None:
        self._tree = tree

    def __getitem__(self, path: str) -> str:
        found = self._tree.blob(path)
        if found is None:
            raise KeyError(path)
        return found

    def get(self, path: str, default: Any = None) -> Any:  # one lookup, not two
        found = self._tree.blob(path)
        return default if found is None else found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._tree.blob(path) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tree.all_blobs())

    def __len__(self) -> int:
        return len(self._tree.all_blobs())


@dataclass
class ChangeSet:
    """Files to write (path -> bytes) and delete, and the units they belong to."""

    writes: dict[str, bytes] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    unit_of_path: dict[str, str] = field(default_factory=dict)
    #: path -> (kind, namespace/name) of each written object
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.writes or self.deletes)


def reusable(base: BaseTree, inputs: Mapping[str, str]) -> set[str]:
    """Units (of ``inputs``: unit -> current input digest) the base holds as the current
    inputs render them, untouched by hand: they need not be rendered again.

    Asked twice per plan with every unit of 1,000 teams, of which one or two changed: so
    the units that differ are found by set operations in C over the base's
    (unit, input digest) pairs (``BaseTree.kept_inputs``), and taken from the rest."""
    differ = inputs.items() - base.kept_inputs
    return set(inputs).difference(unit for unit, _ in differ)


def desired(bundle: Bundle, base: BaseTree, inputs: dict[str, str] | None = None,
            reuse: set[str] | None = None) -> dict[str, UnitState]:
    """Every unit of the Bundle, plus the units ``reuse`` as the base records them.

    A rendered unit whose objects match the record and whose files are intact keeps the
    base's blob ids; ``inputs`` (unit -> input digest) are recorded with each unit.
    """
    inputs = inputs or {}
    out = {unit: base.records[unit] for unit in reuse or ()}
    for unit, entries in layout.units(bundle).items():
        record = base.records.get(unit)
        intact = record if record is not None and base.intact(unit) else None
        out[unit] = _unit(entries, intact, inputs.get(unit, ""))
    return out


def _unit(entries: layout.Entries, record: UnitState | None, digest: str) -> UnitState:
    """A rendered unit, as ``record`` (its intact base state) when the files are the same.

    A fingerprint that differs from the record for the same files (another marshal
    format) is recorded only when the manifest changes anyway (new inputs), so it never
    makes a commit of its own.
    """
    fp = ownership.fingerprint(entries)
    if record is None:
        return layout.unit_state(entries, fp, digest)
    if record.fingerprint != fp:
        state = layout.unit_state(entries, fp, digest)
        if state.blobs != record.blobs or record.inputs != digest:
            return state
    return record if record.inputs == digest else record.with_inputs(digest)


def merge(
    base: BaseTree, wanted: dict[str, UnitState], only: set[str] | None
) -> dict[str, UnitState]:
    """The units of the next commit: ``wanted`` for the units in ``only`` (all when None),
    the base's record for every other unit. Layout is left out; it is derived."""
    units = set(wanted) | set(base.records)
    units.discard(layout.LAYOUT_UNIT)
    chosen = units if only is None else units & only
    merged = {u: r for u, r in base.records.items() if u not in chosen}
    merged.update({u: wanted[u] for u in chosen if u in wanted})
    merged.pop(layout.LAYOUT_UNIT, None)
    return merged


def changes(spec: PlatformSpec, base: BaseTree, units: dict[str, UnitState]) -> ChangeSet:
    """Writes and deletes that turn ``base`` into ``units`` plus their layout files."""
    states = dict(units)
    states[layout.LAYOUT_UNIT] = _layout(spec, base, units)
    # A unit kept as the base records it had its paths checked when it was written.
    claims: dict[str, str] = {}
    for unit, state in states.items():
        if state is not base.records.get(unit):
            layout.check_paths(claims, unit, state.blobs)
    result = ChangeSet()
    for unit, state in states.items():
        _unit_changes(unit, state, base, result, states)
    for unit, record in base.records.items():
        if unit not in states:  # offboarded: remove exactly what it owned
            for path in [*record.blobs, ownership.manifest_path(unit)]:
                _delete(result, base, unit, path)
    return result


def _layout(spec: PlatformSpec, base: BaseTree, units: dict[str, UnitState]) -> UnitState:
    """The layout files; the kustomizations are regenerated only when some unit's set of
    paths changed (a quota change, the common case, moves no file)."""
    record = base.records.get(layout.LAYOUT_UNIT)
    if record is not None and layout.current(record) and base.intact(layout.LAYOUT_UNIT) \
            and _same_paths(base, units):
        return layout.with_readme(spec, record)
    return layout.layout_state(spec, (path for state in units.values() for path in state.blobs))


def _same_paths(base: BaseTree, units: dict[str, UnitState]) -> bool:
    old = {u: r for u, r in base.records.items() if u != layout.LAYOUT_UNIT}
    return old.keys() == units.keys() and all(
        units[u] is old[u] or units[u].blobs.keys() == old[u].blobs.keys() for u in units)


def _unit_changes(unit: str, state: UnitState, base: BaseTree, result: ChangeSet,
                  states: Mapping[str, UnitState]) -> None:
    record = base.records.get(unit)
    if state is record:
        return  # kept as the base records it: its files and its manifest stay as they are
    # Read first: the tree then knows this unit's paths (see BaseTree.blob).
    before: Mapping[str, str] = record.blobs if record is not None else {}
    for path, blob in state.blobs.items():
        if path not in state.contents:
            continue  # a unit kept as the base has it (see merge)
        if path not in before and path in base.blobs:
            _check_free(path, unit, base, states)
        if base.blobs.get(path) == blob:
            continue  # unchanged
        result.writes[path] = state.contents[path]
        result.unit_of_path[path] = unit
        if path in state.names:
            result.names[path] = state.names[path]
        result.units.add(unit)
    for path in before.keys() - state.blobs.keys():
        _delete(result, base, unit, path)
    manifest = ownership.format_manifest(unit, state)
    path = ownership.manifest_path(unit)
    if base.blobs.get(path) != ownership.blob_id(manifest):
        result.writes[path] = manifest
        result.unit_of_path[path] = unit
        result.units.add(unit)


def _check_free(path: str, unit: str, base: BaseTree, states: Mapping[str, UnitState]) -> None:
    """``unit`` takes a path the base already has: only a file another unit gives up in
    this same change may change hands; anything else is someone else's file."""
    if path not in base.owned:
        raise Conflict(f"{path} exists in the repository but goldenpath does not own it; "
                       "move or delete it, then apply again")
    for other, record in base.records.items():
        keeps = states.get(other)
        if other != unit and path in record.blobs and keeps is not None and path in keeps.blobs:
            raise layout.shared_path(path, other, unit)


def _delete(result: ChangeSet, base: BaseTree, unit: str, path: str) -> None:
    if path in base.blobs:
        result.deletes.add(path)
        result.unit_of_path[path] = unit
        result.units.add(unit)


def check_rebase(old: BaseTree, new: BaseTree, wanted: dict[str, UnitState],
                 intended: set[str]) -> None:
    """Refuse to retry when someone else changed a unit this apply also changes."""
    for unit in sorted(intended - {layout.LAYOUT_UNIT}):
        before, now, mine = old.records.get(unit), new.records.get(unit), wanted.get(unit)
        if now not in (before, mine):
            raise Conflict(f"{unit} was changed by someone else while this apply ran; "
                           "run plan again to see both changes")
