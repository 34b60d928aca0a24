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

from dataclasses import dataclass, field

from goldenpath.errors import Conflict
from goldenpath.gitops import layout, ownership
from goldenpath.gitops.ownership import UnitState
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec


@dataclass(frozen=True)
class BaseTree:
    """What a commit holds: every path's blob id and goldenpath's ownership records."""

    blobs: dict[str, str]
    records: dict[str, UnitState]

    @classmethod
    def empty(cls) -> BaseTree:
        return cls({}, {})

    def owned(self) -> set[str]:
        paths = {p for record in self.records.values() for p in record.blobs}
        return paths | {ownership.manifest_path(u) for u in self.records}


@dataclass(frozen=True)
class Drift:
    """An owned file whose content is not what goldenpath last wrote."""

    path: str
    recorded: str
    current: str | None  # None: deleted by hand


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


def drift(base: BaseTree) -> list[Drift]:
    found = [
        Drift(path, blob, base.blobs.get(path))
        for record in base.records.values()
        for path, blob in record.blobs.items()
        if base.blobs.get(path) != blob
    ]
    return sorted(found, key=lambda d: d.path)


def reusable(base: BaseTree, inputs: dict[str, str]) -> set[str]:
    """Units (of ``inputs``: unit -> current input digest) the base holds as the current
    inputs render them, untouched by hand: they need not be rendered again."""
    return {
        unit for unit, digest in inputs.items()
        if (record := base.records.get(unit)) is not None
        and record.inputs == digest and _intact(record, base)
    }


def desired(bundle: Bundle, base: BaseTree, inputs: dict[str, str] | None = None,
            reuse: set[str] | None = None) -> dict[str, UnitState]:
    """Every unit of the Bundle, plus the units ``reuse`` as the base records them.

    A rendered unit whose objects match the record and whose files are intact keeps the
    base's blob ids; ``inputs`` (unit -> input digest) are recorded with each unit.
    """
    inputs = inputs or {}
    out = {unit: base.records[unit] for unit in reuse or ()}
    for unit, entries in layout.units(bundle).items():
        fp = ownership.fingerprint(entries)
        record = base.records.get(unit)
        digest = inputs.get(unit, "")
        if record is not None and record.fingerprint == fp and _intact(record, base):
            out[unit] = record if record.inputs == digest else record.with_inputs(digest)
        else:
            out[unit] = layout.unit_state(entries, fp, digest)
    return out


def _intact(record: UnitState, base: BaseTree) -> bool:
    return all(base.blobs.get(path) == blob for path, blob in record.blobs.items())


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
    paths = (path for state in units.values() for path in state.blobs)
    states[layout.LAYOUT_UNIT] = layout.layout_state(spec, paths)
    owned = base.owned()
    result = ChangeSet()
    for unit, state in states.items():
        _unit_changes(unit, state, base, owned, result)
    for unit, record in base.records.items():
        if unit not in states:  # offboarded: remove exactly what it owned
            for path in [*record.blobs, ownership.manifest_path(unit)]:
                _delete(result, base, unit, path)
    return result


def _unit_changes(unit: str, state: UnitState, base: BaseTree, owned: set[str],
                  result: ChangeSet) -> None:
    for path, blob in state.blobs.items():
        if base.blobs.get(path) == blob or path not in state.contents:
            continue  # unchanged, or a unit kept as the base has it (see merge)
        if path in base.blobs and path not in owned:
            raise Conflict(f"{path} exists in the repository but goldenpath does not own it; "
                           "move or delete it, then apply again")
        result.writes[path] = state.contents[path]
        result.unit_of_path[path] = unit
        if path in state.names:
            result.names[path] = state.names[path]
        result.units.add(unit)
    record = base.records.get(unit)
    for path in set(record.blobs if record else ()) - set(state.blobs):
        _delete(result, base, unit, path)
    manifest = ownership.format_manifest(unit, state)
    path = ownership.manifest_path(unit)
    if base.blobs.get(path) != ownership.blob_id(manifest):
        result.writes[path] = manifest
        result.unit_of_path[path] = unit
        result.units.add(unit)


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
